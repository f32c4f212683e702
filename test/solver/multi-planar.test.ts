// V4L2 multi-planar formats (NV12M, YUV420M...): a dma-buf per plane. The layout by hand; where
// frames of buffers of several sizes land, against the simulated kernel's CMA (an independent
// model: mm/cma.c's bitmap, page by page); every plan the solver gives allocates, frame by frame,
// and none is refused that the simulated kernel would place; the allocator hands out a buffer per
// plane, grouped by frame.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { findFormat, FORMATS } from '../../src/constraints/formats.js';
import { findModifier, modifierAppliesTo } from '../../src/constraints/modifiers.js';
import { computeLayout } from '../../src/solver/layout.js';
import { framesExtent } from '../../src/constraints/placement.js';
import { SimKernel } from '../../src/kernel/sim/kernel.js';
import { makeRequest, parsePlatform } from '../../src/constraints/load.js';
import { negotiate } from '../../src/solver/negotiate.js';
import { violations } from '../../src/solver/verify.js';
import { openSync as openAllocator } from '../../src/allocator/allocator.js';
import type { Heap, Platform } from '../../src/constraints/model.js';

const MiB = 2 ** 20;
const PAGE = 4096;

function platformWith(cmaBytes: number, alignOrder = 8, extra = ''): Platform {
  return parsePlatform(`name: mplane
heaps:
  - { name: system, kind: system, size: 1GiB }
  - { name: cma, kind: cma, base: 0x40000000, size: ${cmaBytes}, alignOrder: ${alignOrder} }
devices:
  - name: isp
    iommu: false
    formats:
      NV12M: { access: write, modifiers: [LINEAR], pitchAlign: 64 }
      YUV420M: { access: write, modifiers: [LINEAR], pitchAlign: 64 }
      NV12: { access: write, modifiers: [LINEAR], pitchAlign: 64 }
  - name: encoder
    iommu: false
    formats:
      NV12M: { access: read, modifiers: [LINEAR], pitchAlign: 16 }
      YUV420M: { access: read, modifiers: [LINEAR], pitchAlign: 16 }
${extra}`, 'mplane.yaml');
}

/** Allocates `count` frames of `sizes` in order on an empty simulated heap; the end offset past the last buffer, or undefined when one fails. */
function simulatedExtent(heap: Heap, sizes: readonly number[], count: number): number | undefined {
  const kernel = new SimKernel([heap], { maxFds: 4096 });
  const fds: number[] = [];
  try {
    let end = 0;
    for (let i = 0; i < count; i++) {
      for (const size of sizes) {
        const fd = kernel.allocate(heap.name, size);
        fds.push(fd);
        end = Math.max(end, kernel.info(fd).physAddr! + Math.ceil(size / PAGE) * PAGE - heap.base!);
      }
    }
    return end;
  } catch {
    return undefined;
  } finally {
    for (const fd of fds) kernel.close(fd);
  }
}

describe('multi-planar formats: layout', () => {
  it('NV12M 640x480, pitch 64: each plane at offset 0 of its own buffer, with its own pitch, rows and page-rounded size', () => {
    const l = computeLayout(findFormat('NV12M')!, findModifier('LINEAR')!, 640, 480, { pitchAlign: 64, heightAlign: 1, offsetAlign: 1, sizeAlign: 1 })!;
    assert.deepStrictEqual(l.planes, [
      { offset: 0, pitch: 640, rows: 480, size: 307200 },
      { offset: 0, pitch: 640, rows: 240, size: 153600 },
    ]);
    // 307200 is 75 pages; 153600 is 37.5 pages, so 38.
    assert.deepStrictEqual(l.buffers, [307200, 155648]);
    assert.strictEqual(l.size, 307200 + 155648);
  });

  it('YUV420M 101x51: three buffers, chroma of whole samples; every multi-planar format is its twin\'s planes, linear only, in V4L2\'s namespace', () => {
    const l = computeLayout(findFormat('YUV420M')!, findModifier('LINEAR')!, 101, 51, { pitchAlign: 16, heightAlign: 1, offsetAlign: 64, sizeAlign: 1 })!;
    assert.deepStrictEqual(l.planes, [
      { offset: 0, pitch: 112, rows: 52, size: 5824 },
      { offset: 0, pitch: 64, rows: 26, size: 1664 },
      { offset: 0, pitch: 64, rows: 26, size: 1664 },
    ]);
    assert.deepStrictEqual(l.buffers, [2 * PAGE, PAGE, PAGE]);
    const mplane = FORMATS.filter((f) => f.planeBuffers);
    assert.strictEqual(mplane.length, 10);
    for (const f of mplane) {
      const twin = findFormat(f.name.slice(0, -1))!;
      assert.deepStrictEqual([f.planes, f.hsub, f.vsub], [twin.planes, twin.hsub, twin.vsub], f.name);
      // Plane 0 is the largest buffer: the order frames are allocated in puts the widest alignment first.
      assert.ok(f.planes.every((p, i) => i === 0 || p.cpp / (f.hsub * f.vsub) <= f.planes[0]!.cpp), f.name);
      assert.strictEqual(findFormat(f.code), undefined, `${f.code} is V4L2's, never found as a DRM code`);
      assert.ok(!modifierAppliesTo(findModifier('DRM_FORMAT_MOD_BROADCOM_VC4_T_TILED')!, f) && modifierAppliesTo(findModifier('LINEAR')!, f), f.name);
    }
  });
});

