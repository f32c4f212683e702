/* Helpers shared by the binding's source files (udalloc_native.c defines them). */
#ifndef UDALLOC_NATIVE_H
#define UDALLOC_NATIVE_H
#include <stdint.h>
#include <node_api.h>

napi_value udalloc_throw_errno(napi_env env, const char *op, int e);
int udalloc_arg_i32(napi_env env, napi_value v, int32_t *out);
int udalloc_arg_u64(napi_env env, napi_value v, uint64_t *out);
napi_value udalloc_make_i32(napi_env env, int32_t v);
/* Sets obj[name] = number. Returns 0 on failure (an exception is then pending). */
int udalloc_put_number(napi_env env, napi_value obj, const char *name, double value);
int udalloc_put_string(napi_env env, napi_value obj, const char *name, const char *value, size_t max);

/* v4l2.c */
void udalloc_register_v4l2(napi_env env, napi_value exports);
/* drm.c */
void udalloc_register_drm(napi_env env, napi_value exports);
#endif
