// On the simulated kernel a buffer has no kernel object a client could receive. The service hands
// out a sealed memfd of the planned size in its place: a real fd the client can fstat, mmap, write
// and read, whose size cannot change (memfd_create(2), fcntl(2) F_ADD_SEALS).

import { closeSync, ftruncateSync } from 'node:fs';
import { loadNative, syscall } from '../kernel/native/addon.js';

// include/uapi/linux/memfd.h and include/uapi/linux/fcntl.h
const MFD_CLOEXEC = 0x1;
const MFD_ALLOW_SEALING = 0x2;
const F_SEAL_SEAL = 0x1;
const F_SEAL_SHRINK = 0x2;
const F_SEAL_GROW = 0x4;

/** The memfd's name (shown as "/memfd:udalloc:<heap>" in /proc/<pid>/fd and maps). */
export const STAND_IN_PREFIX = 'udalloc:';

export function sealedMemfd(heap: string, size: number): number {
  const addon = loadNative();
  const fd = syscall('memfd_create', { heap }, () => addon.memfdCreate(`${STAND_IN_PREFIX}${heap}`.slice(0, 240), MFD_CLOEXEC | MFD_ALLOW_SEALING));
  try {
    syscall('ftruncate', { heap, fd }, () => ftruncateSync(fd, size));
    syscall('F_ADD_SEALS', { heap, fd }, () => addon.addSeals(fd, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}
