// Pipelines: every plan the planner returns is acted on: its rings are allocated together, with
// their exact sizes and heaps, on an empty simulated kernel, and each buffer is checked against
// every device of its ring (DMA limit, contiguity) by hand, not by the solver. Every fix is applied
// and acted on the same way. A brute force over each edge's ways (its own ring, or a conversion
// step on each converter) finds no placement with fewer steps, or as many and less memory. Bad
// pipeline files get one line naming the field, exit 2, and nothing allocated.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { loadPlatform, makeRequest, parsePlatform } from '../../src/constraints/load.js';

const parsePlatformText = (text: string) => parsePlatform(text, 'crowded.yaml');
import type { Platform } from '../../src/constraints/model.js';
import { loadPipeline, parsePipeline, CPU, type PipelineSpec } from '../../src/pipeline/description.js';
import { planPipeline, type PipelinePlan } from '../../src/pipeline/planner.js';
import { SimKernel } from '../../src/kernel/sim/kernel.js';
import { negotiate } from '../../src/solver/negotiate.js';
import { selectPlatform } from '../../src/platform/select.js';
import { changedHeap } from '../../src/solver/apply.js';
import { testDir } from '../helpers.js';
import { openSync as openAllocator } from '../../src/allocator/allocator.js';
import { allocatePipeline } from '../../src/pipeline/allocate.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli/main.js');

/** Allocates every ring of the plan, as planned, on an empty simulated kernel; the violations found. */
function actOn(platform: Platform, plan: PipelinePlan): string[] {
  const kernel = new SimKernel(platform.heaps, { maxFds: 2 ** 20 });
  const wrong: string[] = [];
  for (const ring of plan.rings) {
    const heapName = ring.choice.heap.describe().name;
    const heap = platform.heaps.find((h) => h.name === heapName)!;
    const devices = [ring.producer, ...ring.consumers].filter((d) => d !== CPU).map((d) => platform.devices.find((x) => x.name === d)!);
    // Frame by frame; a multi-planar format's frame is a buffer per plane.
    for (let i = 0; i < ring.choice.count; i++) {
      for (const size of ring.choice.buffers ?? [ring.choice.size]) {
        let fd: number;
        try {
          fd = kernel.allocate(heapName, size);
        } catch (err) {
          wrong.push(`${ring.edge}/${ring.part} buffer ${i}: ${(err as Error).message}`);
          return wrong;
        }
        const { physAddr } = kernel.info(fd);
        for (const d of devices) {
          if (!d.iommu && !heap.contiguous) wrong.push(`${ring.edge}: ${d.name} has no IOMMU and ${heapName} is not contiguous`);
          if (d.dmaBits !== undefined && physAddr !== undefined && physAddr + size > 2 ** d.dmaBits) wrong.push(`${ring.edge}: ${d.name} reaches 2^${d.dmaBits}, the buffer ends at ${physAddr + size}`);
        }
      }
    }
  }
  return wrong;
}

const board = (name: string) => selectPlatform(name);

describe('pipelines: the shipped examples', () => {
  for (const [file, platformName, steps] of [
    ['raspberry-pi-4-camera.yaml', 'raspberry-pi-4', 0],
    ['imx8mp-camera.yaml', 'imx8mp-evk', 0],
    ['imx8mp-4k-playback.yaml', 'imx8mp-evk', 1],
  ] as const) {
    it(`${file} on ${platformName}: plans with ${steps} conversion step(s) and every ring allocates together as planned`, () => {
      const platform = board(platformName);
      const result = planPipeline(platform, loadPipeline(join(ROOT, 'examples/pipelines', file), platform));
      assert.ok(result.ok, result.ok ? '' : result.conflict.why);
      assert.strictEqual(result.plan.steps.length, steps);
      assert.deepStrictEqual(actOn(platform, result.plan), []);
      // The pools' totals are the rings' bytes.
      assert.strictEqual(result.plan.pools.reduce((s, p) => s + p.bytes, 0), result.plan.rings.reduce((s, r) => s + r.bytes, 0));
    });
  }

  it('the Pi 4 camera: unicam writes CSI-2 packed 10-bit Bayer for the ISP (1920 x 5/4 = 2400 bytes a row), the ISP feeds the encoder and the display', () => {
    const platform = board('raspberry-pi-4');
    const result = planPipeline(platform, loadPipeline(join(ROOT, 'examples/pipelines/raspberry-pi-4-camera.yaml'), platform));
    assert.ok(result.ok);
    const raw = result.plan.rings.find((r) => r.edge === 'raw')!;
    assert.deepStrictEqual([raw.choice.format, raw.choice.planes[0]!.pitch, raw.choice.count], ['SRGGB10P', 2400, 4]);
    assert.strictEqual(result.plan.rings.find((r) => r.edge === 'encode')!.choice.format, 'NV12');
  });
});

