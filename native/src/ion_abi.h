/*
 * ION's 4.12+ userspace ABI (drivers/staging/android/uapi/ion.h, removed from Linux in 5.11; AOSP
 * keeps it as libion/kernel-headers/linux/ion_4.12.h): the structures and ioctl numbers of the two
 * calls a 4.12+ client makes, checked at compile time against the recorded sizes and numbers.
 * Shared by the Node binding (udalloc on an ION kernel) and native/ion (ION programs on a
 * dma-buf-heap kernel).
 */
#ifndef UDALLOC_ION_ABI_H
#define UDALLOC_ION_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

struct ion_allocation_data {
  uint64_t len;
  uint32_t heap_id_mask;
  uint32_t flags;
  uint32_t fd;
  uint32_t unused;
};
#define ION_MAX_HEAP_NAME 32
struct ion_heap_data {
  char name[ION_MAX_HEAP_NAME];
  uint32_t type;
  uint32_t heap_id;
  uint32_t reserved0;
  uint32_t reserved1;
  uint32_t reserved2;
};
struct ion_heap_query {
  uint32_t cnt;
  uint32_t reserved0;
  uint64_t heaps;
  uint32_t reserved1;
  uint32_t reserved2;
};
#define ION_IOC_MAGIC 'I'
#define ION_IOC_ALLOC _IOWR(ION_IOC_MAGIC, 0, struct ion_allocation_data)
#define ION_IOC_HEAP_QUERY _IOWR(ION_IOC_MAGIC, 8, struct ion_heap_query)

/* enum ion_heap_type */
#define ION_HEAP_TYPE_SYSTEM 0
#define ION_HEAP_TYPE_SYSTEM_CONTIG 1
#define ION_HEAP_TYPE_CARVEOUT 2
#define ION_HEAP_TYPE_CHUNK 3
#define ION_HEAP_TYPE_DMA 4
#define ION_NUM_HEAP_IDS 32
#define ION_FLAG_CACHED 1

_Static_assert(sizeof(struct ion_allocation_data) == 24, "ion_allocation_data is 24 bytes");
_Static_assert(offsetof(struct ion_allocation_data, fd) == 16, "ion fd at 16");
_Static_assert(sizeof(struct ion_heap_data) == 52, "ion_heap_data is 52 bytes");
_Static_assert(offsetof(struct ion_heap_data, heap_id) == 36, "ion heap_id at 36");
_Static_assert(sizeof(struct ion_heap_query) == 24, "ion_heap_query is 24 bytes");
_Static_assert(offsetof(struct ion_heap_query, heaps) == 8, "ion heaps pointer at 8");
_Static_assert(ION_IOC_ALLOC == 0xC0184900u, "ION_IOC_ALLOC (4.12+ ABI)");
_Static_assert(ION_IOC_HEAP_QUERY == 0xC0184908u, "ION_IOC_HEAP_QUERY");

#endif
