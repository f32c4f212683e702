/*
 * udalloc's native binding: the few syscalls Node cannot make itself (ioctl, mmap, memfd seals).
 * Everything else (open, close, fstat, ftruncate, reading fdinfo) stays in JavaScript with node:fs.
 *
 * Every ioctl number and struct layout comes from the kernel's uapi headers (linux-libc-dev) and
 * is checked at compile time; ION, removed from Linux in 5.11, is declared here from AOSP's
 * ion_4.12.h and its numbers are checked against the recorded ABI (see the static asserts).
 * Errors are thrown as Error objects with `code` set to the errno name ("ENOMEM", "EINVAL", ...).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#include <node_api.h>

#include "udalloc_native.h"

/* ---- Layouts checked against the uapi headers --------------------------------------------- */
_Static_assert(sizeof(struct dma_heap_allocation_data) == 24, "dma_heap_allocation_data is 24 bytes");
_Static_assert(offsetof(struct dma_heap_allocation_data, len) == 0, "len at 0");
_Static_assert(offsetof(struct dma_heap_allocation_data, fd) == 8, "fd at 8");
_Static_assert(offsetof(struct dma_heap_allocation_data, fd_flags) == 12, "fd_flags at 12");
_Static_assert(offsetof(struct dma_heap_allocation_data, heap_flags) == 16, "heap_flags at 16");
_Static_assert(DMA_HEAP_IOCTL_ALLOC == 0xC0184800u, "DMA_HEAP_IOCTL_ALLOC");
_Static_assert(sizeof(struct dma_buf_sync) == 8, "dma_buf_sync is 8 bytes");
_Static_assert(DMA_BUF_IOCTL_SYNC == 0x40086200u, "DMA_BUF_IOCTL_SYNC");
_Static_assert(DMA_BUF_SYNC_READ == 1 && DMA_BUF_SYNC_WRITE == 2 && DMA_BUF_SYNC_END == 4, "sync flags");
_Static_assert(DMA_BUF_NAME_LEN == 32, "DMA_BUF_NAME_LEN");
_Static_assert(sizeof(struct udmabuf_create) == 24, "udmabuf_create is 24 bytes");
_Static_assert(offsetof(struct udmabuf_create, memfd) == 0 && offsetof(struct udmabuf_create, flags) == 4 &&
               offsetof(struct udmabuf_create, offset) == 8 && offsetof(struct udmabuf_create, size) == 16, "udmabuf_create layout");
_Static_assert(UDMABUF_CREATE == 0x40187542u, "UDMABUF_CREATE");
#ifdef DMA_BUF_IOCTL_EXPORT_SYNC_FILE
_Static_assert(sizeof(struct dma_buf_export_sync_file) == 8, "dma_buf_export_sync_file is 8 bytes");
_Static_assert(DMA_BUF_IOCTL_EXPORT_SYNC_FILE == 0xC0086202u, "DMA_BUF_IOCTL_EXPORT_SYNC_FILE");
#endif

/* ---- ION, 4.12+ ABI: ion_abi.h (shared with native/ion) --------------------------------- */
#include "ion_abi.h"

/* ---- Helpers (helpers.c, shared with the DRM module) ------------------------------------- */
#define throw_errno udalloc_throw_errno

#define CHECK(call)                                                                    \
  do {                                                                                 \
    if ((call) != napi_ok) {                                                           \
      napi_throw_error(env, "EINVAL", "udalloc native: bad arguments for " #call);     \
      return NULL;                                                                     \
    }                                                                                  \
  } while (0)

#define arg_i32 udalloc_arg_i32
#define arg_u64 udalloc_arg_u64
#define make_i32 udalloc_make_i32

#define ARGS(n)                                                     \
  size_t argc = n;                                                  \
  napi_value argv[n];                                               \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));      \
  if (argc < n) {                                                   \
    napi_throw_error(env, "EINVAL", "udalloc native: missing arguments"); \
    return NULL;                                                    \
  }