describe('pipelines: allocatePipeline', () => {
  it('allocates every ring with the planned layout and heap (the joint placement, not a fresh choice per ring), named by ring', () => {
    const platform = board('imx8mp-evk');
    const result = planPipeline(platform, loadPipeline(join(ROOT, 'examples/pipelines/imx8mp-4k-playback.yaml'), platform));
    assert.ok(result.ok);
    const dev = openAllocator({ platform, backend: 'sim' });
    try {
      const rings = allocatePipeline(dev, result.plan);
      assert.strictEqual(rings.length, result.plan.rings.length);
      for (const { ring, buffers } of rings) {
        assert.strictEqual(buffers.length, ring.choice.count);
        assert.deepStrictEqual([buffers.used.heap.describe().name, buffers.used.format, buffers.used.modifierValue, buffers.used.size], [ring.choice.heap.describe().name, ring.choice.format, ring.choice.modifierValue, ring.choice.size]);
      }
      const live = dev.stats().buffers;
      assert.strictEqual(live.length, result.plan.rings.reduce((n, r) => n + r.choice.count, 0));
      // Each buffer carries its ring's name (DMA_BUF_SET_NAME on real heaps).
      for (const { ring, buffers } of rings) buffers.forEach((b, i) => assert.strictEqual(live.find((x) => x.fd === b.fd)!.name, `${ring.part === 'edge' ? ring.edge : `${ring.edge}-${ring.part}`}-${i}`));
      for (const r of rings) for (const b of r.buffers) b.close();
    } finally {
      dev.close();
    }
  });

  it('all or nothing: when a ring finds its heap full, the rings allocated before it are closed and the error names the heap', () => {
    const platform = board('raspberry-pi-4');
    const result = planPipeline(platform, loadPipeline(join(ROOT, 'examples/pipelines/raspberry-pi-4-camera.yaml'), platform));
    assert.ok(result.ok);
    const dev = openAllocator({ platform, backend: 'sim' });
    try {
      // Something else takes part of the CMA area after planning: the largest hog that still lets
      // the first ring in, so that a later ring fails with rings already allocated before it.
      const cma = platform.heaps.find((h) => h.name === 'linux,cma')!;
      let succeeded = 0;
      const allocateSync = dev.allocateSync.bind(dev);
      dev.allocateSync = (plan, options) => {
        const got = allocateSync(plan, options);
        succeeded++;
        return got;
      };
      let hog: number | undefined;
      for (let size = cma.size - 2 ** 20; size > 0 && hog === undefined; size -= 2 ** 20) {
        const fd = dev.backend.allocate(cma.name, size);
        succeeded = 0;
        try {
          for (const r of allocatePipeline(dev, result.plan)) for (const b of r.buffers) b.close();
          dev.backend.close(fd);
          assert.fail(`the pipeline allocated beside a ${size}-byte hog before any ring failed`);
        } catch (err) {
          if (succeeded === 0) {
            dev.backend.close(fd);
            continue;
          }
          assert.match((err as Error).message, /linux,cma|out of memory|ENOMEM/i);
          hog = fd;
        }
      }
      assert.ok(hog !== undefined && succeeded > 0);
      assert.strictEqual(dev.stats().buffers.length, 0, `${succeeded} ring(s) allocated before the failure: none stays`);
      dev.backend.close(hog);
    } finally {
      dev.close();
    }
  });
});

