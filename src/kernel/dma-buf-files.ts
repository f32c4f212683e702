// What every real backend does with the dma-buf fds it hands out, whichever kernel interface made
// them (dma-heap, udmabuf, ION): dup, close, mmap, DMA_BUF_IOCTL_SYNC, DMA_BUF_SET_NAME, fstat and
// fdinfo through the native binding, and the record of which fds are its own.

import type { DmaBufInfo, HeapInfo, HeapStats, KernelBackend, AllocateFlags, Mapping } from './backend.js';
import { KernelError } from './errno.js';
import { dmaBufInfo } from './fd-info.js';
import { kernelError, syscall, type NativeAddon } from './native/addon.js';

interface OpenBuffer {
  readonly heap: string;
  /** Bytes counted for the heap; 0 for a dup, so a buffer is counted once. */
  readonly size: number;
}

export abstract class DmaBufFileBackend implements KernelBackend {
  abstract readonly kind: string;
  readonly #open = new Map<number, OpenBuffer>();
  /** Where /proc is, for fdinfo. */
  readonly #procRoot: string;

  protected constructor(
    protected readonly addon: NativeAddon,
    procRoot = '/proc',
  ) {
    this.#procRoot = procRoot;
  }

  abstract heaps(): HeapInfo[];
  abstract heapStats(heap: string): HeapStats;
  abstract allocate(heap: string, len: number, flags?: AllocateFlags): number;

  /** Records a dma-buf fd this backend just made. */
  protected adopt(fd: number, heap: string, size: number): number {
    this.#open.set(fd, { heap, size });
    return fd;
  }

  /** Bytes of the buffers this process holds in `heap`, summed on demand (keeps allocate/close lean). */
  protected usedBytes(heap: string): number {
    let used = 0;
    for (const b of this.#open.values()) if (b.heap === heap) used += b.size;
    return used;
  }

  dup(fd: number): number {
    const buf = this.#get(fd, 'dup');
    const copy = syscall('dup', { fd }, () => this.addon.dup(fd));
    return this.adopt(copy, buf.heap, 0);
  }

  close(fd: number): void {
    this.#get(fd, 'close');
    this.#open.delete(fd);
    try {
      this.addon.close(fd);
    } catch (err) {
      throw kernelError('close', { fd }, err);
    }
  }

  map(fd: number): Mapping {
    this.#get(fd, 'mmap');
    const size = dmaBufInfo(fd, this.#procRoot).size;
    const bytes = syscall('mmap', { fd }, () => this.addon.mmap(fd, size, true));
    let mapped = true;
    return {
      bytes,
      unmap: () => {
        if (!mapped) throw new KernelError('munmap', 'EINVAL', { fd, detail: 'mapping already unmapped' });
        mapped = false;
        syscall('munmap', { fd }, () => this.addon.munmap(bytes));
      },
    };
  }

  sync(fd: number, flags: number): void {
    this.#get(fd, 'DMA_BUF_IOCTL_SYNC');
    syscall('DMA_BUF_IOCTL_SYNC', { fd }, () => this.addon.dmaBufSync(fd, flags));
  }

  setName(fd: number, name: string): void {
    this.#get(fd, 'DMA_BUF_SET_NAME');
    syscall('DMA_BUF_SET_NAME', { fd }, () => this.addon.dmaBufSetName(fd, name));
  }

  info(fd: number): DmaBufInfo {
    this.#get(fd, 'fstat');
    return dmaBufInfo(fd, this.#procRoot);
  }

  openFds(): number[] {
    return [...this.#open.keys()].sort((a, b) => a - b);
  }

  #get(fd: number, op: string): OpenBuffer {
    const buf = this.#open.get(fd);
    // Only fds this backend made are touched: anything else would be someone else's file.
    if (!buf) throw new KernelError(op, 'EBADF', { fd, detail: 'not a dma-buf fd opened by this backend' });
    return buf;
  }
}
