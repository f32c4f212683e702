// Loading the native binding (native/src/udalloc_native.c). Optional: machines that only use the
// simulated kernel never load it, and a missing build is a clear error naming the fix.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { KernelError, type Errno } from '../errno.js';

export interface NativeAddon {
  dmaHeapAlloc(heapFd: number, len: number, fdFlags: number, heapFlags: number): number;
  dmaBufSync(fd: number, flags: number): void;
  dmaBufSetName(fd: number, name: string): void;
  dmaBufExportSyncFile(fd: number, flags: number): number;
  mmap(fd: number, len: number, writable: boolean): ArrayBuffer;
  munmap(buffer: ArrayBuffer): void;
  dup(fd: number): number;
  close(fd: number): void;
  memfdCreate(name: string, flags: number): number;
  addSeals(fd: number, seals: number): void;
  inotifyInit(): number;
  /** A watch on the inode behind `path`, for its IN_IGNORED when the inode goes. */
  inotifyWatchGone(inotifyFd: number, path: string): number;
  inotifyUnwatch(inotifyFd: number, wd: number): void;
  /** Watch descriptors whose inode went (IN_IGNORED), from the queued events (non-blocking). */
  inotifyDrain(inotifyFd: number): number[];
  udmabufCreate(devFd: number, memfd: number, offset: number, size: number, flags: number): number;
  ionHeapQuery(ionFd: number): Array<{ name: string; type: number; heapId: number }>;
  ionAlloc(ionFd: number, len: number, heapIdMask: number, flags: number): number;
  constants(): Record<string, number>;
  v4l2QueryCap(fd: number): { driver: string; card: string; busInfo: string; version: number; capabilities: number; deviceCaps: number };
  v4l2EnumFmt(fd: number, type: number, index: number): { pixelformat: number; description: string; flags: number } | null;
  v4l2Format(fd: number, type: number, width: number, height: number, pixelformat: number, bytesperline: number, set: boolean): { width: number; height: number; pixelformat: number; field: number; planes: Array<{ bytesperline: number; sizeimage: number }> };
  v4l2ReqBufs(fd: number, type: number, memory: number, count: number): { count: number; capabilities: number };
  v4l2QueueDmabuf(fd: number, type: number, index: number, dmabufFd: number, length: number): void;
  /** QBUF on a multi-planar queue: a dma-buf per plane. */
  v4l2QueueDmabufPlanes(fd: number, type: number, index: number, dmabufFds: readonly number[], lengths: readonly number[]): void;
  v4l2SetControl(fd: number, id: number, value: number): void;
  /** `planes`: each plane's bytesused and data_offset, on a multi-planar queue (empty otherwise). */
  v4l2Dequeue(fd: number, type: number, timeoutMs: number): { index: number; bytesused: number; sequence: number; flags: number; planes: Array<{ bytesused: number; dataOffset: number }> };
  v4l2Stream(fd: number, type: number, on: boolean): void;
  v4l2Constants(): Record<string, number>;
}

/** What the DRM module (native/src/drm.c, built only where libdrm's headers are) answers. */
export interface DrmDescription {
  readonly driver: string;
  readonly prime: number;
  readonly addfb2Modifiers: number;
  readonly atomic: number;
  readonly planes: ReadonlyArray<{ id: number; type: number; possibleCrtcs: number; formats: number[]; pairs: Array<[number, string]> | null }>;
  readonly writeback: ReadonlyArray<{ id: number; formats: number[] }>;
}

export interface DrmAddon {
  drmDescribe(fd: number): DrmDescription;
  /** PRIME_FD_TO_HANDLE + ADDFB2 (with the modifier as "0x..." when given). */
  drmImport(fd: number, dmabufFd: number, width: number, height: number, fourcc: number, pitches: number[], offsets: number[], modifier: string | null): { fbId: number; handle: number };
  drmRelease(fd: number, fbId: number, handle: number): void;
  /** One atomic commit: fbId full screen on the plane, the writeback connector writing into writebackFbId; waits for its fence. */
  drmWriteback(fd: number, planeId: number, fbId: number, writebackFbId: number, width: number, height: number, timeoutMs: number): void;
  /** The pitch the driver picks for a dumb buffer (created and destroyed at once). */
  drmDumbPitch(fd: number, width: number, height: number, bpp: number): number;
}

/** native/build/Release/udalloc_drm.node: the libdrm part, separate so the core binding never needs libdrm. */
export const DRM_ADDON_PATH = fileURLToPath(new URL('../../../../native/build/Release/udalloc_drm.node', import.meta.url));

let cachedDrm: DrmAddon | undefined;

export function loadDrmNative(path = DRM_ADDON_PATH): DrmAddon {
  if (cachedDrm) return cachedDrm;
  if (!existsSync(path)) throw new Error(`the DRM part of the native binding is not built (${path} is missing): it needs libdrm-dev, then "npm run build:native"`);
  cachedDrm = createRequire(import.meta.url)(path) as DrmAddon;
  return cachedDrm;
}

/** native/build/Release/udalloc_native.node, relative to the package root (dist/src/kernel/native). */
export const ADDON_PATH = fileURLToPath(new URL('../../../../native/build/Release/udalloc_native.node', import.meta.url));

let cached: NativeAddon | undefined;

export function loadNative(path = ADDON_PATH): NativeAddon {
  if (cached) return cached;
  if (!existsSync(path)) throw new Error(`the native binding is not built (${path} is missing): run "npm run build:native" (needs g++ and Node's headers)`);
  cached = createRequire(import.meta.url)(path) as NativeAddon;
  return cached;
}

const KNOWN: readonly Errno[] = ['EPERM', 'ENOENT', 'EINTR', 'EBADF', 'ENOMEM', 'EFAULT', 'EBUSY', 'ENODEV', 'EINVAL', 'EMFILE'];

/** The KernelError for a failed native or fs call (err.code is its errno name); other errors pass through. */
export function kernelError(op: string, context: { heap?: string; fd?: number }, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && (KNOWN as readonly string[]).includes(code)) return new KernelError(op, code as Errno, { ...context, detail: (err as Error).message });
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return new KernelError(op, 'EINVAL', { ...context, detail: `${code}: ${(err as Error).message}` });
  return err;
}

/** Runs a native or fs call, turning its errno (err.code) into a KernelError. */
export function syscall<T>(op: string, context: { heap?: string; fd?: number }, call: () => T): T {
  try {
    return call();
  } catch (err) {
    throw kernelError(op, context, err);
  }
}