describe('pipelines: conflicts and their fixes, acted on', () => {
  it('rings that fit one at a time but not together in one CMA area: each fix (a shallower ring, a larger pool) places the whole pipeline', () => {
    const platform = board('raspberry-pi-4');
    const spec = parsePipeline('edges:\n  raw: { from: unicam, to: [isp], size: 1920x1080, depth: 8, formats: [SRGGB10P] }\n  encode: { from: isp, to: [h264-enc], size: 1920x1080, depth: 8 }\n  preview: { from: isp, to: [hvs], size: 1920x1080, depth: 6 }\n', platform, 'deep.yaml');
    // Each edge alone plans.
    for (const e of spec.edges) assert.ok(planPipeline(platform, { ...spec, edges: [e] }).ok, e.name);
    const result = planPipeline(platform, spec);
    assert.ok(!result.ok);
    assert.strictEqual(result.conflict.edge, undefined);
    assert.match(result.conflict.why, /not all rings fit together: edge \w+ .* finds no room in linux,cma/);
    assert.ok(result.conflict.fixes.some((f) => /^edge \w+: depth \d+ instead of \d+$/.test(f.text)));
    assert.ok(result.conflict.fixes.some((f) => /^grow linux,cma from 64 MiB to \d+ MiB$/.test(f.text)));
    for (const fix of result.conflict.fixes) {
      const applied = planPipeline(fix.platform, fix.pipeline);
      assert.ok(applied.ok, fix.text);
      assert.deepStrictEqual(actOn(fix.platform, applied.plan), [], fix.text);
    }
  });

  it('a negotiable edge gets a smaller size (same aspect) as a fix, a sensor mode does not; the size fix places the whole pipeline', () => {
    const platform = board('raspberry-pi-4');
    const text = (negotiable: boolean) => `edges:\n  raw: { from: unicam, to: [isp], size: 1920x1080, depth: 8, formats: [SRGGB10P] }\n  encode: { from: isp, to: [h264-enc], size: 1920x1080, depth: 8 }\n  preview: { from: isp, to: [hvs], size: 1920x1080, depth: 6${negotiable ? ', negotiable: true' : ''} }\n`;
    const fixed = planPipeline(platform, parsePipeline(text(false), platform, 'deep.yaml'));
    assert.ok(!fixed.ok);
    assert.ok(!fixed.conflict.fixes.some((f) => /negotiable/.test(f.text)), fixed.conflict.fixes.map((f) => f.text).join('\n'));
    const result = planPipeline(platform, parsePipeline(text(true), platform, 'deep.yaml'));
    assert.ok(!result.ok);
    const smaller = result.conflict.fixes.find((f) => /^edge preview: \d+x\d+ instead of 1920x1080 \(its size is negotiable\)$/.test(f.text));
    assert.ok(smaller, result.conflict.fixes.map((f) => f.text).join('\n'));
    const e = smaller.pipeline.edges.find((x) => x.name === 'preview')!;
    // The same aspect ratio (16:9, to within the rounding to even sides), and smaller.
    assert.ok(e.width < 1920 && Math.abs(e.width / e.height - 16 / 9) < 0.05, `${e.width}x${e.height}`);
    const applied = planPipeline(smaller.platform, smaller.pipeline);
    assert.ok(applied.ok);
    assert.deepStrictEqual(actOn(smaller.platform, applied.plan), []);
    // The largest such size: one step (1/16) larger does not place.
    const k = Math.round((e.width / 1920) * 16);
    const larger = { ...smaller.pipeline, edges: smaller.pipeline.edges.map((x) => (x.name === 'preview' ? { ...x, width: Math.floor((1920 * (k + 1)) / 32) * 2, height: Math.floor((1080 * (k + 1)) / 32) * 2 } : x)) };
    assert.ok(!planPipeline(platform, larger).ok, `${larger.edges[2]!.width}x${larger.edges[2]!.height} places too`);
  });

  it('a multi-planar edge (NV12M, a buffer per plane): its frames placed together with another ring, as the kernel places them', () => {
    const platform = parsePlatformText(`name: mplane
heaps:
  - { name: system, kind: system, size: 1GiB }
  - { name: cma, kind: cma, base: 0x40000000, size: 16MiB }
devices:
  - { name: isp, iommu: false, formats: { NV12M: { access: write, modifiers: [LINEAR], pitchAlign: 64 }, NV12: { access: write, modifiers: [LINEAR], pitchAlign: 64 } } }
  - { name: encoder, iommu: false, formats: { NV12M: { access: read, modifiers: [LINEAR], pitchAlign: 16 } } }
  - { name: display, iommu: false, formats: { NV12: { access: read, modifiers: [LINEAR], pitchAlign: 64 } } }
`);
    const spec = parsePipeline('edges:\n  encode: { from: isp, to: [encoder], size: 1280x720, depth: 5 }\n  preview: { from: isp, to: [display], size: 1280x720, depth: 3 }\n', platform, 'mplane.yaml');
    const result = planPipeline(platform, spec);
    assert.ok(result.ok, result.ok ? '' : result.conflict.why);
    const encode = result.plan.rings.find((r) => r.edge === 'encode')!;
    assert.deepStrictEqual([encode.choice.format, encode.choice.buffers], ['NV12M', [921600, 462848]]);
    assert.strictEqual(encode.bytes, 5 * (921600 + 462848));
    assert.deepStrictEqual(actOn(platform, result.plan), []);
    // One frame more on the encoder's ring does not fit beside the preview in 16 MiB: a joint conflict, with fixes that act.
    const deeper = planPipeline(platform, { ...spec, edges: spec.edges.map((e) => (e.name === 'encode' ? { ...e, depth: 8 } : e)) });
    assert.ok(!deeper.ok);
    assert.ok(deeper.conflict.fixes.length > 0);
    for (const fix of deeper.conflict.fixes) {
      const applied = planPipeline(fix.platform, fix.pipeline);
      assert.ok(applied.ok, fix.text);
      assert.deepStrictEqual(actOn(fix.platform, applied.plan), [], fix.text);
    }
  });

  it('via: the conversion step the file asks for is taken although the devices share a layout', () => {
    const platform = board('example');
    const direct = planPipeline(platform, parsePipeline('converters: [gpu]\nedges:\n  a: { from: camera, to: [display], size: 640x480 }\n', platform));
    assert.ok(direct.ok);
    assert.deepStrictEqual(direct.plan.steps, []);
    const result = planPipeline(platform, parsePipeline('converters: [gpu]\nedges:\n  a: { from: camera, to: [display], size: 640x480, via: gpu }\n', platform));
    assert.ok(result.ok);
    assert.deepStrictEqual(result.plan.steps.map((x) => [x.edge, x.converter]), [['a', 'gpu']]);
    assert.deepStrictEqual(actOn(platform, result.plan), []);
  });

  it('scaleTo: the consumers get frames of another size through a conversion step that scales', () => {
    const platform = board('example');
    const result = planPipeline(platform, parsePipeline('converters: [cpu]\nedges:\n  small: { from: camera, to: [encoder], size: 1280x720, depth: 3, scaleTo: 640x360 }\n', platform));
    assert.ok(result.ok, result.ok ? '' : result.conflict.why);
    assert.deepStrictEqual(result.plan.steps.map((x) => [x.converter, x.from, x.to]), [['cpu', 'NV12 LINEAR 1280x720', 'NV12 LINEAR 640x360']]);
    const ring = (part: string) => result.plan.rings.find((r) => r.part === part)!.choice;
    assert.deepStrictEqual([ring('in').width, ring('in').height, ring('out').width, ring('out').height], [1280, 720, 640, 360]);
    assert.deepStrictEqual(actOn(platform, result.plan), []);
  });

  it('the CPU as an edge\'s producer or consumer: an application rendering for the display, reading a writeback', () => {
    const platform = board('raspberry-pi-4');
    const spec = parsePipeline('edges:\n  ui: { from: cpu, to: [hvs], size: 1280x720, depth: 2, formats: [XRGB8888] }\n  shot: { from: txp, to: [cpu], size: 1280x720, depth: 1 }\n', platform, 'cpu.yaml');
    const result = planPipeline(platform, spec);
    assert.ok(result.ok, result.ok ? '' : result.conflict.why);
    const ui = result.plan.rings.find((r) => r.edge === 'ui')!;
    const shot = result.plan.rings.find((r) => r.edge === 'shot')!;
    assert.deepStrictEqual([ui.request.cpu, ui.request.devices, shot.request.cpu, shot.request.devices], ['write', ['hvs:read'], 'read', ['txp:write']]);
    // The CPU maps what it touches: linear.
    assert.deepStrictEqual([ui.choice.modifier, shot.choice.modifier], ['LINEAR', 'LINEAR']);
    assert.deepStrictEqual(actOn(platform, result.plan), []);
  });

  it('an edge whose devices share no layout and no converter is named: the conflict names the edge, a converter fix plans it', () => {
    const platform = board('imx8mp-evk');
    const spec = parsePipeline('edges:\n  decoded: { from: vpu-g2, to: [lcdif3], size: 3840x2160, depth: 4 }\n', platform, 'playback.yaml');
    const result = planPipeline(platform, spec);
    assert.ok(!result.ok);
    assert.strictEqual(result.conflict.edge, 'decoded');
    assert.match(result.conflict.why, /^edge decoded \(vpu-g2 -> lcdif3\): no layout all its devices share, and the pipeline names no converter$/);
    assert.ok(result.conflict.constraints.some((c) => /^lcdif3\.formats = /.test(c)), result.conflict.constraints.join('\n'));
    const converter = result.conflict.fixes.find((f) => /^add cpu as a converter/.test(f.text));
    assert.ok(converter, result.conflict.fixes.map((f) => f.text).join('\n'));
    for (const fix of result.conflict.fixes) {
      const applied = planPipeline(fix.platform, fix.pipeline);
      assert.ok(applied.ok, fix.text);
      assert.deepStrictEqual(actOn(fix.platform, applied.plan), [], fix.text);
    }
  });
});

