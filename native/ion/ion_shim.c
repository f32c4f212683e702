/*
 * LD_PRELOAD=libudalloc-ion.so: /dev/ion for a legacy program on a kernel without ION. open() of
 * /dev/ion gives an fd of the shim's own (a memfd); ioctl() on it answers ION_IOC_HEAP_QUERY and
 * ION_IOC_ALLOC from the ION map (ion_core.c), everything else goes to the kernel. A static
 * binary resolves these calls inside itself: it cannot be preloaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ion_core.h"

/* The calls the shim takes over: the only symbols it exports. */
#define INTERPOSE __attribute__((visibility("default")))

static int is_ion_path(const char *path) {
  return path && strcmp(path, "/dev/ion") == 0;
}

static int open_mode(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, int) : 0;
}

static int do_openat(int dirfd, const char *path, int flags, int mode) {
  if (is_ion_path(path)) return ion_core_open(flags);
  return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

INTERPOSE int open(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  int mode = open_mode(flags, ap);
  va_end(ap);
  return do_openat(AT_FDCWD, path, flags, mode);
}

INTERPOSE int open64(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  int mode = open_mode(flags, ap);
  va_end(ap);
  return do_openat(AT_FDCWD, path, flags | O_LARGEFILE, mode);
}

INTERPOSE int openat(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  int mode = open_mode(flags, ap);
  va_end(ap);
  return do_openat(dirfd, path, flags, mode);
}

INTERPOSE int openat64(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  int mode = open_mode(flags, ap);
  va_end(ap);
  return do_openat(dirfd, path, flags | O_LARGEFILE, mode);
}

INTERPOSE int ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  if (!ion_core_is_ion(fd)) return (int)syscall(SYS_ioctl, fd, request, arg);
  int ret;
  if (request == ION_IOC_HEAP_QUERY) ret = ion_core_heap_query(arg);
  else if (request == ION_IOC_ALLOC) ret = ion_core_alloc(arg);
  else ret = -ENOTTY;
  if (ret < 0) {
    errno = -ret;
    return -1;
  }
  return ret;
}

INTERPOSE int close(int fd) {
  ion_core_forget(fd);
  return (int)syscall(SYS_close, fd);
}
