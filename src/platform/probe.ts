// What no uAPI says, measured: whether a device can use scattered pages. A buffer from the system
// heap (made of separate chunks) and one from a CMA heap (physically contiguous) are each imported
// into the device: into a V4L2 capture queue (REQBUFS + QBUF + STREAMON + DQBUF with
// V4L2_MEMORY_DMABUF) or a DRM card (PRIME + ADDFB2). A device that takes the scattered buffer maps
// any pages (as with an IOMMU); one that refuses it and takes the contiguous one needs contiguous
// memory. Everything is undone (RMFB, REQBUFS 0, STREAMOFF, close); a probe that cannot run says why.

import { closeSync, constants, openSync } from 'node:fs';
import type { DmaHeapBackend } from '../kernel/dma-heap/backend.js';
import type { DrmAddon, NativeAddon } from '../kernel/native/addon.js';

export interface ProbeResult {
  /** true: takes scattered pages; false: needs contiguous memory; undefined: the probe could not tell. */
  readonly anyPages: boolean | undefined;
  /** What was tried and what the driver answered. */
  readonly evidence: string;
}

const XR24 = 0x34325258;
const WIDTH = 640;
const HEIGHT = 480;
/** A system-heap buffer of this size is built from one order-8 chunk (1 MiB) and eight order-4 chunks
 *  (64 KiB): drivers/dma-buf/heaps/system_heap.c orders[] = {8, 4, 0}, largest first, in that order
 *  in the scatterlist. */
const SCATTERED_MIN = 1536 * 1024;
/** Scattered chunks can sit next to each other by chance: a device that takes them must do so every time. */
const SCATTERED_TRIES = 3;
/** 64 KiB system-heap buffers held while the probe buffer is drawn (see scatter()). */
const FRAGMENT_SIZE = 64 * 1024;
const FRAGMENTS = 24;

export interface ProbeHeaps {
  readonly backend: DmaHeapBackend;
  readonly system: string;
  readonly contiguous: string;
}

/** The heaps a probe draws from: the system heap and a CMA heap, or why there are none. */
export function probeHeaps(backend: DmaHeapBackend): ProbeHeaps | string {
  const heaps = backend.heaps();
  const system = heaps.find((h) => h.kind === 'system');
  const cma = heaps.find((h) => h.kind === 'cma');
  if (!system || !cma) return `no ${!system ? 'system' : 'CMA'} heap in /dev/dma_heap to draw the probe's ${!system ? 'scattered' : 'contiguous'} buffer from`;
  return { backend, system: system.name, contiguous: cma.name };
}

