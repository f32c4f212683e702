// Replays and sizing on small traces whose results are computed by hand.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parsePlatform, type RequestFields } from '../../src/constraints/load.js';
import { replay } from '../../src/sim/replay.js';
import { sizePools } from '../../src/sim/sizing.js';
import { loadTrace, traceFromEvents, type RawEvent } from '../../src/sim/trace.js';
import { loadPlatform, makeRequest } from '../../src/constraints/load.js';
import { negotiate } from '../../src/solver/negotiate.js';
import { allocatesOnEmptyHeaps } from '../../src/kernel/sim/fix-check.js';
import { CMA_MIN_ALIGNMENT_BYTES, cmaAreaSize } from '../../src/constraints/heap-kinds/index.js';

const PAGE = 4096;
const MiB = 2 ** 20;

// A display without IOMMU: XRGB8888 with width 1024 has a 4096-byte pitch, so height h is h pages.
const pool = (kind: 'cma' | 'carveout', size = '16MiB') =>
  parsePlatform(`
name: small
heaps:
  - { name: system, kind: system, size: 1GiB }
  - { name: pool, kind: ${kind}, base: 0x40000000, size: ${size} }
devices:
  - { name: disp, iommu: false, formats: { XRGB8888: { modifiers: [LINEAR] } } }
`);
const pages = (n: number, count = 1): RequestFields => ({ width: 1024, height: n, formats: ['XRGB8888'], devices: ['disp'], count });

function trace(platform: ReturnType<typeof pool>, steps: Array<[string, string, number?, number?]>) {
  const events: RawEvent[] = steps.map(([op, id, n, count], t) => (op === 'alloc' ? { t, op: 'alloc', id, request: pages(n!, count) } : { t, op: 'free', id }));
  return traceFromEvents(events, platform, 'hand');
}

describe('replay', () => {
  it('CMA peaks by hand: order alignment leaves a hole that only the high-water mark shows', () => {
    const platform = pool('cma');
    // a: 64 pages (order 6) at [0,64); b: 2 x 64 at [64,128), [128,192); free a;
    // c: 256 pages (order 8) aligned to 256 -> [256,512). Live peak 128 + 256 pages = 1.5 MiB.
    const t = trace(platform, [['alloc', 'a', 64], ['alloc', 'b', 64, 2], ['free', 'a'], ['alloc', 'c', 256]]);
    const cma = replay(platform, t).heaps.find((h) => h.name === 'pool')!;
    assert.deepStrictEqual([cma.peakLive, cma.peakUsed, cma.highWater, cma.allocations, cma.failures], [1.5 * MiB, 1.5 * MiB, 2 * MiB, 3, 0]);
  });

  it('a failure names the event line and request; frees of failed ids are harmless', () => {
    const platform = pool('carveout', '64KiB'); // 16 pages
    const t = trace(platform, [['alloc', 'a', 10], ['alloc', 'b', 10], ['free', 'b'], ['free', 'a']]);
    const r = replay(platform, t, { fallback: false });
    assert.strictEqual(r.failures.length, 1);
    assert.deepStrictEqual([r.failures[0]!.line, r.failures[0]!.id, r.failures[0]!.heap, r.failures[0]!.reason], [2, 'b', 'pool', 'pool: ENOMEM']);
    assert.match(r.failures[0]!.request, /1 x XRGB8888 1024x10 for disp/);
  });

  it('with fallback on, an exhausted pool falls back and the report counts it', () => {
    const platform = parsePlatform(`
name: two
heaps:
  - { name: cma, kind: cma, base: 0x40000000, size: 2MiB }
  - { name: carve, kind: carveout, base: 0x50000000, size: 2MiB }
devices:
  - { name: disp, iommu: false, formats: { XRGB8888: { modifiers: [LINEAR] } } }
`);
    // 300 pages each: a takes [0,300) of the 512-page CMA area; b, aligned to 256 pages, does not fit.
    const t = trace(platform, [['alloc', 'a', 300], ['alloc', 'b', 300]]);
    const r = replay(platform, t);
    assert.deepStrictEqual(r.failures, []);
    assert.strictEqual(r.fallbacks, 1);
    const [cma, carve] = r.heaps;
    assert.deepStrictEqual([cma!.fallbacksFrom, carve!.fallbacksTo, carve!.allocations], [1, 1, 1]);
  });
});