/* dmaHeapAlloc(heapFd, len, fdFlags, heapFlags) -> dma-buf fd */
static napi_value dma_heap_alloc(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t heap_fd, fd_flags;
  uint64_t len, heap_flags;
  if (!arg_i32(env, argv[0], &heap_fd) || !arg_u64(env, argv[1], &len) || !arg_i32(env, argv[2], &fd_flags) || !arg_u64(env, argv[3], &heap_flags))
    return throw_errno(env, "DMA_HEAP_IOCTL_ALLOC", EINVAL);
  struct dma_heap_allocation_data data = {.len = len, .fd = 0, .fd_flags = (uint32_t)fd_flags, .heap_flags = heap_flags};
  if (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &data) < 0) return throw_errno(env, "DMA_HEAP_IOCTL_ALLOC", errno);
  return make_i32(env, (int32_t)data.fd);
}

/* dmaBufSync(fd, flags) */
static napi_value dma_buf_sync(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, flags;
  if (!arg_i32(env, argv[0], &fd) || !arg_i32(env, argv[1], &flags)) return throw_errno(env, "DMA_BUF_IOCTL_SYNC", EINVAL);
  struct dma_buf_sync sync = {.flags = (uint64_t)(uint32_t)flags};
  if (ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) < 0) return throw_errno(env, "DMA_BUF_IOCTL_SYNC", errno);
  return NULL;
}

/* dmaBufSetName(fd, name) */
static napi_value dma_buf_set_name(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  char name[DMA_BUF_NAME_LEN + 8];
  size_t len = 0;
  if (!arg_i32(env, argv[0], &fd) || napi_get_value_string_utf8(env, argv[1], name, sizeof name, &len) != napi_ok) return throw_errno(env, "DMA_BUF_SET_NAME", EINVAL);
  if (ioctl(fd, DMA_BUF_SET_NAME, name) < 0) return throw_errno(env, "DMA_BUF_SET_NAME", errno);
  return NULL;
}

/* dmaBufExportSyncFile(fd, flags) -> sync_file fd */
static napi_value dma_buf_export_sync_file(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, flags;
  if (!arg_i32(env, argv[0], &fd) || !arg_i32(env, argv[1], &flags)) return throw_errno(env, "DMA_BUF_IOCTL_EXPORT_SYNC_FILE", EINVAL);
#ifdef DMA_BUF_IOCTL_EXPORT_SYNC_FILE
  struct dma_buf_export_sync_file arg = {.flags = (uint32_t)flags, .fd = -1};
  if (ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &arg) < 0) return throw_errno(env, "DMA_BUF_IOCTL_EXPORT_SYNC_FILE", errno);
  return make_i32(env, arg.fd);
#else
  return throw_errno(env, "DMA_BUF_IOCTL_EXPORT_SYNC_FILE", ENOTTY);
#endif
}

/* A mapping owned by an external ArrayBuffer: unmapped by munmap() or, failing that, by the GC. */
struct mapping {
  void *addr;
  size_t len;
  int unmapped;
  struct mapping *next;
};

/* Live mappings, so munmap() can mark a record the GC finalizer will later see (main thread only). */
static struct mapping *mappings;

static struct mapping *find_mapping(void *addr) {
  for (struct mapping *m = mappings; m; m = m->next)
    if (m->addr == addr && !m->unmapped) return m;
  return NULL;
}

static void finalize_mapping(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  struct mapping *m = hint;
  if (!m->unmapped) munmap(m->addr, m->len);
  for (struct mapping **p = &mappings; *p; p = &(*p)->next)
    if (*p == m) {
      *p = m->next;
      break;
    }
  free(m);
}

/* mmap(fd, len, writable) -> ArrayBuffer backed by the mapping */
static napi_value map_fd(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd;
  uint64_t len;
  bool writable;
  if (!arg_i32(env, argv[0], &fd) || !arg_u64(env, argv[1], &len) || napi_get_value_bool(env, argv[2], &writable) != napi_ok || len == 0) return throw_errno(env, "mmap", EINVAL);
  void *addr = mmap(NULL, len, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) return throw_errno(env, "mmap", errno);
  struct mapping *m = calloc(1, sizeof *m);
  if (!m) {
    munmap(addr, len);
    return throw_errno(env, "mmap", ENOMEM);
  }
  m->addr = addr;
  m->len = len;
  m->next = mappings;
  mappings = m;
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, addr, len, finalize_mapping, m, &buffer) != napi_ok) {
    mappings = m->next;
    munmap(addr, len);
    free(m);
    return throw_errno(env, "mmap", ENOMEM);
  }
  return buffer;
}