function errno(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

/** Imports a buffer of `heap` and reports the driver's verdict (true: taken). */
function tryBuffer(heaps: ProbeHeaps, heap: string, size: number, use: (fd: number) => void): { ok: boolean; why: string } {
  let fd: number;
  try {
    fd = heaps.backend.allocate(heap, size);
  } catch (err) {
    return { ok: false, why: `could not allocate from ${heap}: ${errno(err)}` };
  }
  try {
    use(fd);
    return { ok: true, why: 'taken' };
  } catch (err) {
    return { ok: false, why: (err as Error).message };
  } finally {
    heaps.backend.close(fd);
  }
}

/**
 * Runs `draw` with the buddy allocator's order-4 free list led by chunks that are not next to each
 * other, so that the system-heap buffer drawn is scattered and not contiguous by chance (on a freshly
 * booted machine the order-4 chunks would otherwise be split, in ascending order, from the free
 * block just after the order-8 one). 24 single-chunk 64 KiB buffers are allocated, every second one
 * is freed: a freed order-4 chunk whose buddy is still held cannot merge and goes to the head of its
 * free list (mm/page_alloc.c __free_one_page(), buddy_merge_likely()), so the buffer's order-4
 * chunks are taken from there, each with a held chunk before it. The rest are freed after.
 */
function scatter<T>(heaps: ProbeHeaps, draw: () => T): T {
  const held: number[] = [];
  try {
    for (let i = 0; i < FRAGMENTS; i++) held.push(heaps.backend.allocate(heaps.system, FRAGMENT_SIZE));
  } catch {
    // Memory too short to fragment: the probe still runs, with what the allocator gives.
  }
  for (let i = held.length - 1; i >= 0; i -= 2) heaps.backend.close(held.splice(i, 1)[0]!);
  try {
    return draw();
  } finally {
    for (const fd of held) heaps.backend.close(fd);
  }
}

function verdict(contiguous: { ok: boolean; why: string }, scattered: Array<{ ok: boolean; why: string }>, how: string): ProbeResult {
  const tookScattered = scattered.every((s) => s.ok);
  if (!contiguous.ok && !tookScattered) return { anyPages: undefined, evidence: `probe (${how}): refused both a contiguous buffer (${contiguous.why}) and a scattered one (${scattered.find((s) => !s.ok)!.why}): cannot tell` };
  if (tookScattered) return { anyPages: true, evidence: `probe (${how}): took a scattered system-heap buffer ${scattered.length} times${contiguous.ok ? ' and a contiguous CMA one' : ''}: maps any pages` };
  return { anyPages: false, evidence: `probe (${how}): took a contiguous CMA buffer, refused a scattered system-heap one (${scattered.find((s) => !s.ok)!.why}): needs contiguous memory` };
}

/** Probes a V4L2 capture node: one buffer queued, streamed and dequeued, with each kind of memory. */
export function probeV4l2(node: string, addon: NativeAddon, heaps: ProbeHeaps): ProbeResult {
  const k = addon.v4l2Constants();
  const dmabuf = k['V4L2_MEMORY_DMABUF']!;
  let fd: number;
  try {
    fd = openSync(node, constants.O_RDWR | constants.O_NONBLOCK);
  } catch (err) {
    return { anyPages: undefined, evidence: `probe: cannot open ${node}: ${errno(err)}` };
  }
  try {
    // A multi-planar capture queue takes XR24 too (one plane), through the *_MPLANE buffer type.
    let type = k['V4L2_BUF_TYPE_VIDEO_CAPTURE']!;
    try {
      const caps = addon.v4l2QueryCap(fd).deviceCaps;
      if ((caps & k['V4L2_CAP_VIDEO_CAPTURE']!) === 0 && (caps & k['V4L2_CAP_VIDEO_CAPTURE_MPLANE']!) !== 0) type = k['V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE']!;
    } catch (err) {
      return { anyPages: undefined, evidence: `probe: VIDIOC_QUERYCAP on ${node} failed (${errno(err)}): cannot tell` };
    }
    let sizeimage: number;
    try {
      sizeimage = addon.v4l2Format(fd, type, WIDTH, HEIGHT, XR24, 0, true).planes[0]!.sizeimage;
    } catch (err) {
      return { anyPages: undefined, evidence: `probe: VIDIOC_S_FMT XR24 on ${node} failed (${errno(err)}): cannot tell` };
    }
    const capture = (size: number) => (buf: number) => {
      addon.v4l2ReqBufs(fd, type, dmabuf, 1);
      let streaming = false;
      try {
        addon.v4l2QueueDmabuf(fd, type, 0, buf, size);
        addon.v4l2Stream(fd, type, true);
        streaming = true;
        addon.v4l2Dequeue(fd, type, 10_000);
      } finally {
        if (streaming) addon.v4l2Stream(fd, type, false);
        addon.v4l2ReqBufs(fd, type, dmabuf, 0);
      }
    };
    const contiguousSize = Math.ceil(sizeimage / 4096) * 4096;
    const scatteredSize = Math.max(contiguousSize, SCATTERED_MIN);
    const contiguous = tryBuffer(heaps, heaps.contiguous, contiguousSize, capture(contiguousSize));
    const scattered: Array<{ ok: boolean; why: string }> = [];
    for (let i = 0; i < SCATTERED_TRIES; i++) {
      const r = scatter(heaps, () => tryBuffer(heaps, heaps.system, scatteredSize, capture(scatteredSize)));
      scattered.push(r);
      if (!r.ok) break;
    }
    return verdict(contiguous, scattered, `${node}: REQBUFS, QBUF, STREAMON, DQBUF with V4L2_MEMORY_DMABUF`);
  } finally {
    closeSync(fd);
  }
}

/** Probes a DRM card: each kind of memory imported (PRIME) and wrapped in a framebuffer (ADDFB2). */
export function probeDrm(node: string, addon: DrmAddon, heaps: ProbeHeaps): ProbeResult {
  let fd: number;
  try {
    fd = openSync(node, constants.O_RDWR);
  } catch (err) {
    return { anyPages: undefined, evidence: `probe: cannot open ${node}: ${errno(err)}` };
  }
  try {
    const pitch = WIDTH * 4;
    const fb = (buf: number) => {
      const { fbId, handle } = addon.drmImport(fd, buf, WIDTH, HEIGHT, XR24, [pitch], [0], null);
      addon.drmRelease(fd, fbId, handle);
    };
    const contiguous = tryBuffer(heaps, heaps.contiguous, pitch * HEIGHT, fb);
    const scattered: Array<{ ok: boolean; why: string }> = [];
    for (let i = 0; i < SCATTERED_TRIES; i++) {
      const r = scatter(heaps, () => tryBuffer(heaps, heaps.system, Math.max(pitch * HEIGHT, SCATTERED_MIN), fb));
      scattered.push(r);
      if (!r.ok) break;
    }
    return verdict(contiguous, scattered, `${node}: PRIME_FD_TO_HANDLE and ADDFB2 of a ${WIDTH}x${HEIGHT} XRGB8888 framebuffer`);
  } finally {
    closeSync(fd);
  }
}