describe('sizing', () => {
  it('first fit: the high-water mark, confirmed by replays at that size and one page less', () => {
    const platform = pool('cma');
    const t = trace(platform, [['alloc', 'a', 64], ['alloc', 'b', 64, 2], ['free', 'a'], ['alloc', 'c', 256]]);
    const result = sizePools(platform, [t], { policy: 'first-fit' });
    const p = result.pools.find((x) => x.name === 'pool')!;
    assert.deepStrictEqual([p.size, p.failsAt, p.peakLive], [2 * MiB, 2 * MiB - PAGE, 1.5 * MiB]);
    assert.strictEqual(p.ratio.toFixed(3), '1.333');
    assert.ok(result.probes <= 3, `probes ${result.probes}`);
    // Independent check: replay the trace at both sizes.
    const at = (size: number) => replay(platform, t, { sizes: new Map([['pool', size]]), fallback: false }).failures.length;
    assert.deepStrictEqual([at(p.size), at(p.size - PAGE) > 0], [0, true]);
  });

  it('the example trace: ten 1080p NV12 buffers in CMA need 39.19 MiB, computed by hand', () => {
    const board = loadPlatform('boards/example.yaml');
    const t = loadTrace('examples/camera-session.jsonl', board);
    // 3342336-byte buffers are aligned to 1 MiB (order 10 capped at 8): the preview ring sits at
    // 0, 4, 8, 12 MiB; the 1080p recording ring at 16, 20, ..., 36 MiB, ending at 36 MiB + 3342336.
    const p = sizePools(board, [t]).pools.find((x) => x.name === 'linux,cma')!;
    assert.deepStrictEqual([p.size, p.failsAt, p.peakLive], [36 * MiB + 3342336, 36 * MiB + 3342336 - PAGE, 10 * 3342336]);
  });

  it('a conflict\'s "grow the pool" fix and `size` on the same request give the same bytes, and both hold when replayed', () => {
    const board = loadPlatform('boards/example.yaml');
    for (const [width, height, count] of [[1920, 1080, 80], [3840, 2160, 24], [1280, 720, 200]] as const) {
      const fields = { width, height, formats: ['NV12'], devices: ['camera:write', 'display:read'], count };
      const result = negotiate(board, makeRequest(board, fields), { check: allocatesOnEmptyHeaps });
      if (result.ok) throw new Error(`${count} x ${width}x${height} should not fit 256 MiB`);
      const grow = result.conflict.fixes.find((f) => f.changes.some((c) => c.target === 'heap' && c.heap === 'linux,cma'))!;
      const fixSize = (grow.changes[0] as { value: number }).value;
      const t = traceFromEvents([{ t: 0, op: 'alloc', id: 'a', request: fields }], board, 'one request');
      const sized = sizePools(board, [t]).pools.find((x) => x.name === 'linux,cma')!;
      // The fix gives the CMA area Linux can boot with: the bytes `size` finds, in whole pageblocks.
      assert.strictEqual(cmaAreaSize(sized.size), fixSize, `${count} x ${width}x${height}: size says ${sized.size}, the fix ${fixSize}`);
      const at = (size: number) => replay(board, t, { sizes: new Map([['linux,cma', size]]), planUnbounded: true, fallback: false }).failures.length;
      assert.deepStrictEqual([at(sized.size), at(sized.size - PAGE) > 0, at(fixSize), at(fixSize - CMA_MIN_ALIGNMENT_BYTES) > 0], [0, true, 0, true]);
    }
  });

  it('a request no pool size can serve is reported, not sized, and does not stop the sizing', () => {
    const board = loadPlatform('boards/example.yaml');
    const t = traceFromEvents([
      { t: 0, op: 'alloc', id: 'big', request: { width: 5000, height: 5000, formats: ['XRGB8888'], devices: ['display'] } },
      { t: 1, op: 'alloc', id: 'ok', request: { width: 1920, height: 1080, formats: ['NV12'], devices: ['camera', 'display'], count: 2 } },
    ], board, 'mixed');
    const r = sizePools(board, [t], { policy: 'first-fit' });
    assert.deepStrictEqual(r.unplannable.map((u) => [u.trace, u.line]), [['mixed', 1]]);
    assert.match(r.unplannable[0]!.reason, /display takes XRGB8888 only up to 4096 pixels wide/);
    assert.strictEqual(r.pools.find((p) => p.name === 'linux,cma')!.size, 4 * MiB + 3342336);
  });

  it('best fit beats first fit when a small request would split the hole a later large one needs', () => {
    const platform = pool('carveout');
    // a(3) s(1) b(1) t(1) fill [0,6); free a and b: holes of 3 and 1 pages. x(1): first fit takes
    // the 3-page hole, so y(3) must go to the tail (ends at page 9); best fit puts x in the 1-page
    // hole and y in the 3-page one (everything within 6 pages).
    const t = trace(platform, [['alloc', 'a', 3], ['alloc', 's', 1], ['alloc', 'b', 1], ['alloc', 't', 1], ['free', 'a'], ['free', 'b'], ['alloc', 'x', 1], ['alloc', 'y', 3]]);
    const ff = sizePools(platform, [t], { policy: 'first-fit' }).pools.find((x) => x.name === 'pool')!;
    const bf = sizePools(platform, [t], { policy: 'best-fit' }).pools.find((x) => x.name === 'pool')!;
    assert.deepStrictEqual([ff.size / PAGE, ff.failsAt / PAGE, ff.ratio], [9, 8, 1.5]);
    assert.deepStrictEqual([bf.size / PAGE, bf.failsAt / PAGE, bf.ratio], [6, 5, 1]);
  });

  it('random traces: the size found passes and one page less fails (first fit and best fit)', () => {
    const step = fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 3 }));
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), fc.constantFrom('cma' as const, 'carveout' as const), fc.constantFrom('first-fit' as const, 'best-fit' as const), (steps, kind, policy) => {
        const platform = pool(kind);
        const live: string[] = [];
        const events: Array<[string, string, number?, number?]> = [];
        steps.forEach(([free, n, count], i) => {
          if (free && live.length > 0) events.push(['free', live.splice(n % live.length, 1)[0]!]);
          else {
            events.push(['alloc', `e${i}`, n, count]);
            live.push(`e${i}`);
          }
        });
        const t = trace(platform, events);
        const p = sizePools(platform, [t], { policy }).pools.find((x) => x.name === 'pool')!;
        const failuresAt = (size: number) => replay(platform, t, { policy, sizes: new Map([['pool', size]]), fallback: false, planUnbounded: true }).failures.length;
        assert.strictEqual(failuresAt(p.size), 0);
        assert.ok(p.failsAt === p.size - PAGE && failuresAt(p.failsAt) > 0, `size ${p.size} failsAt ${p.failsAt}`);
        assert.ok(p.size >= p.peakUsed);
      }),
      { numRuns: 60, seed: 7 },
    );
  });
});