/* munmap(arrayBuffer): detaches the ArrayBuffer first, so JavaScript can never touch the pages after. */
static napi_value unmap_buffer(napi_env env, napi_callback_info info) {
  ARGS(1);
  void *data;
  size_t len;
  bool detached = false;
  CHECK(napi_is_detached_arraybuffer(env, argv[0], &detached));
  if (detached) return throw_errno(env, "munmap", EINVAL);
  CHECK(napi_get_arraybuffer_info(env, argv[0], &data, &len));
  struct mapping *m = find_mapping(data);
  if (!m) return throw_errno(env, "munmap", EINVAL); /* not one of our mappings */
  CHECK(napi_detach_arraybuffer(env, argv[0]));
  /* The finalizer still owns the record; it sees the flag and does not unmap again. */
  m->unmapped = 1;
  if (munmap(m->addr, m->len) < 0) return throw_errno(env, "munmap", errno);
  return NULL;
}

/* close(fd): no retry on EINTR (Linux releases the fd either way). */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_i32(env, argv[0], &fd)) return throw_errno(env, "close", EINVAL);
  if (close(fd) < 0 && errno != EINTR) return throw_errno(env, "close", errno);
  return NULL;
}

/* dup(fd) -> a new fd for the same open file, close-on-exec */
static napi_value dup_fd(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_i32(env, argv[0], &fd)) return throw_errno(env, "dup", EINVAL);
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return throw_errno(env, "dup", errno);
  return make_i32(env, copy);
}

/* memfdCreate(name, flags) -> fd */
static napi_value memfd(napi_env env, napi_callback_info info) {
  ARGS(2);
  char name[250];
  size_t len;
  int32_t flags;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok || !arg_i32(env, argv[1], &flags)) return throw_errno(env, "memfd_create", EINVAL);
  int fd = memfd_create(name, (unsigned)flags);
  if (fd < 0) return throw_errno(env, "memfd_create", errno);
  return make_i32(env, fd);
}

/* addSeals(fd, seals) */
static napi_value add_seals(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, seals;
  if (!arg_i32(env, argv[0], &fd) || !arg_i32(env, argv[1], &seals)) return throw_errno(env, "F_ADD_SEALS", EINVAL);
  if (fcntl(fd, F_ADD_SEALS, seals) < 0) return throw_errno(env, "F_ADD_SEALS", errno);
  return NULL;
}

/* inotifyInit() -> a non-blocking, close-on-exec inotify fd */
static napi_value inotify_init_fd(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return throw_errno(env, "inotify_init1", errno);
  napi_value out;
  CHECK(napi_create_int32(env, fd, &out));
  return out;
}

/* inotifyWatchGone(inotifyFd, path) -> watch descriptor on path's inode; its IN_IGNORED says the inode went */
static napi_value inotify_watch_gone(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  char path[256];
  size_t len;
  if (!arg_i32(env, argv[0], &fd) || napi_get_value_string_utf8(env, argv[1], path, sizeof path, &len) != napi_ok) return throw_errno(env, "inotify_add_watch", EINVAL);
  int wd = inotify_add_watch(fd, path, IN_DELETE_SELF);
  if (wd < 0) return throw_errno(env, "inotify_add_watch", errno);
  napi_value out;
  CHECK(napi_create_int32(env, wd, &out));
  return out;
}

/* inotifyDrain(inotifyFd) -> watch descriptors whose inode went (IN_IGNORED), until EAGAIN */
static napi_value inotify_drain(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_i32(env, argv[0], &fd)) return throw_errno(env, "inotify read", EINVAL);
  napi_value out;
  CHECK(napi_create_array(env, &out));
  uint32_t n = 0;
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t got = read(fd, buf, sizeof buf);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return throw_errno(env, "inotify read", errno);
    }
    if (got == 0) break;
    for (char *p = buf; p < buf + got;) {
      const struct inotify_event *ev = (const struct inotify_event *)p;
      p += sizeof(struct inotify_event) + ev->len;
      if (!(ev->mask & IN_IGNORED)) continue;
      napi_value wd;
      CHECK(napi_create_int32(env, ev->wd, &wd));
      CHECK(napi_set_element(env, out, n++, wd));
    }
  }
  return out;
}

