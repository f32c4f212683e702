// The simulated kernel: heaps built from a platform with the kernel's own algorithms, and dma-buf
// file semantics from drivers/dma-buf/dma-buf.c and drivers/dma-buf/dma-heap.c:
// - DMA_HEAP_IOCTL_ALLOC (dma_heap_ioctl_allocate): fd_flags outside DMA_HEAP_VALID_FD_FLAGS or any
//   heap_flags -> EINVAL; len = PAGE_ALIGN(len), 0 -> EINVAL; the heap's allocate; a new fd.
// - a dma-buf is a file: dup() and mmap() take references (get_file; a VMA keeps vm_file), and the
//   buffer goes back to its heap only when the last reference is dropped (dma_buf_release).
// - close of an fd that is not open -> EBADF.
// - mmap of a heap without CPU access -> EPERM (secure/restricted heaps refuse mapping).
// - DMA_BUF_IOCTL_SYNC (dma_buf_ioctl): flags outside DMA_BUF_SYNC_VALID_FLAGS_MASK or without a
//   direction -> EINVAL. Linux itself does not check that END follows START; the simulator does
//   (EINVAL, naming the imbalance) because an unpaired END means cache maintenance was skipped on a
//   non-coherent device, a bug that real hardware shows only as corrupted pixels.
// - DMA_BUF_SET_NAME: strndup_user(name, DMA_BUF_NAME_LEN) -> EINVAL when longer than 31 bytes.

import { PAGE_SIZE, type Heap } from '../../constraints/model.js';
import { InputError } from '../../errors.js';
import {
  DMA_BUF_NAME_LEN,
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_VALID_FLAGS_MASK,
  DMA_BUF_SYNC_WRITE,
  DMA_HEAP_VALID_FD_FLAGS,
  DMA_HEAP_VALID_HEAP_FLAGS,
  O_CLOEXEC,
  O_RDWR,
  type AllocateFlags,
  type DmaBufInfo,
  type HeapInfo,
  type HeapStats,
  type KernelBackend,
  type Mapping,
} from '../backend.js';
import { KernelError } from '../errno.js';
import { CmaPool } from './cma.js';
import { DEFAULT_CMA_ALIGNMENT, HEAP_KINDS } from '../../constraints/heap-kinds/index.js';
import { FaultInjector, type FaultRule } from './faults.js';
import { FdTable } from './fd-table.js';
import { GenPool } from './genpool.js';
import { PLACEMENT_POLICIES, type PlacementPolicy, type Pool, type PoolBlock } from './pool.js';
import { SystemContigPool, SystemPool } from './system.js';

export interface SimOptions {
  /** Seed of the fault schedule's random numbers. */
  readonly seed?: number;
  readonly faults?: readonly FaultRule[];
  /** RLIMIT_NOFILE (default 1024, Linux's default soft limit). */
  readonly maxFds?: number;
  /** Placement in contiguous pools: 'first-fit' (Linux, the default) or 'best-fit'. */
  readonly policy?: PlacementPolicy;
}

interface SimHeap {
  readonly info: Omit<HeapInfo, keyof HeapStats>;
  readonly pool: Pool;
}

/** One dma-buf: the struct file and struct dma_buf together. */
interface DmaBufFile {
  readonly inode: number;
  readonly heap: SimHeap;
  readonly block: PoolBlock;
  /** Open fds plus live mappings (the file's f_count). */
  refs: number;
  name: string | undefined;
  storage: ArrayBuffer | undefined;
  /** CPU accesses begun and not yet ended, per direction. */
  readers: number;
  writers: number;
}

export class SimKernel implements KernelBackend {
  readonly kind = 'sim';
  readonly faults: FaultInjector;
  readonly #heaps = new Map<string, SimHeap>();
  readonly #fds: FdTable<DmaBufFile>;
  #nextInode = 1;

