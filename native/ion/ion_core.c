/*
 * The table (`udalloc ion-map`): one line per ION heap id,
 *
 *   heap <id> <type> <name> <dma-heap path> direct
 *   heap <id> <type> <name> <dma-heap path> service <format> <width> <row bytes> <device:use>[,...]
 *   bus <D-Bus address, or "system">
 *
 * '#' starts a comment. A `service` heap allocates through the udalloc service's Allocate call (the
 * request: those devices, that format and width, whose rows the plan makes `row bytes` long, as
 * many rows as the length needs), so the program is charged and held to its quotas; when no service
 * answers, it opens the dma-buf heap itself, as a `direct` heap does.
 *
 * ION's behaviour kept (drivers/staging/android/ion/ion.c ion_alloc_dmabuf(), 4.12 to 5.10): the
 * length is page-aligned and 0 is EINVAL; heaps are tried from the highest id in the mask down
 * (the heap plist is ordered by -id), the first that allocates wins; no heap in the mask is ENODEV;
 * a length no heap can hold is ENOMEM.
 */
#define _GNU_SOURCE
#include "ion_core.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/dma-heap.h>

_Static_assert(sizeof(struct dma_heap_allocation_data) == 24, "dma_heap_allocation_data is 24 bytes");
_Static_assert(DMA_HEAP_IOCTL_ALLOC == 0xC0184800u, "DMA_HEAP_IOCTL_ALLOC");

#define MAX_HEAPS ION_NUM_HEAP_IDS
#define MAX_FDS 65536

struct map_heap {
  uint32_t id;
  uint32_t type;
  char name[ION_MAX_HEAP_NAME];
  char path[256];
  int service;
  char format[32];
  uint64_t width;
  uint64_t row_bytes;
  char devices[512];
};

static struct {
  pthread_mutex_t lock;
  int loaded;
  int count;
  struct map_heap heaps[MAX_HEAPS];
  char bus[512];
  unsigned char ion_fds[MAX_FDS / 8];
} state = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char *const TYPES[] = {"system", "system_contig", "carveout", "chunk", "dma"};

static int type_of(const char *word) {
  for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
    if (strcmp(word, TYPES[i]) == 0) return (int)i;
  return -1;
}

static const char *map_path(void) {
  const char *env = getenv("UDALLOC_ION_MAP");
  return env && *env ? env : UDALLOC_ION_MAP_DEFAULT;
}

/* Says once, on stderr, why the table cannot be used: a legacy program's log is where people look. */
static void complain(const char *what, int line) {
  static int said;
  if (said++) return;
  if (line > 0) fprintf(stderr, "udalloc ion: %s line %d: %s (rewrite it with `udalloc ion-map`)\n", map_path(), line, what);
  else fprintf(stderr, "udalloc ion: %s: %s (write it with `udalloc ion-map`, or set UDALLOC_ION_MAP)\n", map_path(), what);
}

/* Reads the table once; 0, or -errno (ENOENT when there is none: then there is no ION). */
static int load(void) {
  if (state.loaded) return state.loaded > 0 ? 0 : -ENOENT;
  state.loaded = -1;
  FILE *f = fopen(map_path(), "re");
  if (!f) {
    complain(strerror(errno), 0);
    return -ENOENT;
  }
  char line[2048];
  int number = 0;
  while (fgets(line, sizeof line, f)) {
    number++;
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char word[16] = "";
    if (sscanf(line, "%15s", word) != 1) continue;
    if (strcmp(word, "bus") == 0) {
      if (sscanf(line, "%*s %511s", state.bus) != 1) goto bad;
      continue;
    }
    if (strcmp(word, "heap") != 0 || state.count >= MAX_HEAPS) goto bad;
    struct map_heap *h = &state.heaps[state.count];
    memset(h, 0, sizeof *h);
    char type[32], via[16];
    int n = sscanf(line, "%*s %u %31s %31s %255s %15s %31s %lu %lu %511s", &h->id, type, h->name, h->path, via, h->format, &h->width, &h->row_bytes, h->devices);
    if (n < 5 || h->id >= ION_NUM_HEAP_IDS || type_of(type) < 0) goto bad;
    h->type = (uint32_t)type_of(type);
    if (strcmp(via, "service") == 0) {
      if (n != 9 || h->row_bytes == 0 || h->width == 0) goto bad;
      h->service = 1;
    } else if (strcmp(via, "direct") != 0 || n != 5) goto bad;
    state.count++;
    continue;
  bad:
    complain("not a line of the ION map", number);
    fclose(f);
    state.count = 0;
    return -ENOENT;
  }
  fclose(f);
  state.loaded = 1;
  return 0;
}

