// Runs inside the QEMU guest (see test/kernel/qemu.test.ts) on Linux 6.12 with three vivid capture
// instances (vivid.allocators=1,0,1 multiplanar=1,1,2: the first uses vb2-dma-contig and needs
// contiguous memory, the second vmalloc, the third is multi-planar on vb2-dma-contig) and vkms (a
// virtual display with a writeback connector). With nothing but discovery as input, udalloc plans
// camera buffers, allocates them from the real heaps, and vivid captures its test pattern into them
// through V4L2_MEMORY_DMABUF.

import assert from 'node:assert/strict';
import { closeSync, constants, openSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { openSync as openAllocator } from '../src/allocator/allocator.js';
import type { DmaBuffer } from '../src/allocator/buffer.js';
import type { Platform } from '../src/constraints/model.js';
import { DmaHeapBackend } from '../src/kernel/dma-heap/backend.js';
import { loadDrmNative, loadNative } from '../src/kernel/native/addon.js';
import { discoverLive } from '../src/platform/live.js';
import { platformFromDiscovery } from '../src/platform/select.js';
import { parsePipeline } from '../src/pipeline/description.js';
import { planPipeline } from '../src/pipeline/planner.js';
import { allocatePipeline } from '../src/pipeline/allocate.js';

const native = loadNative();
const K = native.v4l2Constants();
const CAPTURE = K['V4L2_BUF_TYPE_VIDEO_CAPTURE']!;
const XR24 = 0x34325258;

function discovered(): { platform: Platform; live: ReturnType<typeof discoverLive> } {
  const live = discoverLive('/');
  return { platform: platformFromDiscovery(live, 'qemu-live'), live };
}

/** Captures one frame into `bufs` (already allocated) on /dev/videoN; returns the bytes of the first filled buffer. */
function capture(node: string, bufs: readonly DmaBuffer[], pitch: number, fourcc = XR24): { index: number; bytesused: number; pixels: Uint8Array } {
  const fd = openSync(node, constants.O_RDWR | constants.O_NONBLOCK);
  try {
    const f = native.v4l2Format(fd, CAPTURE, 640, 480, fourcc, pitch, true);
    assert.deepStrictEqual([f.width, f.height, f.planes[0]!.bytesperline], [640, 480, pitch], 'the driver took the plan pitch');
    native.v4l2ReqBufs(fd, CAPTURE, K['V4L2_MEMORY_DMABUF']!, bufs.length);
    try {
      bufs.forEach((b, i) => native.v4l2QueueDmabuf(fd, CAPTURE, i, b.fd, b.size));
      native.v4l2Stream(fd, CAPTURE, true);
      const done = native.v4l2Dequeue(fd, CAPTURE, 20_000);
      native.v4l2Stream(fd, CAPTURE, false);
      const view = bufs[done.index]!.map('read');
      const pixels = new Uint8Array(view.bytes.slice(0, done.bytesused));
      view.end();
      return { index: done.index, bytesused: done.bytesused, pixels };
    } finally {
      native.v4l2ReqBufs(fd, CAPTURE, K['V4L2_MEMORY_DMABUF']!, 0);
    }
  } finally {
    closeSync(fd);
  }
}

describe('real drivers: vkms as discovery sees it', () => {
  it('the card scans out XRGB8888 linear (from its planes), its writeback connector writes XRGB8888, and it imports dma-bufs', () => {
    const { live } = discovered();
    const card = live.devices.find((d) => d.compatible === 'vkms')!;
    assert.ok(card, live.devices.map((d) => `${d.name} ${d.compatible}`).join(', '));
    const scanout = card.formats!.find((f) => f.format === 'XRGB8888')!;
    assert.deepStrictEqual([scanout.access, scanout.modifiers[0]], ['read', 'LINEAR']);
    assert.ok(card.formats!.some((f) => f.format === 'ARGB8888'));
    const wb = live.devices.find((d) => d.name === `${card.name}-writeback`)!;
    assert.deepStrictEqual(wb.formats!.find((f) => f.format === 'XRGB8888')!.access, 'write');
    assert.ok(!live.notes.some((n) => /no DRM_CAP_PRIME/.test(n)), live.notes.join('\n'));
    // What each plane feeds, and the pitch vkms picks for its own buffers (exact: width x 4).
    assert.ok(live.notes.some((n) => /\/dev\/dri\/card0 \(vkms\): plane \d+ primary -> CRTC 0/.test(n)), live.notes.join('\n'));
    assert.ok(live.notes.some((n) => /dumb-buffer pitch at 32 bpp \(a hint\): 640 px -> 2560, 641 px -> 2564/.test(n)), live.notes.join('\n'));
  });

  it('camera to display negotiates from discovery alone; NV12 is a conflict that names the display\'s plane formats', () => {
    const { platform, live } = discovered();
    const card = live.devices.find((d) => d.compatible === 'vkms')!;
    const backend = new DmaHeapBackend();
    const dev = openAllocator({ platform, backend });
    try {
      const plan = dev.negotiate({ width: 640, height: 480, formats: ['XRGB8888'], devices: ['video0:write', `${card.name}:read`], count: 3 });
      assert.strictEqual(plan.format, 'XRGB8888');
      assert.strictEqual(plan.heap.describe().kind, 'cma');
      assert.throws(
        () => dev.negotiate({ width: 640, height: 480, formats: ['NV12'], devices: ['video0:write', `${card.name}:read`] }),
        (err) => (err as { conflict?: { core: Array<{ device?: string; constraint: string }> } }).conflict?.core.some((a) => a.device === card.name && a.constraint === 'formats') === true,
      );
    } finally {
      dev.close();
      backend.dispose();
    }
  });
});

describe('real drivers: vivid capture into udalloc buffers', () => {
  it('discovery asks every vivid instance: XRGB8888 among their formats, dma-buf import, a pitch rule', () => {
    const { live } = discovered();
    const vivid = live.devices.filter((d) => /vivid/.test(d.compatible));
    assert.deepStrictEqual(vivid.map((d) => d.name), ['video0', 'video1', 'video2'], live.notes.join('\n'));
    for (const d of vivid) {
      const xrgb = d.formats!.find((f) => f.format === 'XRGB8888')!;
      assert.ok(xrgb, `${d.name}: ${d.formats!.map((f) => f.format).join(', ')}`);
      assert.strictEqual(xrgb.access, 'write');
      assert.match(xrgb.source, /VIDIOC_ENUM_FMT index \d+ XR24 .*pitch: .*TRY_FMT 641x480 -> width \d+, bytesperline \d+/);
      // vivid's webcam snaps to its frame sizes but keeps any longer bytesperline: no alignment beyond the bytes.
      assert.match(xrgb.source, /kept the bytesperline asked: 2561, 2562/);
      assert.strictEqual(xrgb.pitchAlign, 1);
    }
    assert.ok(!live.notes.some((n) => /does not import dma-bufs/.test(n)), live.notes.join('\n'));
    // Single-planar NV12: the driver finds the chroma plane itself, right after luma.
    assert.strictEqual(vivid[0]!.formats!.find((f) => f.format === 'NV12')?.implicitPlaneOffsets, true);
    // Raw Bayer is kept as V4L2's own format, with the driver's pitch rule.
    const bayer = vivid[0]!.formats!.find((f) => f.format === 'SBGGR8');
    assert.ok(bayer && bayer.access === 'write' && /BA81 \(V4L2_PIX_FMT_SBGGR8: raw Bayer/.test(bayer.source), vivid[0]!.formats!.map((f) => f.format).join(', '));
    assert.ok(!live.notes.some((n) => /BA81 \(/.test(n)), live.notes.join('\n'));
    // The multi-planar instance: NV12M (NM12) kept as V4L2's own format, a dma-buf per plane.
    const nv12m = vivid[2]!.formats!.find((f) => f.format === 'NV12M');
    assert.ok(nv12m && nv12m.access === 'write' && /NM12 \(V4L2_PIX_FMT_NV12M/.test(nv12m.source), vivid[2]!.formats!.map((f) => f.format).join(', '));
    assert.ok(vivid[2]!.formats!.some((f) => f.format === 'YUV420M'));
    assert.ok(!live.notes.some((n) => /NM12 \(/.test(n)), live.notes.join('\n'));
    // XRGB555 maps to DRM's XRGB1555; its big-endian twin is named as such, not with a stray byte.
    assert.ok(vivid[0]!.formats!.some((f) => f.format === 'XRGB1555'));
    assert.ok(!live.notes.some((n) => n.includes('\u00b5')) && live.notes.some((n) => n.includes('XR15-BE')), live.notes.join('\n'));
  });

  it('a plan from discovery alone allocates in CMA, and vivid captures its test pattern into it with the plan pitch', () => {
    const { platform } = discovered();
    const backend = new DmaHeapBackend();
    const dev = openAllocator({ platform, backend });
    try {
      const plan = dev.negotiate({ width: 640, height: 480, formats: ['XRGB8888'], devices: ['video0:write'], cpu: 'read', count: 3 });
      // vivid has no IOMMU group: contiguous memory, the CMA heap.
      assert.strictEqual(plan.heap.describe().kind, 'cma');
      const bufs = dev.allocateSync(plan);
      try {
        const { bytesused, pixels } = capture('/dev/video0', bufs, plan.planes[0]!.pitch);
        assert.strictEqual(bytesused, plan.planes[0]!.pitch * 480);
        // The test pattern (colour bars) is not uniform.
        const distinct = new Set<number>();
        for (let i = 0; i < pixels.length; i += 4 * 61) distinct.add(pixels[i]! | (pixels[i + 1]! << 8) | (pixels[i + 2]! << 16));
        assert.ok(distinct.size >= 4, `${distinct.size} distinct colours`);
      } finally {
        bufs.forEach((b) => b.close());
      }
    } finally {
      dev.close();
      backend.dispose();
    }
  });

  it('raw Bayer from discovery alone: vivid captures SBGGR8 into udalloc buffers with the plan pitch (one byte a pixel)', () => {
    const { platform } = discovered();
    const backend = new DmaHeapBackend();
    const dev = openAllocator({ platform, backend });
    try {
      const plan = dev.negotiate({ width: 640, height: 480, formats: ['SBGGR8'], devices: ['video0:write'], cpu: 'read', count: 2 });
      assert.deepStrictEqual([plan.format, plan.planes[0]!.pitch, plan.heap.describe().kind], ['SBGGR8', 640, 'cma']);
      const bufs = dev.allocateSync(plan);
      try {
        const { bytesused, pixels } = capture('/dev/video0', bufs, plan.planes[0]!.pitch, 0x31384142 /* 'BA81' */);
        assert.strictEqual(bytesused, 640 * 480);
        // vivid's colour bars as a Bayer mosaic: the first bar is white (every sample of every colour
        // lit), the last is black (every sample darker than any of white's).
        const row = pixels.subarray(640 * 10, 640 * 11);
        const white = row.subarray(0, 64);
        const black = row.subarray(640 - 64);
        assert.ok(Math.min(...white) > Math.max(...black), `white ${Math.min(...white)}, black ${Math.max(...black)}`);
      } finally {
        bufs.forEach((b) => b.close());
      }
    } finally {
      dev.close();
      backend.dispose();
    }
  });

  it('system-heap pages (scattered) are refused by the dma-contig vivid and taken by the vmalloc one', () => {
    const backend = new DmaHeapBackend();
    const { platform } = discovered();
    // Force the system heap: what the solver refuses for a device without an IOMMU.
    const forced = openAllocator({ platform: { ...platform, devices: platform.devices.map((d) => ({ ...d, iommu: true })) }, backend });
    try {
      const plan = forced.negotiate({ width: 640, height: 480, formats: ['XRGB8888'], devices: ['video0:write', 'video1:write'], cpu: 'read', count: 2 });
      assert.strictEqual(plan.heap.describe().kind, 'system');
      const bufs = forced.allocateSync(plan);
      try {
        assert.throws(() => capture('/dev/video0', bufs, plan.planes[0]!.pitch), (err) => /VIDIOC_QBUF|VIDIOC_STREAMON|VIDIOC_DQBUF/.test((err as Error).message));
        const ok = capture('/dev/video1', bufs, plan.planes[0]!.pitch);
        assert.strictEqual(ok.bytesused, plan.planes[0]!.pitch * 480);
      } finally {
        bufs.forEach((b) => b.close());
      }
    } finally {
      forced.close();
      backend.dispose();
    }
  });
});

/** vivid's OSD text mode control (drivers/media/test-drivers/vivid/vivid-ctrls.c): 2 is "None". */
const VIVID_CID_OSD_TEXT_MODE = 0x00f0f001;
const NV12_V4L2 = 0x3231564e; // 'NV12'
const NM12 = 0x32314d4e; // 'NM12': V4L2_PIX_FMT_NV12M

describe('real drivers: a multi-planar capture, a dma-buf per plane', () => {
  it('vivid captures NV12M into per-plane udalloc buffers planned from discovery alone; the planes equal the single-planar NV12 capture of the same pattern', () => {
    const { platform } = discovered();
    const backend = new DmaHeapBackend();
    const dev = openAllocator({ platform, backend });
    const MPLANE = K['V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE']!;
    const DMABUF = K['V4L2_MEMORY_DMABUF']!;
    const quiet = (node: string, mode: number) => {
      const fd = openSync(node, constants.O_RDWR);
      try {
        native.v4l2SetControl(fd, VIVID_CID_OSD_TEXT_MODE, mode);
      } finally {
        closeSync(fd);
      }
    };
    // No text over the pattern (it names the instance): both instances then draw the same frame.
    quiet('/dev/video0', 2);
    quiet('/dev/video2', 2);
    try {
      // 1. Single-planar NV12 on the first instance: both planes in one buffer, chroma after luma.
      const single = dev.negotiate({ width: 640, height: 480, formats: ['NV12'], devices: ['video0:write'], cpu: 'read', count: 2 });
      const singleBufs = dev.allocateSync(single);
      let reference: Uint8Array;
      try {
        reference = capture('/dev/video0', singleBufs, single.planes[0]!.pitch, NV12_V4L2).pixels;
      } finally {
        singleBufs.forEach((b) => b.close());
      }
      // 2. NV12M on the multi-planar instance: the plan gives a buffer per plane, in CMA (no IOMMU).
      const plan = dev.negotiate({ width: 640, height: 480, formats: ['NV12M'], devices: ['video2:write'], cpu: 'read', count: 2 });
      assert.deepStrictEqual([plan.format, plan.heap.describe().kind, plan.planes.map((p) => [p.offset, p.pitch])], ['NV12M', 'cma', [[0, 640], [0, 640]]]);
      const bufs = dev.allocateSync(plan);
      assert.strictEqual(bufs.length, 4);
      const fd = openSync('/dev/video2', constants.O_RDWR | constants.O_NONBLOCK);
      try {
        const f = native.v4l2Format(fd, MPLANE, 640, 480, NM12, plan.planes[0]!.pitch, true);
        assert.deepStrictEqual([f.width, f.height, f.planes.map((p) => p.bytesperline)], [640, 480, plan.planes.map((p) => p.pitch)], 'the driver took the plan pitches');
        native.v4l2ReqBufs(fd, MPLANE, DMABUF, bufs.frames!.length);
        try {
          bufs.frames!.forEach((frame, i) => native.v4l2QueueDmabufPlanes(fd, MPLANE, i, frame.map((b) => b.fd), frame.map((b) => b.size)));
          native.v4l2Stream(fd, MPLANE, true);
          const done = native.v4l2Dequeue(fd, MPLANE, 20_000);
          native.v4l2Stream(fd, MPLANE, false);
          assert.deepStrictEqual(done.planes.map((p) => [p.bytesused, p.dataOffset]), [[640 * 480, 0], [640 * 240, 0]]);
          const [y, uv] = bufs.frames![done.index]!.map((b, p) => {
            const view = b.map('read');
            const bytes = new Uint8Array(view.bytes.slice(0, done.planes[p]!.bytesused));
            view.end();
            return bytes;
          });
          const luma = reference.subarray(0, 640 * 480);
          const chroma = reference.subarray(single.planes[1]!.offset, single.planes[1]!.offset + 640 * 240);
          let differ = 0;
          for (let i = 0; i < luma.length; i++) if (luma[i] !== y![i]) differ++;
          for (let i = 0; i < chroma.length; i++) if (chroma[i] !== uv![i]) differ++;
          assert.strictEqual(differ, 0, 'every byte of both planes equals the single-planar capture');
          assert.ok(new Set(y!.subarray(640 * 10, 640 * 11)).size >= 4, 'the pattern is not uniform');
        } finally {
          native.v4l2ReqBufs(fd, MPLANE, DMABUF, 0);
        }
      } finally {
        closeSync(fd);
        bufs.forEach((b) => b.close());
      }
    } finally {
      quiet('/dev/video0', 0);
      quiet('/dev/video2', 0);
      dev.close();
      backend.dispose();
    }
  });
});

describe('real drivers end to end: vivid -> udalloc -> vkms -> writeback', () => {
  it('a captured frame, imported by vkms with the plan\'s pitch and scanned out, comes back through writeback with every colour byte equal', () => {
    const drm = loadDrmNative();
    const { platform, live } = discovered();
    const card = live.devices.find((d) => d.compatible === 'vkms')!;
    const backend = new DmaHeapBackend();
    const dev = openAllocator({ platform, backend });
    const cardFd = openSync('/dev/dri/card0', constants.O_RDWR);
    const imported: Array<{ fbId: number; handle: number }> = [];
    try {
      const plan = dev.negotiate({ width: 640, height: 480, formats: ['XRGB8888'], devices: ['video0:write', `${card.name}:read`], cpu: 'read', count: 3 });
      const wbPlan = dev.negotiate({ width: 640, height: 480, formats: ['XRGB8888'], devices: [`${card.name}-writeback:write`], cpu: 'read', count: 1 });
      const bufs = dev.allocateSync(plan);
      const [out] = dev.allocateSync(wbPlan);
      try {
        const pitch = plan.planes[0]!.pitch;
        const shot = capture('/dev/video0', bufs, pitch);
        const described = drm.drmDescribe(cardFd);
        const primary = described.planes.find((p) => p.type === 1)!;
        // ADDFB2 with the plan's pitches, offsets and modifier (the card takes explicit modifiers).
        assert.strictEqual(described.addfb2Modifiers, 1);
        const modifier = `0x${plan.modifierValue.toString(16).padStart(16, '0')}`;
        imported.push(drm.drmImport(cardFd, bufs[shot.index]!.fd, 640, 480, XR24, plan.planes.map((p) => p.pitch), plan.planes.map((p) => p.offset), modifier));
        imported.push(drm.drmImport(cardFd, out!.fd, 640, 480, XR24, wbPlan.planes.map((p) => p.pitch), wbPlan.planes.map((p) => p.offset), modifier));
        drm.drmWriteback(cardFd, primary.id, imported[0]!.fbId, imported[1]!.fbId, 640, 480, 20_000);
        const view = out!.map('read');
        const back = new Uint8Array(view.bytes.slice(0, wbPlan.planes[0]!.pitch * 480));
        view.end();
        let differ = 0;
        const colours = new Set<number>();
        for (let y = 0; y < 480; y++) {
          for (let x = 0; x < 640; x++) {
            const a = y * pitch + x * 4;
            const b = y * wbPlan.planes[0]!.pitch + x * 4;
            // B, G, R bytes; the X byte is undefined.
            for (let c = 0; c < 3; c++) if (shot.pixels[a + c] !== back[b + c]) differ++;
            if (x % 37 === 0) colours.add(shot.pixels[a]! | (shot.pixels[a + 1]! << 8) | (shot.pixels[a + 2]! << 16));
          }
        }
        assert.strictEqual(differ, 0, 'every colour byte of the writeback equals the captured frame');
        assert.ok(colours.size >= 4, `the frame is not uniform (${colours.size} colours)`);
      } finally {
        for (const f of imported.splice(0)) drm.drmRelease(cardFd, f.fbId, f.handle);
        bufs.forEach((b) => b.close());
        out!.close();
      }
    } finally {
      closeSync(cardFd);
      dev.close();
      backend.dispose();
    }
  });
});

describe('real drivers: probing contiguity (discover --probe)', () => {
  it('the dma-contig vivid needs contiguous memory; the vmalloc vivid and vkms take scattered pages; nothing is left behind', () => {
    const fdsBefore = readdirSync('/proc/self/fd').length;
    const live = discoverLive('/', true, true);
    const by = (name: string) => live.devices.find((d) => d.name === name)!;
    assert.deepStrictEqual([by('video0').iommu, by('video1').iommu, by('card0').iommu, by('card0-writeback').iommu], [false, true, true, true], live.notes.join('\n'));
    assert.match(by('video0').sources.iommu, /^probe \(\/dev\/video0: REQBUFS, QBUF, STREAMON, DQBUF with V4L2_MEMORY_DMABUF\): took a contiguous CMA buffer, refused a scattered system-heap one \(VIDIOC_/);
    assert.match(by('card0').sources.iommu, /^probe \(\/dev\/dri\/card0: PRIME_FD_TO_HANDLE and ADDFB2 .*\): took a scattered system-heap buffer 3 times and a contiguous CMA one: maps any pages/);
    assert.strictEqual(readdirSync('/proc/self/fd').length, fdsBefore, 'the probe closes every fd it opened');
    // With the probe's answers, the solver refuses the system heap for the dma-contig vivid, naming the probe.
    const platform = platformFromDiscovery(live, 'probed');
    const heapless = { ...platform, heaps: platform.heaps.filter((h) => h.kind === 'system') };
    const backend = new DmaHeapBackend();
    const dev = openAllocator({ platform: heapless, backend });
    try {
      assert.throws(
        () => dev.negotiate({ width: 640, height: 480, formats: ['XRGB8888'], devices: ['video0:write', 'card0:read'] }),
        (err) => (err as { conflict?: { core: Array<{ device?: string; constraint: string; source: string }> } }).conflict?.core.some((a) => a.device === 'video0' && a.constraint === 'iommu' && /refused a scattered system-heap one/.test(a.source)) === true,
      );
      // ... and the vmalloc vivid with the display plans in the system heap.
      assert.strictEqual(dev.negotiate({ width: 640, height: 480, formats: ['XRGB8888'], devices: ['video1:write', 'card0:read'] }).heap.describe().kind, 'system');
    } finally {
      dev.close();
      backend.dispose();
    }
  });
});

describe('real drivers, a whole pipeline from discovery: vivid Bayer -> CPU demosaic -> vkms -> writeback', () => {
  it('the planner gives the CPU a conversion step (vkms reads no Bayer); the frame vkms composes and writes back equals the CPU\'s conversion byte for byte', () => {
    const drm = loadDrmNative();
    const { platform, live } = discovered();
    const card = live.devices.find((d) => d.compatible === 'vkms')!;
    const text = `name: bayer-to-display\nconverters: [cpu]\nedges:\n  raw: { from: video0, to: [${card.name}], size: 640x480, depth: 2, formats: [SBGGR8] }\n  composed: { from: ${card.name}-writeback, to: [cpu], size: 640x480, depth: 1 }\n`;
    const result = planPipeline(platform, parsePipeline(text, platform, 'bayer-to-display.yaml'));
    assert.ok(result.ok, result.ok ? '' : result.conflict.why);
    // Into a 32-bit RGB format vkms's primary plane reads (XRGB8888 or ARGB8888: B, G, R, then X or A).
    assert.deepStrictEqual(result.plan.steps.map((s) => [s.edge, s.converter, s.from]), [['raw', 'cpu', 'SBGGR8 LINEAR']]);
    assert.match(result.plan.steps[0]!.to, /^[XA]RGB8888 LINEAR$/);
    const ring = (edge: string, part: string) => result.plan.rings.find((r) => r.edge === edge && r.part === part)!;
    const backend = new DmaHeapBackend();
    const dev = openAllocator({ platform, backend });
    const cardFd = openSync('/dev/dri/card0', constants.O_RDWR);
    const imported: Array<{ fbId: number; handle: number }> = [];
    const rings = allocatePipeline(dev, result.plan);
    try {
      const buffers = (edge: string, part: string) => rings.find((r) => r.ring.edge === edge && r.ring.part === part)!.buffers;
      // 1. vivid captures its pattern, raw Bayer, into the ring before the conversion step.
      const raw = ring('raw', 'in').choice;
      const shot = capture('/dev/video0', buffers('raw', 'in'), raw.planes[0]!.pitch, 0x31384142 /* 'BA81' */);
      // 2. The CPU demosaics it (BGGR: each 2x2 cell's B, the mean of its two Gs, its R, for all four
      //    pixels; opaque) into the RGB ring the plan gives vkms, with that ring's pitch.
      const rgb = ring('raw', 'out').choice;
      const [frame] = buffers('raw', 'out');
      const converted = new Uint8Array(rgb.planes[0]!.pitch * 480);
      const rp = raw.planes[0]!.pitch;
      for (let y = 0; y < 480; y += 2) {
        for (let x = 0; x < 640; x += 2) {
          const b = shot.pixels[y * rp + x]!;
          const g = (shot.pixels[y * rp + x + 1]! + shot.pixels[(y + 1) * rp + x]!) >> 1;
          const r = shot.pixels[(y + 1) * rp + x + 1]!;
          for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) converted.set([b, g, r, 0xff], (y + dy) * rgb.planes[0]!.pitch + (x + dx) * 4);
        }
      }
      const out = frame!.map('write');
      out.bytes.set(converted);
      out.end();
      // 3. vkms scans the converted frame out; its writeback connector writes the composed frame into the writeback ring.
      const wb = ring('composed', 'edge').choice;
      const [back] = buffers('composed', 'edge');
      const primary = drm.drmDescribe(cardFd).planes.find((p) => p.type === 1)!;
      imported.push(drm.drmImport(cardFd, frame!.fd, 640, 480, rgb.fourcc, rgb.planes.map((p) => p.pitch), rgb.planes.map((p) => p.offset), `0x${rgb.modifierValue.toString(16).padStart(16, '0')}`));
      imported.push(drm.drmImport(cardFd, back!.fd, 640, 480, XR24, wb.planes.map((p) => p.pitch), wb.planes.map((p) => p.offset), `0x${wb.modifierValue.toString(16).padStart(16, '0')}`));
      drm.drmWriteback(cardFd, primary.id, imported[0]!.fbId, imported[1]!.fbId, 640, 480, 20_000);
      const view = back!.map('read');
      const composed = new Uint8Array(view.bytes.slice(0, wb.planes[0]!.pitch * 480));
      view.end();
      let differ = 0;
      const colours = new Set<number>();
      for (let y = 0; y < 480; y++) {
        for (let x = 0; x < 640; x++) {
          const a = y * rgb.planes[0]!.pitch + x * 4;
          const c = y * wb.planes[0]!.pitch + x * 4;
          for (let k = 0; k < 3; k++) if (converted[a + k] !== composed[c + k]) differ++;
          colours.add(converted[a]! | (converted[a + 1]! << 8) | (converted[a + 2]! << 16));
        }
      }
      assert.strictEqual(differ, 0, 'every colour byte vkms wrote back equals the CPU\'s conversion');
      assert.ok(colours.size >= 4, `the converted frame is not uniform (${colours.size} colours)`);
    } finally {
      for (const f of imported.splice(0)) drm.drmRelease(cardFd, f.fbId, f.handle);
      for (const r of rings) for (const b of r.buffers) b.close();
      closeSync(cardFd);
      dev.close();
      backend.dispose();
    }
  });
});
