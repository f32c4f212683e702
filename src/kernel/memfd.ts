// A sealed memfd of a given size (memfd_create(2), ftruncate, fcntl(2) F_ADD_SEALS): the memory
// udmabuf wraps into a dma-buf, and what the service hands out in place of a simulated dma-buf.

import { closeSync, ftruncateSync } from 'node:fs';
import { syscall, type NativeAddon } from './native/addon.js';

// include/uapi/linux/memfd.h and include/uapi/linux/fcntl.h
export const MFD_CLOEXEC = 0x1;
export const MFD_ALLOW_SEALING = 0x2;
export const F_SEAL_SEAL = 0x1;
export const F_SEAL_SHRINK = 0x2;
export const F_SEAL_GROW = 0x4;

/** A close-on-exec memfd of `size` bytes with `seals` added; `heap` names it in errors. */
export function sealedMemfd(addon: NativeAddon, name: string, size: number, seals: number, heap: string): number {
  const fd = syscall('memfd_create', { heap }, () => addon.memfdCreate(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  try {
    syscall('ftruncate', { heap, fd }, () => ftruncateSync(fd, size));
    syscall('F_ADD_SEALS', { heap, fd }, () => addon.addSeals(fd, seals));
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}