int ion_core_open(int flags) {
  pthread_mutex_lock(&state.lock);
  int err = load();
  pthread_mutex_unlock(&state.lock);
  if (err) {
    errno = -err;
    return -1;
  }
  int fd = memfd_create("udalloc-ion", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
  if (fd < 0) return -1;
  if (fd >= MAX_FDS) {
    syscall(SYS_close, fd);
    errno = EMFILE;
    return -1;
  }
  __atomic_fetch_or(&state.ion_fds[fd / 8], (unsigned char)(1u << (fd % 8)), __ATOMIC_SEQ_CST);
  return fd;
}

int ion_core_is_ion(int fd) {
  return fd >= 0 && fd < MAX_FDS && (__atomic_load_n(&state.ion_fds[fd / 8], __ATOMIC_SEQ_CST) & (1u << (fd % 8))) != 0;
}

void ion_core_forget(int fd) {
  if (fd >= 0 && fd < MAX_FDS) __atomic_fetch_and(&state.ion_fds[fd / 8], (unsigned char)~(1u << (fd % 8)), __ATOMIC_SEQ_CST);
}

int ion_core_heap_query(struct ion_heap_query *query) {
  if (!query || query->reserved0 || query->reserved1 || query->reserved2) return -EINVAL;
  /* ion_query_heaps(): a zero count or no buffer asks only for the count; else at most cnt entries. */
  if (!query->heaps || query->cnt == 0) {
    query->cnt = (uint32_t)state.count;
    return 0;
  }
  struct ion_heap_data *out = (struct ion_heap_data *)(uintptr_t)query->heaps;
  uint32_t n = query->cnt < (uint32_t)state.count ? query->cnt : (uint32_t)state.count;
  for (uint32_t i = 0; i < n; i++) {
    struct ion_heap_data d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "%s", state.heaps[i].name);
    d.type = state.heaps[i].type;
    d.heap_id = state.heaps[i].id;
    memcpy(&out[i], &d, sizeof d);
  }
  query->cnt = n;
  return 0;
}

static int alloc_direct(const struct map_heap *h, uint64_t len, int *fd) {
  int heap = (int)syscall(SYS_openat, AT_FDCWD, h->path, O_RDONLY | O_CLOEXEC);
  if (heap < 0) {
    int err = errno;
    static int said;
    if (err == ENOENT && !said++) fprintf(stderr, "udalloc ion: heap id %u: %s does not exist on this machine (a map written for another platform? rewrite it with `udalloc ion-map`)\n", h->id, h->path);
    return -err;
  }
  struct dma_heap_allocation_data data = {.len = len, .fd_flags = O_RDWR | O_CLOEXEC};
  int ret = (int)syscall(SYS_ioctl, heap, DMA_HEAP_IOCTL_ALLOC, &data);
  int err = ret < 0 ? errno : 0;
  syscall(SYS_close, heap);
  if (ret < 0) return -err;
  *fd = (int)data.fd;
  return 0;
}

int ion_service_alloc(const char *bus, const char *request, int *fd, char *why, size_t whylen);

static int alloc_service(const struct map_heap *h, uint64_t len, int *fd) {
  char request[1024], devices[640] = "";
  /* "a:write,b:read" -> "\"a:write\",\"b:read\"" */
  size_t o = 0;
  for (const char *p = h->devices; *p && o + 4 < sizeof devices; p++) {
    if (p == h->devices || p[-1] == ',') devices[o++] = '"';
    if (*p == ',') {
      devices[o++] = '"';
      devices[o++] = ',';
      continue;
    }
    devices[o++] = *p;
  }
  if (o > 0 && o + 1 < sizeof devices) devices[o++] = '"';
  devices[o] = '\0';
  uint64_t rows = (len + h->row_bytes - 1) / h->row_bytes;
  snprintf(request, sizeof request, "{\"devices\":[%s],\"formats\":[\"%s\"],\"width\":%lu,\"height\":%lu,\"count\":1,\"cpu\":\"readwrite\"}", devices, h->format,
           (unsigned long)h->width, (unsigned long)rows);
  char why[512] = "";
  int ret = ion_service_alloc(state.bus, request, fd, why, sizeof why);
  if (ret == -ECONNREFUSED) {
    /* No service: the program still runs, uncharged. */
    static int said;
    if (!said++) fprintf(stderr, "udalloc ion: no udalloc service answers on %s (%s): heap id %u allocates directly, uncharged\n", state.bus[0] ? state.bus : "the system bus", why, h->id);
    return alloc_direct(h, len, fd);
  }
  if (ret < 0 && why[0]) fprintf(stderr, "udalloc ion: the udalloc service refused heap id %u: %s\n", h->id, why);
  return ret;
}

int ion_core_alloc(struct ion_allocation_data *data) {
  if (!data) return -EFAULT;
  uint64_t len = data->len;
  if (len == 0) return -EINVAL;
  /* PAGE_ALIGN(len) wrapping to 0 in the kernel; a length beyond physical memory is ENOMEM. */
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0 && len > (uint64_t)pages * (uint64_t)page) return -ENOMEM;
  len = (len + (uint64_t)page - 1) & ~((uint64_t)page - 1);
  int tried = 0, err = -ENODEV;
  for (int id = ION_NUM_HEAP_IDS - 1; id >= 0; id--) {
    if (!(data->heap_id_mask & (1u << id))) continue;
    for (int i = 0; i < state.count; i++) {
      const struct map_heap *h = &state.heaps[i];
      if (h->id != (uint32_t)id) continue;
      tried = 1;
      int fd = -1;
      err = h->service ? alloc_service(h, len, &fd) : alloc_direct(h, len, &fd);
      if (err == 0) {
        data->fd = (uint32_t)fd;
        return 0;
      }
    }
  }
  if (!tried) return -ENODEV;
  /* ION reports a failed heap allocation as out of memory; a dma-buf heap the table names but the machine lacks is no heap. */
  if (err == -ENOENT) return -ENODEV;
  return err == -EBUSY ? -ENOMEM : err;
}
