// The legacy ION backend (Linux 4.12 to 5.10, /dev/ion; drivers/staging/android/ion/ion.c): heaps
// are discovered with ION_IOC_HEAP_QUERY and allocated with ION_IOC_ALLOC and a one-bit
// heap_id_mask; the result is a dma-buf fd like any other. No kernel reachable here has ION, so
// tests check the binding's compiled ABI against the recorded one and this logic against a stub.

import { PAGE_SIZE } from '../../constraints/model.js';
import { closeSync, openSync } from 'node:fs';
import type { HeapKind } from '../../constraints/model.js';
import { O_CLOEXEC, O_RDWR, type AllocateFlags, type HeapInfo, type HeapStats } from '../backend.js';
import { DmaBufFileBackend } from '../dma-buf-files.js';
import { KernelError } from '../errno.js';
import { loadNative, syscall, type NativeAddon } from '../native/addon.js';

/** enum ion_heap_type (ion.h, 4.12+). */
export const ION_HEAP_TYPE: Readonly<Record<number, { name: string; kind: HeapKind }>> = {
  0: { name: 'SYSTEM', kind: 'system' },
  1: { name: 'SYSTEM_CONTIG', kind: 'system-contig' },
  2: { name: 'CARVEOUT', kind: 'carveout' },
  3: { name: 'CHUNK', kind: 'carveout' },
  4: { name: 'DMA', kind: 'cma' },
};
export const ION_FLAG_CACHED = 1;

export interface IonHeap {
  readonly name: string;
  readonly type: number;
  readonly heapId: number;
}

export class IonBackend extends DmaBufFileBackend {
  readonly kind = 'ion';
  readonly #ionFd: number;
  readonly #heaps: readonly IonHeap[];

  constructor(options: { device?: string; addon?: NativeAddon; ionFd?: number } = {}) {
    super(options.addon ?? loadNative());
    this.#ionFd = options.ionFd ?? syscall('open', {}, () => openSync(options.device ?? '/dev/ion', O_RDWR | O_CLOEXEC));
    this.#heaps = syscall('ION_IOC_HEAP_QUERY', {}, () => this.addon.ionHeapQuery(this.#ionFd));
  }

  /** heap_id_mask for a heap: one bit, 1 << heap_id (ION_NUM_HEAP_IDS = 32). */
  maskOf(heap: string): number {
    const h = this.#heaps.find((x) => x.name === heap);
    if (!h) throw new KernelError('ION_IOC_ALLOC', 'ENOENT', { heap, detail: `ION heaps: ${this.#heaps.map((x) => x.name).join(', ')}` });
    if (h.heapId >= 32) throw new KernelError('ION_IOC_ALLOC', 'EINVAL', { heap, detail: `heap_id ${h.heapId} is not below ION_NUM_HEAP_IDS` });
    return (1 << h.heapId) >>> 0;
  }

  heaps(): HeapInfo[] {
    return this.#heaps.map((h) => {
      const kind = ION_HEAP_TYPE[h.type]?.kind ?? 'carveout';
      return { name: h.name, kind, base: undefined, contiguous: kind !== 'system', cpuAccess: true, path: `/dev/ion heap ${h.heapId}`, ...this.heapStats(h.name) };
    });
  }

  heapStats(heap: string): HeapStats {
    const used = this.usedBytes(heap);
    // ION publishes no capacities; only what this process holds is known.
    return { capacity: 0, used, free: 0, largestFree: 0 };
  }

  allocate(heap: string, len: number, flags: AllocateFlags = {}): number {
    const mask = this.maskOf(heap);
    const fd = syscall('ION_IOC_ALLOC', { heap }, () => this.addon.ionAlloc(this.#ionFd, len, mask, flags.heapFlags ?? ION_FLAG_CACHED));
    return this.adopt(fd, heap, Math.ceil(len / PAGE_SIZE) * PAGE_SIZE);
  }

  dispose(): void {
    closeSync(this.#ionFd);
  }
}
