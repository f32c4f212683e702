// The udmabuf backend: system-memory dma-bufs without heaps (drivers/dma-buf/udmabuf.c). A sealed
// memfd (F_SEAL_SHRINK, never F_SEAL_WRITE) is wrapped with UDMABUF_CREATE; the memfd is closed at
// once, the dma-buf holds its pages.

import { PAGE_SIZE } from '../../constraints/model.js';
import { closeSync, openSync } from 'node:fs';
import { O_CLOEXEC, O_RDWR, type AllocateFlags, type HeapInfo, type HeapStats } from '../backend.js';
import { DmaBufFileBackend } from '../dma-buf-files.js';
import { KernelError } from '../errno.js';
import { loadNative, syscall, type NativeAddon } from '../native/addon.js';
import { F_SEAL_SHRINK, sealedMemfd } from '../memfd.js';
import { meminfo } from '../meminfo.js';

const UDMABUF_FLAGS_CLOEXEC = 1;
export const UDMABUF_HEAP = 'udmabuf';

export class UdmabufBackend extends DmaBufFileBackend {
  readonly kind = 'udmabuf';
  readonly #device: string;
  #devFd: number | undefined;

  constructor(options: { device?: string; addon?: NativeAddon } = {}) {
    super(options.addon ?? loadNative());
    this.#device = options.device ?? '/dev/udmabuf';
  }

  heaps(): HeapInfo[] {
    return [{ name: UDMABUF_HEAP, kind: 'system', base: undefined, contiguous: false, cpuAccess: true, path: this.#device, ...this.heapStats() }];
  }

  heapStats(): HeapStats {
    const mem = meminfo('/');
    const free = mem['MemAvailable'] ?? 0;
    return { capacity: mem['MemTotal'] ?? 0, used: this.usedBytes(UDMABUF_HEAP), free, largestFree: free };
  }

  allocate(heap: string, len: number, _flags: AllocateFlags = {}): number {
    if (heap !== UDMABUF_HEAP) throw new KernelError('UDMABUF_CREATE', 'ENOENT', { heap, detail: `the udmabuf backend has one heap, "${UDMABUF_HEAP}"` });
    const size = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
    if (size === 0) throw new KernelError('UDMABUF_CREATE', 'EINVAL', { heap, detail: 'len is 0' });
    this.#devFd ??= syscall('open', { heap }, () => openSync(this.#device, O_RDWR | O_CLOEXEC));
    const memfd = sealedMemfd(this.addon, 'udalloc', size, F_SEAL_SHRINK, heap);
    try {
      const devFd = this.#devFd;
      const fd = syscall('UDMABUF_CREATE', { heap }, () => this.addon.udmabufCreate(devFd, memfd, 0, size, UDMABUF_FLAGS_CLOEXEC));
      return this.adopt(fd, heap, size);
    } finally {
      closeSync(memfd);
    }
  }

  dispose(): void {
    if (this.#devFd !== undefined) closeSync(this.#devFd);
    this.#devFd = undefined;
  }
}