describe('pipelines: placing all rings together chooses among the ways to serve an edge', () => {
  it('a conversion step that moves a ring out of a small CMA area is taken when the shared layout fits alone but not beside the other edge', () => {
    // The display (no IOMMU) needs CMA; the GPU renders XRGB8888 only; a 2D engine converts it to NV12.
    const platform = parsePlatformText(`name: crowded
heaps:
  - { name: system, kind: system, size: 1GiB }
  - { name: cma, kind: cma, base: 0x40000000, size: 20MiB }
devices:
  - { name: display, iommu: false, formats: { XRGB8888: { access: read, modifiers: [LINEAR] }, NV12: { access: read, modifiers: [LINEAR] } } }
  - { name: gpu, iommu: true, formats: { XRGB8888: { access: write, modifiers: [LINEAR] } } }
  - { name: blit, iommu: true, formats: { XRGB8888: { access: read, modifiers: [LINEAR] }, NV12: { access: write, modifiers: [LINEAR] } } }
  - { name: camera, iommu: true, formats: { NV12: { access: write, modifiers: [LINEAR] } } }
`);
    const spec = parsePipeline('converters: [blit]\nedges:\n  ui: { from: gpu, to: [display], size: 1920x1080, depth: 2 }\n  video: { from: camera, to: [display], size: 1920x1080, depth: 2 }\n', platform, 'crowded.yaml');
    // Alone, the UI edge shares XRGB8888 with the display (16 MiB of CMA); beside the video ring it cannot.
    const alone = planPipeline(platform, { ...spec, edges: [spec.edges[0]!] });
    assert.ok(alone.ok && alone.plan.steps.length === 0);
    const result = planPipeline(platform, spec);
    assert.ok(result.ok, result.ok ? '' : result.conflict.why);
    assert.deepStrictEqual(result.plan.steps.map((st) => [st.edge, st.converter, st.from, st.to]), [['ui', 'blit', 'XRGB8888 LINEAR', 'NV12 LINEAR']]);
    assert.deepStrictEqual(actOn(platform, result.plan), []);
    assert.strictEqual(result.plan.rings.find((r) => r.edge === 'ui' && r.part === 'in')!.choice.heap.describe().name, 'system');
  });
});

