/*
 * The ION heaps a legacy program sees on a dma-buf-heap kernel, as `udalloc ion-map` wrote them,
 * and ION's two calls answered from them. Shared by the LD_PRELOAD shim (ion_shim.c) and the
 * drop-in libion (libion.c); no Node in the legacy process.
 */
#ifndef UDALLOC_ION_CORE_H
#define UDALLOC_ION_CORE_H

#include <stdint.h>
#include "../src/ion_abi.h"

/* Where `udalloc ion-map` writes the table unless UDALLOC_ION_MAP names another file. */
#define UDALLOC_ION_MAP_DEFAULT "/etc/udalloc/ion-map"

/* An fd that stands for /dev/ion: answers HEAP_QUERY and ALLOC, nothing else. */
int ion_core_open(int flags);
int ion_core_is_ion(int fd);
void ion_core_forget(int fd);

/* ION_IOC_HEAP_QUERY on an ION fd: 0 or -errno. */
int ion_core_heap_query(struct ion_heap_query *query);
/* ION_IOC_ALLOC on an ION fd: 0 (data->fd set) or -errno, with ION's errnos. */
int ion_core_alloc(struct ion_allocation_data *data);

#endif