  constructor(heaps: readonly Heap[], options: SimOptions = {}) {
    this.faults = new FaultInjector(options.faults, options.seed);
    this.#fds = new FdTable(3, options.maxFds ?? 1024);
    const policy = options.policy ?? 'first-fit';
    if (!PLACEMENT_POLICIES.includes(policy)) throw new InputError(`policy ${JSON.stringify(policy)}: expected ${PLACEMENT_POLICIES.join(' or ')}`, 'policy', policy);
    heaps.forEach((heap, i) => this.#heaps.set(heap.name, buildHeap(heap, i, policy)));
  }

  heaps(): HeapInfo[] {
    return [...this.#heaps.values()].map((h) => ({ ...h.info, ...h.pool.stats() }));
  }

  heapStats(heap: string): HeapStats {
    return this.#heap(heap, 'heap stats').pool.stats();
  }

  allocate(heapName: string, len: number, flags: AllocateFlags = {}): number {
    const op = 'DMA_HEAP_IOCTL_ALLOC';
    const heap = this.#heap(heapName, op);
    const fdFlags = flags.fdFlags ?? O_RDWR | O_CLOEXEC;
    if ((fdFlags & ~DMA_HEAP_VALID_FD_FLAGS) !== 0) throw new KernelError(op, 'EINVAL', { heap: heapName, detail: `fd_flags 0x${fdFlags.toString(16)} outside DMA_HEAP_VALID_FD_FLAGS` });
    if ((flags.heapFlags ?? 0) & ~DMA_HEAP_VALID_HEAP_FLAGS || (flags.heapFlags ?? 0) !== 0) throw new KernelError(op, 'EINVAL', { heap: heapName, detail: 'no heap_flags are defined' });
    if (!Number.isSafeInteger(len) || len < 0) throw new KernelError(op, 'EINVAL', { heap: heapName, detail: `len ${len} is not a byte count` });
    const size = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
    if (size === 0) throw new KernelError(op, 'EINVAL', { heap: heapName, detail: 'len is 0' });
    const fault = this.faults.check('allocate', heapName);
    if (fault) throw new KernelError(op, fault, { heap: heapName, detail: 'injected fault' });
    const block = heap.pool.allocate(size, this.faults);
    const file: DmaBufFile = { inode: this.#nextInode++, heap, block, refs: 1, name: undefined, storage: undefined, readers: 0, writers: 0 };
    try {
      return this.#fds.install(file, op);
    } catch (err) {
      heap.pool.release(block);
      throw err;
    }
  }

  dup(fd: number): number {
    const file = this.#fds.get(fd, 'dup');
    const fault = this.faults.check('dup');
    if (fault) throw new KernelError('dup', fault, { fd, detail: 'injected fault' });
    const copy = this.#fds.install(file, 'dup');
    file.refs++;
    return copy;
  }

  close(fd: number): void {
    this.#put(this.#fds.remove(fd, 'close'));
  }

  map(fd: number): Mapping {
    const file = this.#fds.get(fd, 'mmap');
    if (!file.heap.info.cpuAccess) throw new KernelError('mmap', 'EPERM', { fd, heap: file.heap.info.name, detail: 'the heap is not CPU-accessible (secure memory)' });
    const fault = this.faults.check('map');
    if (fault) throw new KernelError('mmap', fault, { fd, detail: 'injected fault' });
    // Heaps hand out zeroed pages (__GFP_ZERO in system_heap.c, memset in cma_heap.c), so a lazily
    // created zero-filled ArrayBuffer is the buffer's content until someone writes it.
    file.storage ??= new ArrayBuffer(file.block.size);
    file.refs++;
    let mapped = true;
    return {
      bytes: file.storage,
      unmap: () => {
        if (!mapped) throw new KernelError('munmap', 'EINVAL', { detail: 'mapping already unmapped' });
        mapped = false;
        this.#put(file);
      },
    };
  }

  sync(fd: number, flags: number): void {
    const op = 'DMA_BUF_IOCTL_SYNC';
    const file = this.#fds.get(fd, op);
    if (!Number.isInteger(flags) || (flags & ~DMA_BUF_SYNC_VALID_FLAGS_MASK) !== 0) throw new KernelError(op, 'EINVAL', { fd, detail: `flags 0x${flags.toString(16)} outside DMA_BUF_SYNC_VALID_FLAGS_MASK` });
    const read = (flags & DMA_BUF_SYNC_READ) !== 0;
    const write = (flags & DMA_BUF_SYNC_WRITE) !== 0;
    if (!read && !write) throw new KernelError(op, 'EINVAL', { fd, detail: 'flags name no direction (DMA_BUF_SYNC_READ and/or WRITE)' });
    if (!file.heap.info.cpuAccess) throw new KernelError(op, 'EPERM', { fd, heap: file.heap.info.name, detail: 'the heap is not CPU-accessible (secure memory)' });
    if ((flags & DMA_BUF_SYNC_END) === 0) {
      const fault = this.faults.check('sync');
      if (fault) throw new KernelError(op, fault, { fd, detail: 'injected fault' });
      if (read) file.readers++;
      if (write) file.writers++;
      return;
    }
    if ((read && file.readers === 0) || (write && file.writers === 0)) {
      throw new KernelError(op, 'EINVAL', { fd, detail: `SYNC_END for ${read && write ? 'read/write' : read ? 'read' : 'write'} access without a matching SYNC_START (begun: ${file.readers} read, ${file.writers} write)` });
    }
    if (read) file.readers--;
    if (write) file.writers--;
  }

  setName(fd: number, name: string): void {
    const op = 'DMA_BUF_SET_NAME';
    const file = this.#fds.get(fd, op);
    if (Buffer.byteLength(name) >= DMA_BUF_NAME_LEN) throw new KernelError(op, 'EINVAL', { fd, detail: `name is ${Buffer.byteLength(name)} bytes; at most ${DMA_BUF_NAME_LEN - 1}` });
    const fault = this.faults.check('setName');
    if (fault) throw new KernelError(op, fault, { fd, detail: 'injected fault' });
    file.name = name;
  }

  info(fd: number): DmaBufInfo {
    const file = this.#fds.get(fd, 'fstat');
    return { fd, size: file.block.size, inode: file.inode, exporter: file.heap.info.name, name: file.name, physAddr: file.block.physAddr };
  }

  /** The chunk list (sg_table shape) of a buffer: [order, count] pairs. */
  chunks(fd: number): ReadonlyArray<readonly [number, number]> {
    return this.#fds.get(fd, 'chunks').block.chunks;
  }

  openFds(): number[] {
    return this.#fds.fds();
  }

  #heap(name: string, op: string): SimHeap {
    const heap = this.#heaps.get(name);
    // Opening /dev/dma_heap/<name> that does not exist fails with ENOENT.
    if (!heap) throw new KernelError(op, 'ENOENT', { heap: name, detail: `no heap "${name}" (heaps: ${[...this.#heaps.keys()].join(', ')})` });
    return heap;
  }

  #put(file: DmaBufFile): void {
    if (--file.refs > 0) return;
    file.storage = undefined;
    file.heap.pool.release(file.block);
  }
}

function buildHeap(heap: Heap, index: number, policy: PlacementPolicy): SimHeap {
  const field = `heaps[${index}]`;
  const base = heap.base ?? 0;
  if (base % PAGE_SIZE !== 0) throw new InputError(`${field}.base: 0x${base.toString(16)} is not page aligned (${heap.source})`, `${field}.base`, base);
  // A pool of 0 pages is allowed (sizing probes use it); like an empty CMA area it fails every allocation.
  if (heap.size % PAGE_SIZE !== 0 || heap.size < 0) throw new InputError(`${field}.size: ${heap.size} is not a whole number of pages (${heap.source})`, `${field}.size`, heap.size);
  let pool: Pool;
  // Each kind names the kernel allocator behind it (constraints/heap-kinds/); this models each one.
  switch (HEAP_KINDS[heap.kind].allocator) {
    case 'pages':
      pool = new SystemPool(heap.name, heap.size);
      break;
    case 'pages-block':
      pool = new SystemContigPool(heap.name, heap.size);
      break;
    case 'cma':
      pool = new CmaPool(heap.name, base, heap.size, heap.alignOrder ?? DEFAULT_CMA_ALIGNMENT, 0, policy);
      break;
    case 'genpool':
      pool = new GenPool(heap.name, base, heap.size, policy);
      break;
  }
  return {
    info: { name: heap.name, kind: heap.kind, base: heap.base, contiguous: heap.contiguous, cpuAccess: heap.cpuAccess, path: `sim:${heap.name}` },
    pool,
  };
}
