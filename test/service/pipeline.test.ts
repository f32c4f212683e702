// The service's multi-part replies on a private bus and the simulated kernel. AllocatePipeline: every ring of a pipeline handed out
// in one reply, grouped by ring, charged to the caller and held to its quota all or nothing; the
// same plan the library makes on the service's platform (heaps as handles). Multi-planar formats:
// a buffer per plane, grouped by frame, counted against the per-message fd limit.

import assert from 'node:assert/strict';
import { fstatSync, readlinkSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { connect, ServiceError } from '../../src/service/client.js';
import { InputError } from '../../src/errors.js';
import { parsePipeline } from '../../src/pipeline/description.js';
import { planPipeline } from '../../src/pipeline/planner.js';
import { openFds, startBus, startService, type TestBus } from './harness.js';
import { AllocatorService, openServiceAllocator } from '../../src/service/server.js';
import { parsePolicy } from '../../src/service/policy.js';
import { parsePlatform } from '../../src/constraints/load.js';

const settle = (ms = 80) => new Promise((r) => setTimeout(r, ms));
const PIPELINE = 'name: record\nedges:\n  capture: { from: camera, to: [encoder, display], size: 640x480, depth: 3 }\n  ui: { from: gpu, to: [display], size: 640x480, depth: 2 }\n';

describe('AllocatePipeline: every ring of a pipeline from the service, in one reply', () => {
  let bus: TestBus;
  let service: AllocatorService;
  before(async () => {
    bus = await startBus();
    service = await startService(bus, 'default: { cma: 4MiB }\n');
  });
  after(async () => {
    await service.stop();
    await bus.stop();
  });

  it('rings grouped by edge, each buffer of its ring\'s planned size and heap handle, charged while held and released when closed', async () => {
    const fdsBefore = openFds();
    const udalloc = await connect({ bus: bus.address });
    const { rings, plan } = await udalloc.allocatePipeline(PIPELINE);
    // The library's plan on the service's own platform view (heaps as handles).
    const expected = planPipeline(service.allocator.platform, parsePipeline(PIPELINE, service.allocator.platform));
    assert.ok(expected.ok);
    assert.deepStrictEqual(rings.map((r) => [r.edge, r.part, r.buffers.length, r.buffers.used.size, r.buffers.used.format, `heap #${r.buffers.used.heap.id}`]), expected.plan.rings.map((r) => [r.edge, r.part, r.choice.count, r.choice.size, r.choice.format, r.choice.heap.describe().name]));
    assert.strictEqual(plan['name'], 'record');
    assert.ok(!JSON.stringify(plan).includes('linux,cma'), 'heaps are handles');
    let bytes = 0;
    for (const r of rings) {
      r.buffers.forEach((b, i) => {
        assert.strictEqual(fstatSync(b.fd).size, r.buffers.used.size);
        assert.match(readlinkSync(`/proc/self/fd/${b.fd}`), new RegExp(`ud:0:\\w+:${r.edge}-${i}`));
        bytes += b.size;
      });
    }
    const usage = (await udalloc.usage()) as { buffers: unknown[]; kinds: Record<string, { charged: number }> };
    assert.strictEqual(usage.buffers.length, 5);
    assert.strictEqual(Object.values(usage.kinds).reduce((s, k) => s + k.charged, 0), bytes);
    for (const r of rings) for (const b of r.buffers) b.close();
    await settle();
    const after = (await udalloc.usage()) as { buffers: unknown[] };
    assert.deepStrictEqual(after.buffers, []);
    udalloc.close();
    await settle(20);
    assert.strictEqual(openFds(), fdsBefore);
  });

  it('over the quota: QuotaExceeded, and no ring stays allocated or charged (all or nothing)', async () => {
    const udalloc = await connect({ bus: bus.address });
    // Two rings of one 1920x1080 NV12 buffer (about 3 MiB) in CMA (the display needs contiguous memory): the first fits the 4 MiB quota, not the second.
    const big = 'edges:\n  a: { from: camera, to: [display], size: 1920x1080, depth: 1 }\n  b: { from: camera, to: [display], size: 1920x1080, depth: 1 }\n';
    await assert.rejects(udalloc.allocatePipeline(big), (err: unknown) => err instanceof ServiceError && err.error === 'QuotaExceeded');
    const usage = (await udalloc.usage()) as { buffers: unknown[]; kinds: Record<string, { charged: number }> };
    assert.deepStrictEqual([usage.buffers, usage.kinds['cma']!.charged], [[], 0]);
    assert.strictEqual(service.allocator.stats().buffers.length, 0);
    udalloc.close();
  });

  it('a conflict names the edge and its fixes; more buffers than one message carries, a bad field: BadRequest naming it', async () => {
    const udalloc = await connect({ bus: bus.address });
    await assert.rejects(udalloc.allocatePipeline('edges:\n  x: { from: camera, to: [display], size: 640x480, formats: [P010] }\n'), (err: unknown) => {
      assert.ok(err instanceof ServiceError && err.error === 'Conflict', String(err));
      assert.match(err.message, /edge x \(camera -> display\)/);
      assert.strictEqual(err.details['edge'], 'x');
      return true;
    });
    await assert.rejects(udalloc.allocatePipeline('edges:\n  a: { from: camera, to: [display], size: 64x64, depth: 10 }\n  b: { from: gpu, to: [display], size: 64x64, depth: 10 }\n'), (err: unknown) => {
      // BadRequest arrives as the library's InputError, with its field.
      assert.ok(err instanceof InputError && err.field === 'depth', String(err));
      assert.match(err.message, /hold 20 buffers: one AllocatePipeline call hands out at most 16/);
      return true;
    });
    await assert.rejects(udalloc.allocatePipeline('edges:\n  a: { from: camra, to: [display], size: 64x64 }\n'), (err: unknown) => err instanceof InputError && /edges\.a\.from = "camra"/.test(err.message));
    assert.strictEqual(service.allocator.stats().buffers.length, 0);
    udalloc.close();
  });
});

describe('the service and multi-planar formats: a buffer per plane', () => {
  let bus: TestBus;
  let service: AllocatorService;
  before(async () => {
    bus = await startBus();
    const platform = parsePlatform(`name: mplane
heaps:
  - { name: system, kind: system, size: 1GiB }
  - { name: cma, kind: cma, base: 0x40000000, size: 64MiB }
devices:
  - name: isp
    iommu: false
    formats:
      NV12M: { access: write, modifiers: [LINEAR], pitchAlign: 64 }
  - name: encoder
    iommu: false
    formats:
      NV12M: { access: read, modifiers: [LINEAR], pitchAlign: 16 }
`, 'mplane.yaml');
    service = await AllocatorService.start({ bus: bus.address, allocator: openServiceAllocator(platform, 'sim'), policy: parsePolicy('', 'test policy'), graceMs: 50, scanIntervalMs: 60_000 });
  });
  after(async () => {
    await service.stop();
    await bus.stop();
  });

  it('Allocate hands out frames x planes fds, each of its plane\'s size, grouped by frame; 9 NV12M frames (18 fds) come in parts; charges end on close', async () => {
    const udalloc = await connect({ bus: bus.address });
    const plan = await udalloc.negotiate({ width: 640, height: 480, formats: ['NV12M'], devices: ['isp:write', 'encoder:read'], count: 2, cpu: 'read' });
    assert.deepStrictEqual(plan.buffers, [307200, 155648]);
    const buffers = await udalloc.allocate(plan, { name: 'cam' });
    assert.strictEqual(buffers.length, 4);
    assert.deepStrictEqual(buffers.frames!.map((f) => f.map((b) => [b.plane, fstatSync(b.fd).size])), [[[0, 307200], [1, 155648]], [[0, 307200], [1, 155648]]]);
    assert.match(readlinkSync(`/proc/self/fd/${buffers[3]!.fd}`), /ud:0:cma:cam-3/);
    const usage = (await udalloc.usage()) as { kinds: Record<string, { charged: number }> };
    assert.strictEqual(usage.kinds['cma']!.charged, 2 * (307200 + 155648));
    for (const b of buffers) b.close();
    // More frames than one message's 16 fds: the service says how many frames a call may carry, the client asks in parts.
    const many = await udalloc.allocate(await udalloc.negotiate({ width: 640, height: 480, formats: ['NV12M'], devices: ['isp:write', 'encoder:read'], count: 9, cpu: 'read' }));
    assert.deepStrictEqual([many.length, many.frames?.length], [18, 9]);
    for (const b of many) b.close();
    await settle();
    assert.deepStrictEqual(((await udalloc.usage()) as { buffers: unknown[] }).buffers, []);
    udalloc.close();
  });
});
