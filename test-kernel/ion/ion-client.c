/*
 * A legacy ION program, written against ION's 4.12+ uAPI alone (its structures and numbers as
 * drivers/staging/android/uapi/ion.h declared them) or, built with -DUSE_LIBION, against Android's
 * libion API; it links no udalloc code. The QEMU suite runs it on a 6.12 kernel, where /dev/ion
 * does not exist: under LD_PRELOAD=libudalloc-ion.so, linked to the drop-in libion.so, and bare
 * (the negative control).
 *
 *   ion-client ID...   queries the heaps, allocates 1 MiB from each id, maps it, writes a pattern
 *                      and reads it back, prints each fd's exporter, then the errnos of the error
 *                      cases; holds the buffers until a line arrives on stdin.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define LEN (1u << 20)

#ifdef USE_LIBION
/* Android's libion (system/memory/libion/include/ion/ion.h). */
int ion_open(void);
int ion_close(int fd);
int ion_alloc_fd(int fd, size_t len, size_t align, unsigned int heap_mask, unsigned int flags, int *handle_fd);
int ion_query_heap_cnt(int fd, int *cnt);
int ion_query_get_heaps(int fd, int cnt, void *buffers);
#endif

struct ion_allocation_data {
  uint64_t len;
  uint32_t heap_id_mask;
  uint32_t flags;
  uint32_t fd;
  uint32_t unused;
};
struct ion_heap_data {
  char name[32];
  uint32_t type;
  uint32_t heap_id;
  uint32_t reserved0, reserved1, reserved2;
};
struct ion_heap_query {
  uint32_t cnt;
  uint32_t reserved0;
  uint64_t heaps;
  uint32_t reserved1, reserved2;
};
#define ION_IOC_MAGIC 'I'
#define ION_IOC_ALLOC _IOWR(ION_IOC_MAGIC, 0, struct ion_allocation_data)
#define ION_IOC_HEAP_QUERY _IOWR(ION_IOC_MAGIC, 8, struct ion_heap_query)
#define ION_FLAG_CACHED 1

static int open_ion(void) {
#ifdef USE_LIBION
  return ion_open();
#else
  return open("/dev/ion", O_RDONLY | O_CLOEXEC);
#endif
}

/* 0 and the fd, or the errno. */
static int alloc(int ion, uint64_t len, uint32_t mask, int *fd) {
#ifdef USE_LIBION
  int ret = ion_alloc_fd(ion, (size_t)len, 0, mask, ION_FLAG_CACHED, fd);
  return ret < 0 ? -ret : 0;
#else
  struct ion_allocation_data data = {.len = len, .heap_id_mask = mask, .flags = ION_FLAG_CACHED};
  if (ioctl(ion, ION_IOC_ALLOC, &data) < 0) return errno;
  *fd = (int)data.fd;
  return 0;
#endif
}

static int query(int ion, struct ion_heap_data *heaps, int max) {
#ifdef USE_LIBION
  int cnt = 0;
  if (ion_query_heap_cnt(ion, &cnt) < 0 || cnt > max || ion_query_get_heaps(ion, cnt, heaps) < 0) return -1;
  return cnt;
#else
  struct ion_heap_query q = {0};
  if (ioctl(ion, ION_IOC_HEAP_QUERY, &q) < 0 || q.cnt > (uint32_t)max) return -1;
  q.heaps = (uint64_t)(uintptr_t)heaps;
  if (ioctl(ion, ION_IOC_HEAP_QUERY, &q) < 0) return -1;
  return (int)q.cnt;
#endif
}

static void exporter(int fd, char *out, size_t len) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
  snprintf(out, len, "?");
  FILE *f = fopen(path, "re");
  if (!f) return;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "exp_name: %255s", out) == 1) break;
  fclose(f);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int ion = open_ion();
  if (ion < 0) {
    printf("open /dev/ion: %s\n", strerrorname_np(errno));
    return 10;
  }
  struct ion_heap_data heaps[32];
  int n = query(ion, heaps, 32);
  if (n < 0) {
    printf("heap query failed: %s\n", strerrorname_np(errno));
    return 11;
  }
  for (int i = 0; i < n; i++) printf("heap %u %u %s\n", heaps[i].heap_id, heaps[i].type, heaps[i].name);
  int fds[32], held = 0;
  for (int a = 1; a < argc && held < 32; a++) {
    unsigned id = (unsigned)atoi(argv[a]);
    int fd = -1, err = alloc(ion, LEN, 1u << id, &fd);
    if (err) {
      printf("alloc %u: %s\n", id, strerrorname_np(err));
      continue;
    }
    uint32_t *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      printf("alloc %u: mmap %s\n", id, strerrorname_np(errno));
      return 12;
    }
    for (uint32_t i = 0; i < LEN / 4; i++) p[i] = i * 2654435761u + id;
    int same = 1;
    for (uint32_t i = 0; i < LEN / 4; i++) same &= p[i] == i * 2654435761u + id;
    munmap(p, LEN);
    char exp[256];
    exporter(fd, exp, sizeof exp);
    printf("alloc %u: fd %d size %ld pattern %s exporter %s\n", id, fd, (long)lseek(fd, 0, SEEK_END), same ? "ok" : "WRONG", exp);
    fds[held++] = fd;
  }
  /* ION's errors: no heap in the mask, length 0, a length no heap holds. */
  int fd = -1;
  printf("errors mask0=%s unknown=%s len0=%s huge=%s\n", strerrorname_np(alloc(ion, LEN, 0, &fd)), strerrorname_np(alloc(ion, LEN, 1u << 30, &fd)),
         strerrorname_np(alloc(ion, 0, 1u << heaps[0].heap_id, &fd)), strerrorname_np(alloc(ion, 1ull << 50, 1u << heaps[0].heap_id, &fd)));
  printf("HOLDING\n");
  char line[16];
  if (!fgets(line, sizeof line, stdin)) line[0] = '\0';
  for (int i = 0; i < held; i++) close(fds[i]);
#ifdef USE_LIBION
  ion_close(ion);
#else
  close(ion);
#endif
  printf("CLOSED\n");
  if (!fgets(line, sizeof line, stdin)) line[0] = '\0';
  return 0;
}