describe('multi-planar formats: frames of several buffer sizes in a heap', () => {
  it('the CMA extent equals where the simulated kernel (mm/cma.c first fit) puts every buffer, gaps filled by later smaller ones', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }).map((blocks) => blocks * 2 * MiB),
        fc.integer({ min: 4, max: 9 }),
        fc.array(fc.integer({ min: 1, max: 600 }).map((pages) => pages * PAGE), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 24 }),
        (size, alignOrder, sizes, count) => {
          const heap = platformWith(size, alignOrder).heaps.find((h) => h.name === 'cma')!;
          const extent = framesExtent(heap, sizes, count);
          const simulated = simulatedExtent(heap, sizes, count);
          if (simulated === undefined) assert.ok(extent > heap.size, `extent ${extent} fits ${heap.size}, the kernel failed`);
          else assert.strictEqual(extent, simulated);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a gap a later, smaller buffer fills: YUV420M 75-page luma (order 7) leaves 53 pages that a 19-page chroma (order 5) takes', () => {
    const heap = platformWith(64 * MiB, 8).heaps.find((h) => h.name === 'cma')!;
    const sizes = [75 * PAGE, 19 * PAGE, 19 * PAGE];
    // Frame 0: Y at 0, U at 96 (75 rounded to 32), V at 128; frame 1: Y at 256, U at 160 (a gap), V at 192.
    assert.strictEqual(framesExtent(heap, sizes, 2), (256 + 75) * PAGE);
    assert.strictEqual(simulatedExtent(heap, sizes, 2), (256 + 75) * PAGE);
  });
});

describe('multi-planar formats: plans act', () => {
  it('every plan is valid by verify() and allocates frame by frame on the simulated kernel; a refusal is one the kernel would fail too', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }).map((blocks) => blocks * 2 * MiB),
        fc.constantFrom('NV12M', 'YUV420M'),
        fc.integer({ min: 16, max: 2048 }),
        fc.integer({ min: 16, max: 1200 }),
        fc.integer({ min: 1, max: 12 }),
        (cma, format, width, height, count) => {
          const platform = platformWith(cma);
          const request = makeRequest(platform, { width, height, formats: [format], devices: ['isp:write', 'encoder:read'], count });
          const result = negotiate(platform, request);
          const heap = platform.heaps.find((h) => h.name === 'cma')!;
          const layout = computeLayout(findFormat(format)!, findModifier('LINEAR')!, width, height, { pitchAlign: 64, heightAlign: 1, offsetAlign: 1, sizeAlign: 1 })!;
          if (!result.ok) {
            // No IOMMU: only CMA can hold them, and the kernel cannot place them there either.
            assert.strictEqual(simulatedExtent(heap, layout.buffers!, count), undefined);
            return;
          }
          const plan = result.plan;
          assert.deepStrictEqual(violations(platform, request, plan), []);
          assert.deepStrictEqual(plan.buffers, layout.buffers);
          assert.notStrictEqual(simulatedExtent(plan.heap, plan.buffers!, count), undefined);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the allocator hands out a buffer per plane, grouped by frame, each of its plane\'s size, named frame.plane; nothing leaks', () => {
    const dev = openAllocator({ platform: platformWith(64 * MiB), backend: 'sim' });
    try {
      const plan = dev.negotiate({ width: 640, height: 480, formats: ['NV12M'], devices: ['isp:write', 'encoder:read'], count: 3, cpu: 'readwrite' });
      assert.deepStrictEqual([plan.format, plan.buffers, plan.heap.describe().name], ['NV12M', [307200, 155648], 'cma']);
      assert.match(String(plan), /3 x NV12M LINEAR 640x480 \(a buffer per plane: 307200 \+ 155648 bytes/);
      const buffers = dev.allocateSync(plan, { name: 'cam' });
      assert.strictEqual(buffers.length, 6);
      assert.strictEqual(buffers.frames!.length, 3);
      for (const frame of buffers.frames!) {
        assert.deepStrictEqual(frame.map((b) => [b.plane, b.size, b.planes.length, b.planes[0]!.offset, b.planes[0]!.pitch]), [[0, 307200, 1, 0, 640], [1, 155648, 1, 0, 640]]);
        // The kernel's own size for each fd (the simulated heap's record).
        for (const b of frame) assert.strictEqual(dev.backend.info(b.fd).size, b.size);
        // Each plane maps on its own: luma and chroma are separate memory.
        const y = frame[0]!.map('write');
        y.bytes.fill(0x10);
        y.end();
        const uv = frame[1]!.map('read');
        assert.strictEqual(uv.bytes[0], 0);
        uv.end();
      }
      assert.deepStrictEqual(dev.stats().buffers.map((b) => b.name), ['cam-0.0', 'cam-0.1', 'cam-1.0', 'cam-1.1', 'cam-2.0', 'cam-2.1']);
      for (const b of buffers) b.close();
      assert.strictEqual(dev.stats().heaps.find((h) => h.heap.describe().name === 'cma')!.used, 0);
    } finally {
      dev.close();
    }
  });
});