describe('pipelines: bad input, one line each, exit 2, nothing allocated', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['unknown device', 'edges:\n  a: { from: camra, to: [display], size: 64x64 }\n', /pipeline field edges\.a\.from = "camra": no device of that name in platform example-board \(nor cpu, the CPU\) \(did you mean camera\?\)/],
    ['no consumer', 'edges:\n  a: { from: camera, to: [], size: 64x64 }\n', /pipeline field edges\.a\.to = \[\]: an edge needs at least one consumer/],
    ['producer as consumer', 'edges:\n  a: { from: gpu, to: [gpu, display], size: 64x64 }\n', /pipeline field edges\.a\.to = \["gpu","display"\]: gpu would produce and consume the same edge/],
    ['a cycle', 'edges:\n  a: { from: gpu, to: [encoder], size: 64x64 }\n  b: { from: encoder, to: [gpu], size: 64x64 }\n', /pipeline field edges = "gpu -> encoder -> gpu": the edges form a cycle/],
    ['absurd depth', 'edges:\n  a: { from: camera, to: [display], size: 64x64, depth: 100000 }\n', /pipeline field edges\.a\.depth = 100000: a ring holds 1 to 64 buffers/],
    ['zero depth', 'edges:\n  a: { from: camera, to: [display], size: 64x64, depth: 0 }\n', /pipeline field edges\.a\.depth = 0: a ring holds 1 to 64 buffers/],
    ['unknown converter', 'converters: [gpu2]\nedges:\n  a: { from: camera, to: [display], size: 64x64 }\n', /pipeline field converters\[0\] = "gpu2": no device of that name .*\(did you mean gpu\?\)/],
    ['a bad size', 'edges:\n  a: { from: camera, to: [display], size: big }\n', /pipeline field edges\.a\.size = "big": expected WIDTHxHEIGHT/],
    ['an unknown field', 'edges:\n  a: { from: camera, to: [display], size: 64x64, deph: 3 }\n', /pipeline field edges\.a\.deph: unknown \(did you mean depth\?\)/],
    ['a consumer that never reads', 'edges:\n  a: { from: display, to: [camera], size: 64x64 }\n', /pipeline field edges\.a: /],
    ['negotiable not a boolean', 'edges:\n  a: { from: camera, to: [display], size: 64x64, negotiable: maybe }\n', /pipeline field edges\.a\.negotiable: expected true or false, got "maybe"/],
    ['a zero size', 'edges:\n  a: { from: camera, to: [display], size: 64x0 }\n', /pipeline field edges\.a\.size = "64x0": a frame is at least 1x1/],
    ['a size YAML reads as a number', 'edges:\n  a: { from: camera, to: [display], size: 0x40 }\n', /pipeline field edges\.a\.size: expected WIDTHxHEIGHT \(e\.g\. 1920x1080\) or \{ width, height \}/],
    ['an unknown endpoint names the CPU too', 'edges:\n  a: { from: cpuu, to: [display], size: 64x64 }\n', /pipeline field edges\.a\.from = "cpuu": no device of that name .*\(nor cpu, the CPU\).*did you mean cpu\?/],
    ['via a device that is not a converter', 'converters: [gpu]\nedges:\n  a: { from: camera, to: [display], size: 64x64, via: encoder }\n', /pipeline field edges\.a\.via = "encoder": not among the pipeline's converters \(gpu\)/],
    ['via a converter that cannot convert the edge', 'converters: [decoder]\nedges:\n  a: { from: camera, to: [display], size: 64x64, via: decoder }\n', /pipeline field edges\.a\.via = "decoder": decoder cannot convert this edge: .*decoder\.formats/],
    ['scaling without a converter', 'edges:\n  a: { from: camera, to: [encoder], size: 1280x720, scaleTo: 640x360 }\n', /pipeline field edges\.a\.scaleTo = "640x360": scaling is a conversion step, and the pipeline names no converter/],
    ['not YAML', 'edges: [\n', /not valid YAML/],
  ];
  for (const [what, text, message] of cases) {
    it(what, () => {
      const file = join(testDir('udalloc-pipeline-'), 'p.yaml');
      writeFileSync(file, text);
      const r = spawnSync(process.execPath, [CLI, 'pipeline', 'alloc', file, '--platform', 'example', '--backend', 'sim'], { encoding: 'utf8' });
      assert.strictEqual(r.status, 2, r.stdout + r.stderr);
      assert.strictEqual(r.stdout, '', 'nothing planned or allocated');
      assert.strictEqual(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
    });
  }
});

