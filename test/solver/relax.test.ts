// The conflict explainer's feasibility tables (relax.ts) must mean exactly what compile() with an
// active set followed by search() means: on random platforms and requests, for random sets of
// atoms switched off (as correction sets and cores switch them), both give the same answer.

import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePlatform, makeRequest } from '../../src/constraints/load.js';
import { MODIFIERS } from '../../src/constraints/modifiers.js';
import type { Heap, Platform } from '../../src/constraints/model.js';
import { atomsOf, atomTemplate } from '../../src/solver/atoms.js';
import { explainConflict } from '../../src/solver/conflict.js';
import { negotiate } from '../../src/solver/negotiate.js';
import { compileActive, compileAll, compileEveryAtom, ShapeTable } from '../../src/solver/problem.js';
import { prepare } from '../../src/solver/prepared.js';
import { relaxation } from '../../src/solver/relax.js';
import { search } from '../../src/solver/solve.js';
import { build, scenarioArb } from './scenarios.js';

/** A small deterministic generator: flags for `n` atoms, each off with probability `off`. */
function flagSets(seed: number, n: number, count: number, off: number): Uint8Array[] {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  return Array.from({ length: count }, () => Uint8Array.from({ length: n }, () => (next() < off ? 0 : 1)));
}

describe('conflict feasibility tables (relax.ts)', () => {
  it('agree with compile() + search() on random platforms, requests and relaxations, free space included', () => {
    let feasible = 0;
    let infeasible = 0;
    fc.assert(
      fc.property(scenarioArb, fc.integer(), fc.constantFrom(0.05, 0.2, 0.5), fc.boolean(), (s, seed, off, live) => {
        const { platform, request } = build(s);
        const template = atomTemplate(new ShapeTable(platform), request);
        const atoms = atomsOf(template, request);
        // A live allocator's free space: each heap has some of its bytes left.
        const capacityOf = live ? (heap: Heap) => Math.floor(heap.size / (2 + (heap.name.length % 3))) : undefined;
        const fast = relaxation(platform, request, template, capacityOf);
        assert.ok(fast, 'every scenario platform is expressible in the tables');
        for (const on of flagSets(seed, atoms.length, 12, off)) {
          const reference = search(platform, compileActive(platform, request, atoms, (a) => on[a.id] === 1), { limit: 1, capacityOf }).length > 0;
          assert.strictEqual(fast(on), reference, `atoms off: ${atoms.filter((a) => on[a.id] === 0).map((a) => `${a.device ?? a.heap ?? 'request'}.${a.format ?? ''}.${a.constraint}`).join(', ')}`);
          if (reference) feasible++;
          else infeasible++;
        }
      }),
      { numRuns: 400, seed: 16 },
    );
    // Both answers must be common, or the agreement says little.
    assert.ok(feasible > 500 && infeasible > 500, `${feasible} feasible, ${infeasible} infeasible`);
  });

  it('a platform the tables cannot express (a modifier outside the known list) is explained by compile() and search()', () => {
    const profile = {
      name: 'odd',
      heaps: [{ name: 'cma', kind: 'cma', base: 0x40000000, size: '64MiB' }],
      devices: [
        { name: 'gpu', iommu: false, formats: { XRGB8888: { modifiers: ['X_TILED'] } } },
        { name: 'display', iommu: false, formats: { XRGB8888: { modifiers: ['LINEAR'] } } },
      ],
    };
    const platform = parsePlatform(JSON.stringify(profile), 'odd.json');
    // The same display, but its LINEAR is a modifier object of its own (as a program may build one).
    const display = platform.devices[1]!;
    const rule = display.formats.get('XRGB8888')!;
    const linear = { ...MODIFIERS.find((m) => m.name === 'DRM_FORMAT_MOD_LINEAR')! };
    const odd: Platform = { ...platform, devices: [platform.devices[0]!, { ...display, formats: new Map([['XRGB8888', { ...rule, modifiers: [linear] }]]) }] };
    const request = makeRequest(odd, { devices: ['gpu', 'display'], formats: ['XRGB8888'], width: 640, height: 480 });
    assert.strictEqual(relaxation(odd, request, atomTemplate(new ShapeTable(odd), request)), undefined);
    const result = negotiate(odd, request, { memo: false });
    assert.strictEqual(result.ok, false);
    if (result.ok) return;
    // The same conflict as on the platform the tables express.
    const plain = explainConflict(prepare(platform), makeRequest(platform, { devices: ['gpu', 'display'], formats: ['XRGB8888'], width: 640, height: 480 }));
    assert.deepStrictEqual(result.conflict.core.map((a) => `${a.device}.${a.constraint}`), plain.core.map((a) => `${a.device}.${a.constraint}`));
    assert.deepStrictEqual(result.conflict.fixes.map((f) => f.changes), plain.fixes.map((f) => f.changes));
    assert.ok(result.conflict.fixes.length > 0);
  });
});

describe('the merge with every constraint holding (problem.ts compileAll)', () => {
  it('equals the general merge (compileWith with every atom active) on random platforms and requests', () => {
    let candidates = 0;
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { platform, request } = build(s);
        const fast = compileAll(platform, request);
        const general = compileEveryAtom(platform, request);
        const all = [...general.candidates];
        candidates += all.length;
        assert.deepStrictEqual(fast.candidates, all);
        // undefined capacityLimited: every heap's capacity counts, as the general merge lists them.
        assert.deepStrictEqual({ ...fast.heap, capacityLimited: new Set(platform.heaps.map((h) => h.name)) }, general.heap);
        assert.deepStrictEqual(fast.preferredHeapRank, general.preferredHeapRank);
      }),
      { numRuns: 1000, seed: 251 },
    );
    assert.ok(candidates > 400, `${candidates} candidates compared`);
  });
});
