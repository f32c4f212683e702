// The one seam between udalloc and the kernel. Every backend (simulated, dma-heap, ION, udmabuf)
// implements KernelBackend. The seam carries no policy: callers name the heap; choosing one is the
// allocator's job (src/allocator/), and the solver's before it.

import type { Heap, HeapKind } from '../constraints/model.js';

/** DMA_BUF_IOCTL_SYNC flags (include/uapi/linux/dma-buf.h). */
export const DMA_BUF_SYNC_READ = 1;
export const DMA_BUF_SYNC_WRITE = 2;
export const DMA_BUF_SYNC_RW = 3;
export const DMA_BUF_SYNC_START = 0;
export const DMA_BUF_SYNC_END = 4;
export const DMA_BUF_SYNC_VALID_FLAGS_MASK = 7;

/** DMA_BUF_NAME_LEN (include/uapi/linux/dma-buf.h): names are at most 31 bytes plus NUL. */
export const DMA_BUF_NAME_LEN = 32;

export type SyncAccess = 'read' | 'write' | 'readwrite';

export function syncFlags(access: SyncAccess, phase: 'start' | 'end'): number {
  const dir = access === 'read' ? DMA_BUF_SYNC_READ : access === 'write' ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_RW;
  return dir | (phase === 'end' ? DMA_BUF_SYNC_END : DMA_BUF_SYNC_START);
}

export interface HeapStats {
  /** Bytes the heap can hold in total (RAM size for the system heap). */
  readonly capacity: number;
  /** Bytes held by live buffers, including rounding and alignment. */
  readonly used: number;
  readonly free: number;
  /** Largest single buffer that could be allocated now (contiguous heaps: longest free run). */
  readonly largestFree: number;
}

export interface HeapInfo extends HeapStats {
  /** The kernel's name: /dev/dma_heap/<name>, an ION heap name, ... */
  readonly name: string;
  readonly kind: HeapKind;
  /** Physical base of a fixed pool (CMA, carveout), when known. */
  readonly base: number | undefined;
  readonly contiguous: boolean;
  readonly cpuAccess: boolean;
  /** Where the heap lives, e.g. /dev/dma_heap/system or sim:system. */
  readonly path: string;
  /** Other names the kernel lists for the same pool (Linux 6.17's legacy default-CMA name); allocating through one is allocating through the other. */
  readonly aliases?: readonly string[];
}

/** What fstat and fdinfo tell about a dma-buf fd. */
export interface DmaBufInfo {
  readonly fd: number;
  /** Buffer size in bytes (page-rounded by the kernel). */
  readonly size: number;
  /** The dma-buf inode number; fds that share a buffer share it. */
  readonly inode: number;
  /** exp_name in fdinfo: the exporting heap. */
  readonly exporter: string;
  /** Name set with DMA_BUF_SET_NAME, if any. */
  readonly name: string | undefined;
  /** Physical address of a contiguous buffer, when the backend can see it (debugfs or the simulator). */
  readonly physAddr: number | undefined;
}

/** A CPU mapping of a dma-buf (mmap). It keeps the buffer alive until unmapped, as a VMA does. */
export interface Mapping {
  readonly bytes: ArrayBuffer;
  unmap(): void;
}

export interface AllocateFlags {
  /** fd_flags of DMA_HEAP_IOCTL_ALLOC; default O_RDWR | O_CLOEXEC. */
  readonly fdFlags?: number;
  /** heap_flags of DMA_HEAP_IOCTL_ALLOC; no flag is valid today (DMA_HEAP_VALID_HEAP_FLAGS = 0). */
  readonly heapFlags?: number;
}

export interface KernelBackend {
  /** 'sim', 'dma-heap', 'ion', 'udmabuf'. */
  readonly kind: string;
  heaps(): HeapInfo[];
  heapStats(heap: string): HeapStats;
  /** Allocates `len` bytes from `heap`; returns the dma-buf fd. */
  allocate(heap: string, len: number, flags?: AllocateFlags): number;
  dup(fd: number): number;
  close(fd: number): void;
  map(fd: number): Mapping;
  /** DMA_BUF_IOCTL_SYNC with raw uAPI flags (DMA_BUF_SYNC_*). */
  sync(fd: number, flags: number): void;
  /** DMA_BUF_SET_NAME. */
  setName(fd: number, name: string): void;
  info(fd: number): DmaBufInfo;
  /** The dma-buf fds this backend opened that are still open. */
  openFds(): number[];
  /**
   * Why `count` buffers of `size` bytes ran out of memory in `heap` (modelled by `model`), from the
   * kernel's live state, and what would help: lines for the error, or nothing when the backend
   * cannot tell (only real CMA areas can: src/pools/diagnose.ts).
   */
  outOfMemoryReport?(heap: string, model: Heap, size: number, count: number): string[];
}

/** O_RDWR | O_CLOEXEC, the fd flags udalloc asks for. */
export const O_RDWR = 2;
export const O_CLOEXEC = 0o2000000;
export const O_ACCMODE = 3;
/** DMA_HEAP_VALID_FD_FLAGS (include/uapi/linux/dma-heap.h). */
export const DMA_HEAP_VALID_FD_FLAGS = O_CLOEXEC | O_ACCMODE;
export const DMA_HEAP_VALID_HEAP_FLAGS = 0;