describe('pipelines: the CLI', () => {
  it('plan prints each ring, the steps and the pools; alloc allocates every ring and releases it; --json for both', () => {
    const file = join(ROOT, 'examples/pipelines/imx8mp-4k-playback.yaml');
    const text = execFileSync(process.execPath, [CLI, 'pipeline', 'plan', file, '--platform', 'imx8mp-evk'], { encoding: 'utf8' });
    assert.match(text, /^pipeline imx8mp-4k-playback: 2 ring\(s\), 1 conversion step\(s\)/);
    assert.match(text, /conversion step on edge decoded: gc7000ul converts NV12 LINEAR to XRGB8888 LINEAR/);
    const alloc = JSON.parse(execFileSync(process.execPath, [CLI, 'pipeline', 'alloc', file, '--platform', 'imx8mp-evk', '--backend', 'sim', '--json'], { encoding: 'utf8' })) as { allocated: Array<{ ring: string; fds: number[] }>; plan: { rings: unknown[] } };
    assert.deepStrictEqual(alloc.allocated.map((a) => [a.ring, a.fds.length]).sort(), [['decoded/in', 4], ['decoded/out', 4]]);
    const conflict = spawnSync(process.execPath, [CLI, 'pipeline', 'plan', '-', '--platform', 'imx8mp-evk'], { encoding: 'utf8', input: 'edges:\n  decoded: { from: vpu-g2, to: [lcdif3], size: 3840x2160 }\n' });
    assert.strictEqual(conflict.status, 3);
    assert.match(conflict.stderr, /^conflict: edge decoded/);
    assert.match(conflict.stderr, /- add cpu as a converter/);
  });
});