/* inotifyUnwatch(inotifyFd, wd): inotify_rm_watch; a watch already gone with its inode is not an error */
static napi_value inotify_unwatch(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, wd;
  if (!arg_i32(env, argv[0], &fd) || !arg_i32(env, argv[1], &wd)) return throw_errno(env, "inotify_rm_watch", EINVAL);
  if (inotify_rm_watch(fd, wd) < 0 && errno != EINVAL) return throw_errno(env, "inotify_rm_watch", errno);
  return NULL;
}

/* udmabufCreate(devFd, memfd, offset, size, flags) -> dma-buf fd (the ioctl's return value) */
static napi_value udmabuf_create(napi_env env, napi_callback_info info) {
  ARGS(5);
  int32_t dev, mfd, flags;
  uint64_t offset, size;
  if (!arg_i32(env, argv[0], &dev) || !arg_i32(env, argv[1], &mfd) || !arg_u64(env, argv[2], &offset) || !arg_u64(env, argv[3], &size) || !arg_i32(env, argv[4], &flags)) return throw_errno(env, "UDMABUF_CREATE", EINVAL);
  struct udmabuf_create create = {.memfd = (uint32_t)mfd, .flags = (uint32_t)flags, .offset = offset, .size = size};
  int fd = ioctl(dev, UDMABUF_CREATE, &create);
  if (fd < 0) return throw_errno(env, "UDMABUF_CREATE", errno);
  return make_i32(env, fd);
}

/* ionHeapQuery(ionFd) -> [{ name, type, heapId }] */
static napi_value ion_heap_query(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!arg_i32(env, argv[0], &fd)) return throw_errno(env, "ION_IOC_HEAP_QUERY", EINVAL);
  struct ion_heap_query q = {0};
  if (ioctl(fd, ION_IOC_HEAP_QUERY, &q) < 0) return throw_errno(env, "ION_IOC_HEAP_QUERY", errno);
  uint32_t cnt = q.cnt > 32 ? 32 : q.cnt; /* ION_NUM_HEAP_IDS */
  struct ion_heap_data heaps[32];
  memset(heaps, 0, sizeof heaps);
  q.cnt = cnt;
  q.heaps = (uint64_t)(uintptr_t)heaps;
  if (cnt > 0 && ioctl(fd, ION_IOC_HEAP_QUERY, &q) < 0) return throw_errno(env, "ION_IOC_HEAP_QUERY", errno);
  napi_value out;
  CHECK(napi_create_array_with_length(env, q.cnt, &out));
  for (uint32_t i = 0; i < q.cnt && i < cnt; i++) {
    napi_value h, v;
    CHECK(napi_create_object(env, &h));
    heaps[i].name[sizeof heaps[i].name - 1] = 0;
    CHECK(napi_create_string_utf8(env, heaps[i].name, NAPI_AUTO_LENGTH, &v));
    CHECK(napi_set_named_property(env, h, "name", v));
    CHECK(napi_create_uint32(env, heaps[i].type, &v));
    CHECK(napi_set_named_property(env, h, "type", v));
    CHECK(napi_create_uint32(env, heaps[i].heap_id, &v));
    CHECK(napi_set_named_property(env, h, "heapId", v));
    CHECK(napi_set_element(env, out, i, h));
  }
  return out;
}

/* ionAlloc(ionFd, len, heapIdMask, flags) -> dma-buf fd */
static napi_value ion_alloc(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, mask, flags;
  uint64_t len;
  if (!arg_i32(env, argv[0], &fd) || !arg_u64(env, argv[1], &len) || !arg_i32(env, argv[2], &mask) || !arg_i32(env, argv[3], &flags)) return throw_errno(env, "ION_IOC_ALLOC", EINVAL);
  struct ion_allocation_data data = {.len = len, .heap_id_mask = (uint32_t)mask, .flags = (uint32_t)flags};
  if (ioctl(fd, ION_IOC_ALLOC, &data) < 0) return throw_errno(env, "ION_IOC_ALLOC", errno);
  return make_i32(env, (int32_t)data.fd);
}

