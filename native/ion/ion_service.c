/*
 * A `service` heap's allocation: the udalloc service's Allocate call (org.udalloc.Allocator1, the
 * call every client makes), so the legacy program is charged to its user and held to its quotas.
 * The service's errors as ION errnos: no service -> ECONNREFUSED (the caller then allocates
 * directly), a quota or the CMA reserve or no memory -> ENOMEM, a policy -> EACCES, a request the
 * service refuses -> EINVAL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <dbus/dbus.h>

#define NAME "org.udalloc.Allocator1"

static int errno_of(const char *name) {
  if (!name) return EIO;
  if (strcmp(name, DBUS_ERROR_SERVICE_UNKNOWN) == 0 || strcmp(name, DBUS_ERROR_NAME_HAS_NO_OWNER) == 0 || strcmp(name, DBUS_ERROR_NO_SERVER) == 0 ||
      strcmp(name, DBUS_ERROR_FILE_NOT_FOUND) == 0 || strcmp(name, DBUS_ERROR_NO_REPLY) == 0)
    return ECONNREFUSED;
  if (strcmp(name, NAME ".Error.QuotaExceeded") == 0 || strcmp(name, NAME ".Error.ReserveKept") == 0 || strcmp(name, NAME ".Error.OutOfMemory") == 0) return ENOMEM;
  if (strcmp(name, NAME ".Error.PolicyDenied") == 0) return EACCES;
  if (strcmp(name, NAME ".Error.BadRequest") == 0 || strcmp(name, NAME ".Error.Conflict") == 0) return EINVAL;
  return EIO;
}

static void say(char *why, size_t len, const DBusError *err) {
  snprintf(why, len, "%s", err->message ? err->message : err->name);
  /* The service's message ends with a "details:" line of JSON: the first line is the sentence. */
  char *nl = strchr(why, '\n');
  if (nl) *nl = '\0';
}

int ion_service_alloc(const char *bus, const char *request, int *fd, char *why, size_t whylen) {
  DBusError err;
  dbus_error_init(&err);
  DBusConnection *conn;
  if (!bus[0] || strcmp(bus, "system") == 0) conn = dbus_bus_get_private(DBUS_BUS_SYSTEM, &err);
  else {
    conn = dbus_connection_open_private(bus, &err);
    if (conn && !dbus_bus_register(conn, &err)) {
      dbus_connection_close(conn);
      dbus_connection_unref(conn);
      conn = NULL;
    }
  }
  if (!conn) {
    say(why, whylen, &err);
    dbus_error_free(&err);
    return -ECONNREFUSED;
  }
  dbus_connection_set_exit_on_disconnect(conn, FALSE);
  int ret = -EIO;
  DBusMessage *reply = NULL;
  DBusMessage *call = dbus_message_new_method_call(NAME, "/org/udalloc/Allocator1", NAME, "Allocate");
  DBusMessageIter args, options;
  if (!call) goto out;
  dbus_message_iter_init_append(call, &args);
  if (!dbus_message_iter_append_basic(&args, DBUS_TYPE_STRING, &request) || !dbus_message_iter_open_container(&args, DBUS_TYPE_ARRAY, "{sv}", &options) ||
      !dbus_message_iter_close_container(&args, &options))
    goto out;
  reply = dbus_connection_send_with_reply_and_block(conn, call, 30000, &err);
  if (!reply) {
    ret = -errno_of(err.name);
    say(why, whylen, &err);
    goto out;
  }
  DBusMessageIter it, fds;
  if (!dbus_message_iter_init(reply, &it) || dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_STRING || !dbus_message_iter_next(&it) ||
      dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_ARRAY) {
    snprintf(why, whylen, "the service's reply is not (s, ah)");
    goto out;
  }
  dbus_message_iter_recurse(&it, &fds);
  int got = -1, n = 0;
  while (dbus_message_iter_get_arg_type(&fds) == DBUS_TYPE_UNIX_FD) {
    int received = -1;
    dbus_message_iter_get_basic(&fds, &received); /* a new fd, ours to close */
    if (n++ == 0) got = received;
    else syscall(SYS_close, received);
    dbus_message_iter_next(&fds);
  }
  if (n != 1) {
    if (got >= 0) syscall(SYS_close, got);
    snprintf(why, whylen, "the service handed out %d fds for one buffer", n);
    goto out;
  }
  *fd = got;
  ret = 0;
out:
  if (reply) dbus_message_unref(reply);
  if (call) dbus_message_unref(call);
  dbus_error_free(&err);
  dbus_connection_close(conn);
  dbus_connection_unref(conn);
  return ret;
}
