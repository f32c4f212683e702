/* Helpers shared by the binding's source files and modules (declared in udalloc_native.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "udalloc_native.h"

static const char *errno_name(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EBADF: return "EBADF";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case ENOSPC: return "ENOSPC";
    case EBADFD: return "EBADFD";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EAGAIN: return "EAGAIN";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EPIPE: return "EPIPE";
    case ENXIO: return "ENXIO";
    default: return "EIO";
  }
}

napi_value udalloc_throw_errno(napi_env env, const char *op, int e) {
  char message[128];
  snprintf(message, sizeof message, "%s: %s (%s)", op, errno_name(e), strerror(e));
  napi_throw_error(env, errno_name(e), message);
  return NULL;
}

int udalloc_arg_i32(napi_env env, napi_value v, int32_t *out) { return napi_get_value_int32(env, v, out) == napi_ok; }

int udalloc_arg_u64(napi_env env, napi_value v, uint64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d < 0 || d > 9007199254740991.0) return 0;
  *out = (uint64_t)d;
  return 1;
}

napi_value udalloc_make_i32(napi_env env, int32_t v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

int udalloc_put_number(napi_env env, napi_value obj, const char *name, double value) {
  napi_value v;
  return napi_create_double(env, value, &v) == napi_ok && napi_set_named_property(env, obj, name, v) == napi_ok;
}

int udalloc_put_string(napi_env env, napi_value obj, const char *name, const char *value, size_t max) {
  napi_value v;
  return napi_create_string_utf8(env, value, strnlen(value, max), &v) == napi_ok && napi_set_named_property(env, obj, name, v) == napi_ok;
}
