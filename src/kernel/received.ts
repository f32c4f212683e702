// Buffers this process did not allocate but received as fds (from the udalloc service): dma-bufs,
// or, from a service on the simulated kernel, sealed memfds standing for them. They are mapped,
// synced, named and closed like any dma-buf; a memfd is plain coherent memory, so its sync is a no-op.

import type { AllocateFlags, HeapInfo, HeapStats } from './backend.js';
import { DmaBufFileBackend } from './dma-buf-files.js';
import { KernelError } from './errno.js';
import { loadNative, syscall, type NativeAddon } from './native/addon.js';

export class ReceivedBufferBackend extends DmaBufFileBackend {
  readonly kind = 'service';
  /** fds that are memfd stand-ins (no dma-buf exporter in their fdinfo). */
  readonly #standIns = new Set<number>();

  constructor(addon: NativeAddon = loadNative()) {
    super(addon);
  }

  heaps(): HeapInfo[] {
    return [];
  }

  heapStats(heap: string): HeapStats {
    throw new KernelError('heap stats', 'EOPNOTSUPP', { heap, detail: 'the service owns the heaps: ask it (ListHeaps)' });
  }

  allocate(heap: string, _len: number, _flags?: AllocateFlags): number {
    throw new KernelError('allocate', 'EOPNOTSUPP', { heap, detail: 'buffers come from the service (Allocate)' });
  }

  /**
   * Takes ownership of a received fd; returns the fd to use from then on (closed with close() like
   * the others). Fds received over a socket are not close-on-exec (the D-Bus library's recvmsg does
   * not ask for MSG_CMSG_CLOEXEC): each is swapped for an F_DUPFD_CLOEXEC copy, so a program that
   * spawns children does not hand them its buffers.
   */
  receive(received: number, heap: string, kind: 'memfd' | 'dma-buf'): number {
    const fd = syscall('dup', { fd: received }, () => this.addon.dup(received));
    this.addon.close(received);
    this.adopt(fd, heap, 0);
    if (kind === 'memfd') this.#standIns.add(fd);
    return fd;
  }

  override sync(fd: number, flags: number): void {
    if (!this.#standIns.has(fd)) super.sync(fd, flags);
  }

  override setName(fd: number, name: string): void {
    if (this.#standIns.has(fd)) throw new KernelError('DMA_BUF_SET_NAME', 'ENOTTY', { fd, detail: 'a memfd standing for a simulated dma-buf has no name to set; pass { name } to allocate()' });
    super.setName(fd, name);
  }

  override close(fd: number): void {
    this.#standIns.delete(fd);
    super.close(fd);
  }
}
