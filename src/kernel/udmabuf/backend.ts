// The udmabuf backend: system-memory dma-bufs without heaps (drivers/dma-buf/udmabuf.c). A sealed
// memfd (F_SEAL_SHRINK, never F_SEAL_WRITE) is wrapped with UDMABUF_CREATE; the memfd is closed at
// once, the dma-buf holds its pages.

import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { O_CLOEXEC, O_RDWR, type AllocateFlags, type DmaBufInfo, type HeapInfo, type HeapStats, type KernelBackend, type Mapping } from '../backend.js';
import { KernelError } from '../errno.js';
import { dmaBufInfo } from '../fd-info.js';
import { loadNative, syscall, type NativeAddon } from '../native/addon.js';
import { meminfo } from '../../platform/live.js';

const PAGE = 4096;
const MFD_CLOEXEC = 1;
const MFD_ALLOW_SEALING = 2;
const F_SEAL_SHRINK = 2;
const UDMABUF_FLAGS_CLOEXEC = 1;
export const UDMABUF_HEAP = 'udmabuf';

export class UdmabufBackend implements KernelBackend {
  readonly kind = 'udmabuf';
  readonly #device: string;
  readonly #addon: NativeAddon;
  readonly #open = new Map<number, number>();
  #devFd: number | undefined;
  #used = 0;

  constructor(options: { device?: string; addon?: NativeAddon } = {}) {
    this.#device = options.device ?? '/dev/udmabuf';
    this.#addon = options.addon ?? loadNative();
  }

  heaps(): HeapInfo[] {
    return [{ name: UDMABUF_HEAP, kind: 'system', base: undefined, contiguous: false, cpuAccess: true, path: this.#device, ...this.heapStats() }];
  }

  heapStats(): HeapStats {
    const mem = meminfo('/');
    const free = mem['MemAvailable'] ?? 0;
    return { capacity: mem['MemTotal'] ?? 0, used: this.#used, free, largestFree: free };
  }

  allocate(heap: string, len: number, _flags: AllocateFlags = {}): number {
    if (heap !== UDMABUF_HEAP) throw new KernelError('UDMABUF_CREATE', 'ENOENT', { heap, detail: `the udmabuf backend has one heap, "${UDMABUF_HEAP}"` });
    const size = Math.ceil(len / PAGE) * PAGE;
    if (size === 0) throw new KernelError('UDMABUF_CREATE', 'EINVAL', { heap, detail: 'len is 0' });
    this.#devFd ??= syscall('open', { heap }, () => openSync(this.#device, O_RDWR | O_CLOEXEC));
    const memfd = syscall('memfd_create', { heap }, () => this.#addon.memfdCreate('udalloc', MFD_CLOEXEC | MFD_ALLOW_SEALING));
    try {
      syscall('ftruncate', { heap }, () => ftruncateSync(memfd, size));
      syscall('F_ADD_SEALS', { heap }, () => this.#addon.addSeals(memfd, F_SEAL_SHRINK));
      const devFd = this.#devFd;
      const fd = syscall('UDMABUF_CREATE', { heap }, () => this.#addon.udmabufCreate(devFd, memfd, 0, size, UDMABUF_FLAGS_CLOEXEC));
      this.#open.set(fd, size);
      this.#used += size;
      return fd;
    } finally {
      closeSync(memfd);
    }
  }

  dup(fd: number): number {
    this.#get(fd, 'dup');
    const copy = syscall('dup', { fd }, () => this.#addon.dup(fd));
    this.#open.set(copy, 0);
    return copy;
  }

  close(fd: number): void {
    const size = this.#get(fd, 'close');
    this.#open.delete(fd);
    this.#used -= size;
    syscall('close', { fd }, () => closeSync(fd));
  }

  map(fd: number): Mapping {
    this.#get(fd, 'mmap');
    const bytes = syscall('mmap', { fd }, () => this.#addon.mmap(fd, dmaBufInfo(fd).size, true));
    let mapped = true;
    return {
      bytes,
      unmap: () => {
        if (!mapped) throw new KernelError('munmap', 'EINVAL', { fd });
        mapped = false;
        syscall('munmap', { fd }, () => this.#addon.munmap(bytes));
      },
    };
  }

  sync(fd: number, flags: number): void {
    this.#get(fd, 'DMA_BUF_IOCTL_SYNC');
    syscall('DMA_BUF_IOCTL_SYNC', { fd }, () => this.#addon.dmaBufSync(fd, flags));
  }

  setName(fd: number, name: string): void {
    this.#get(fd, 'DMA_BUF_SET_NAME');
    syscall('DMA_BUF_SET_NAME', { fd }, () => this.#addon.dmaBufSetName(fd, name));
  }

  info(fd: number): DmaBufInfo {
    this.#get(fd, 'fstat');
    return dmaBufInfo(fd);
  }

  openFds(): number[] {
    return [...this.#open.keys()].sort((a, b) => a - b);
  }

  dispose(): void {
    if (this.#devFd !== undefined) closeSync(this.#devFd);
    this.#devFd = undefined;
  }

  #get(fd: number, op: string): number {
    const size = this.#open.get(fd);
    if (size === undefined) throw new KernelError(op, 'EBADF', { fd, detail: 'not a dma-buf fd opened by this backend' });
    return size;
  }
}