/* constants(): the numbers as compiled, for the JavaScript side and the ABI tests. */
static napi_value constants(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out, v;
  CHECK(napi_create_object(env, &out));
#define PUT(name, value)                                   \
  CHECK(napi_create_double(env, (double)(value), &v));    \
  CHECK(napi_set_named_property(env, out, name, v));
  PUT("DMA_HEAP_IOCTL_ALLOC", DMA_HEAP_IOCTL_ALLOC);
  PUT("DMA_HEAP_VALID_FD_FLAGS", DMA_HEAP_VALID_FD_FLAGS);
  PUT("DMA_HEAP_VALID_HEAP_FLAGS", DMA_HEAP_VALID_HEAP_FLAGS);
  PUT("DMA_BUF_IOCTL_SYNC", DMA_BUF_IOCTL_SYNC);
  PUT("DMA_BUF_SET_NAME", DMA_BUF_SET_NAME);
  PUT("DMA_BUF_NAME_LEN", DMA_BUF_NAME_LEN);
#ifdef DMA_BUF_IOCTL_EXPORT_SYNC_FILE
  PUT("DMA_BUF_IOCTL_EXPORT_SYNC_FILE", DMA_BUF_IOCTL_EXPORT_SYNC_FILE);
#endif
  PUT("UDMABUF_CREATE", UDMABUF_CREATE);
  PUT("UDMABUF_FLAGS_CLOEXEC", UDMABUF_FLAGS_CLOEXEC);
  PUT("ION_IOC_ALLOC", ION_IOC_ALLOC);
  PUT("ION_IOC_HEAP_QUERY", ION_IOC_HEAP_QUERY);
  PUT("sizeof_dma_heap_allocation_data", sizeof(struct dma_heap_allocation_data));
  PUT("sizeof_ion_allocation_data", sizeof(struct ion_allocation_data));
  PUT("sizeof_ion_heap_data", sizeof(struct ion_heap_data));
  PUT("sizeof_ion_heap_query", sizeof(struct ion_heap_query));
  PUT("sizeof_udmabuf_create", sizeof(struct udmabuf_create));
  PUT("O_CLOEXEC", O_CLOEXEC);
  PUT("O_RDWR", O_RDWR);
  PUT("MFD_CLOEXEC", MFD_CLOEXEC);
  PUT("MFD_ALLOW_SEALING", MFD_ALLOW_SEALING);
  PUT("F_SEAL_SHRINK", F_SEAL_SHRINK);
  PUT("F_SEAL_WRITE", F_SEAL_WRITE);
  PUT("PAGE_SIZE", sysconf(_SC_PAGESIZE));
#undef PUT
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"dmaHeapAlloc", NULL, dma_heap_alloc, NULL, NULL, NULL, napi_default, NULL},
      {"dmaBufSync", NULL, dma_buf_sync, NULL, NULL, NULL, napi_default, NULL},
      {"dmaBufSetName", NULL, dma_buf_set_name, NULL, NULL, NULL, napi_default, NULL},
      {"dmaBufExportSyncFile", NULL, dma_buf_export_sync_file, NULL, NULL, NULL, napi_default, NULL},
      {"mmap", NULL, map_fd, NULL, NULL, NULL, napi_default, NULL},
      {"munmap", NULL, unmap_buffer, NULL, NULL, NULL, napi_default, NULL},
      {"memfdCreate", NULL, memfd, NULL, NULL, NULL, napi_default, NULL},
      {"dup", NULL, dup_fd, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_fd, NULL, NULL, NULL, napi_default, NULL},
      {"addSeals", NULL, add_seals, NULL, NULL, NULL, napi_default, NULL},
      {"inotifyInit", NULL, inotify_init_fd, NULL, NULL, NULL, napi_default, NULL},
      {"inotifyWatchGone", NULL, inotify_watch_gone, NULL, NULL, NULL, napi_default, NULL},
      {"inotifyUnwatch", NULL, inotify_unwatch, NULL, NULL, NULL, napi_default, NULL},
      {"inotifyDrain", NULL, inotify_drain, NULL, NULL, NULL, napi_default, NULL},
      {"udmabufCreate", NULL, udmabuf_create, NULL, NULL, NULL, napi_default, NULL},
      {"ionHeapQuery", NULL, ion_heap_query, NULL, NULL, NULL, napi_default, NULL},
      {"ionAlloc", NULL, ion_alloc, NULL, NULL, NULL, napi_default, NULL},
      {"constants", NULL, constants, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  udalloc_register_v4l2(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