/** Example-board graphs: a few edges among devices that write and devices that read, converters from gpu and cpu. */
const graphArb = fc
  .record({
    edges: fc.array(
      fc.record({
        from: fc.constantFrom('camera', 'decoder', 'gpu', 'encoder'),
        to: fc.subarray(['display', 'encoder', 'gpu'], { minLength: 1 }),
        size: fc.constantFrom('640x480', '1920x1080', '3840x2160'),
        depth: fc.integer({ min: 1, max: 16 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    converters: fc.subarray(['gpu', 'cpu']),
  })
  .map((g) => ({ ...g, edges: g.edges.map((e) => ({ ...e, to: e.to.filter((t) => t !== e.from) })).filter((e) => e.to.length > 0) }))
  .filter((g) => g.edges.length > 0);

function specText(g: { edges: Array<{ from: string; to: string[]; size: string; depth: number }>; converters: string[] }): string {
  return `converters: [${g.converters.join(', ')}]\nedges:\n${g.edges.map((e, i) => `  e${i}: { from: ${e.from}, to: [${e.to.join(', ')}], size: ${e.size}, depth: ${e.depth} }`).join('\n')}\n`;
}

/** The brute force: every way to serve every edge, each ring at its solver's best plan, placed on an empty kernel. */
function bruteForce(platform: Platform, spec: PipelineSpec): { steps: number; bytes: number } | undefined {
  const ways = spec.edges.map((e) =>
    [undefined, ...spec.converters.filter((c) => c !== e.from && !e.to.includes(c))].flatMap((c) => {
      const rings = c === undefined
        ? [{ devices: [`${e.from}:write`, ...e.to.map((t) => `${t}:read`)] }]
        : [{ devices: [`${e.from}:write`, ...(c === CPU ? [] : [`${c}:read`])], ...(c === CPU ? { cpu: 'read' as const } : {}) }, { devices: [...(c === CPU ? [] : [`${c}:write`]), ...e.to.map((t) => `${t}:read`)], ...(c === CPU ? { cpu: 'write' as const } : {}) }];
      const planned = [];
      for (const r of rings) {
        let result;
        try {
          result = negotiate(platform, makeRequest(platform, { ...r, width: e.width, height: e.height, count: e.depth }));
        } catch {
          return [];
        }
        if (!result.ok) return [];
        planned.push(result.plan);
      }
      return [{ steps: c === undefined ? 0 : 1, plans: planned }];
    }),
  );
  let best: { steps: number; bytes: number } | undefined;
  const walk = (i: number, chosen: Array<(typeof ways)[number][number]>) => {
    if (i === ways.length) {
      const steps = chosen.reduce((s, w) => s + w.steps, 0);
      const plans = chosen.flatMap((w) => w.plans);
      const bytes = plans.reduce((s, p) => s + p.size * p.count, 0);
      if (best && (steps > best.steps || (steps === best.steps && bytes >= best.bytes))) return;
      const kernel = new SimKernel(platform.heaps, { maxFds: 2 ** 20 });
      const fits = [...plans].sort((a, b) => b.size * b.count - a.size * a.count).every((p) => {
        try {
          for (let k = 0; k < p.count; k++) kernel.allocate(p.heap.name, p.size);
          return true;
        } catch {
          return false;
        }
      });
      if (fits) best = { steps, bytes };
      return;
    }
    for (const w of ways[i]!) walk(i + 1, [...chosen, w]);
  };
  walk(0, []);
  return best;
}

describe('pipelines: properties on random graphs (fast-check)', () => {
  it('every plan allocates together as planned; the brute force finds none with fewer steps, or as many and less memory', () => {
    // The example board with a 64 MiB CMA area and a 48 MiB carveout: 4K rings crowd them, so
    // rings that fit alone but not together, and other ways of serving an edge, come up.
    const example = loadPlatform(join(ROOT, 'boards/example.yaml'));
    const platform = { ...example, heaps: example.heaps.map((h) => (h.name === 'linux,cma' ? changedHeap(h, 'size', 64 * 2 ** 20) : h.name === 'vpu-carve' ? changedHeap(h, 'size', 48 * 2 ** 20) : h)) };
    fc.assert(
      fc.property(graphArb, (g) => {
        let spec: PipelineSpec;
        try {
          spec = parsePipeline(specText(g), platform, 'random.yaml');
        } catch {
          return true; // a cycle: bad input, tested above
        }
        let result;
        try {
          result = planPipeline(platform, spec);
        } catch {
          return true; // a consumer that reads nothing: bad input, tested above
        }
        const brute = bruteForce(platform, spec);
        if (result.ok) {
          assert.deepStrictEqual(actOn(platform, result.plan), []);
          assert.ok(brute === undefined || result.plan.steps.length <= brute.steps, `steps ${result.plan.steps.length} > ${brute?.steps}`);
          if (brute && result.plan.steps.length === brute.steps) assert.ok(result.plan.bytes <= brute.bytes, `${result.plan.bytes} > ${brute.bytes} bytes`);
        } else {
          assert.strictEqual(brute, undefined, `the brute force placed what the planner called a conflict: ${specText(g)}`);
        }
        return true;
      }),
      { numRuns: 80, seed: 24 },
    );
  });
});
