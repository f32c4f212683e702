/*
 * A drop-in libion.so for programs linked against Android's libion: its functions answered by the
 * ION map (ion_core.c) on a kernel without /dev/ion. Errors as libion returns them: a negative
 * errno (ion_open: -1 with errno set).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ion_core.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT int ion_open(void) {
  return ion_core_open(O_RDONLY | O_CLOEXEC);
}

EXPORT int ion_close(int fd) {
  ion_core_forget(fd);
  return syscall(SYS_close, fd) < 0 ? -errno : 0;
}

/* Always the 4.12+ ABI: there is no legacy handle interface. */
EXPORT int ion_is_legacy(int fd) {
  (void)fd;
  return 0;
}

EXPORT int ion_alloc_fd(int fd, size_t len, size_t align, unsigned int heap_mask, unsigned int flags, int *handle_fd) {
  (void)align; /* ignored by 4.12+ ION too */
  if (!handle_fd) return -EINVAL;
  if (!ion_core_is_ion(fd)) return -ENOTTY;
  struct ion_allocation_data data = {.len = len, .heap_id_mask = heap_mask, .flags = flags};
  int ret = ion_core_alloc(&data);
  if (ret < 0) return ret;
  *handle_fd = (int)data.fd;
  return 0;
}

EXPORT int ion_query_heap_cnt(int fd, int *cnt) {
  if (!cnt) return -EINVAL;
  if (!ion_core_is_ion(fd)) return -ENOTTY;
  struct ion_heap_query query = {0};
  int ret = ion_core_heap_query(&query);
  if (ret < 0) return ret;
  *cnt = (int)query.cnt;
  return 0;
}

EXPORT int ion_query_get_heaps(int fd, int cnt, void *buffers) {
  if (!buffers || cnt <= 0) return -EINVAL;
  if (!ion_core_is_ion(fd)) return -ENOTTY;
  struct ion_heap_query query = {.cnt = (uint32_t)cnt, .heaps = (uint64_t)(uintptr_t)buffers};
  return ion_core_heap_query(&query);
}
