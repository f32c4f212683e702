// Property tests: on small random platforms, the solver agrees with a brute-force oracle that
// tries every (format, modifier, heap, padded size) and checks each device's rules one by one.

import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MODIFIERS, modifierAppliesTo } from '../../src/constraints/modifiers.js';
import { PAGE_SIZE, type Platform, type Request } from '../../src/constraints/model.js';
import { atomize, type Atom } from '../../src/solver/atoms.js';
import { build, scenarioArb } from './scenarios.js';
import { actOn } from './act-on.js';
import { computeLayout } from '../../src/solver/layout.js';
import { negotiate } from '../../src/solver/negotiate.js';
import { compileActive } from '../../src/solver/problem.js';
import { compareRank, guaranteedAlignment, search, type Placement } from '../../src/solver/solve.js';
import { violations } from '../../src/solver/verify.js';
import { lcmAll } from '../../src/util/int.js';
import { SimKernel } from '../../src/kernel/sim/index.js';
import { allocatesOnEmptyHeaps } from '../../src/kernel/sim/fix-check.js';
import { emptyHeapCapacity } from '../../src/constraints/placement.js';
import { CMA_MIN_ALIGNMENT_BYTES, heapOf } from '../../src/constraints/heap-kinds/index.js';
import type { Change } from '../../src/solver/apply.js';

/** Brute force: every format, every modelled modifier, every heap, every power-of-two padding. */
function oracle(platform: Platform, request: Request): Placement | undefined {
  const devices = request.devices.map((n) => platform.devices.find((d) => d.name === n)!);
  const preferred = (heap: string) => Math.min(1000, ...devices.map((d) => (d.preferredHeaps.includes(heap) ? d.preferredHeaps.indexOf(heap) : 1000)));
  let best: Placement | undefined;
  request.formats.forEach((format, formatRank) => {
    const rules = devices.map((d) => d.formats.get(format.name)).filter((r) => r !== undefined);
    const layoutRules = {
      pitchAlign: lcmAll(rules.map((r) => r.pitchAlign)),
      heightAlign: lcmAll(rules.map((r) => r.heightAlign)),
      widthAlign: lcmAll(rules.map((r) => r.widthAlign)),
      offsetAlign: lcmAll(rules.map((r) => r.offsetAlign)),
      sizeAlign: lcmAll(devices.map((d) => d.sizeAlign)),
      // A device that finds planes itself (V4L2 single-planar) fixes where they go.
      implicitPlanes: rules.some((r) => r.implicitPlaneOffsets),
    };
    for (const modifier of MODIFIERS) {
      if (!modifierAppliesTo(modifier, format)) continue;
      const layout = computeLayout(format, modifier, request.width, request.height, layoutRules);
      if (!layout) continue;
      const modifierRank = rules.reduce((sum, r) => sum + r.modifiers.indexOf(modifier), 0);
      platform.heaps.forEach((heap, heapIndex) => {
        for (let order = 0; order <= 12; order++) {
          const size = Math.max(layout.size, PAGE_SIZE * 2 ** order);
          if (size % layoutRules.sizeAlign !== 0) continue;
          const plan: Placement = {
            heap, format, modifier, planes: layout.planes, size, buffers: undefined, used: layout.used, count: request.count,
            alignment: guaranteedAlignment(heap, size),
            rank: [formatRank, modifierRank, preferred(heap.name), heap.scarcity, size, heapIndex],
          };
          if (violations(platform, request, plan).length > 0) continue;
          if (!best || compareRank(plan.rank, best.rank) < 0) best = plan;
          break; // larger paddings of the same choice only rank lower
        }
      });
    }
  });
  return best;
}

function feasibleWith(platform: Platform, request: Request, atoms: Atom[], active: (a: Atom) => boolean): boolean {
  return search(platform, compileActive(platform, request, atoms, active), { limit: 1, capacityOf: (h) => h.size }).length > 0;
}

describe('solver against a brute-force oracle', () => {
  it('every plan satisfies every device; a plan exists iff the oracle finds one, never worse', () => {
    let plans = 0;
    let conflicts = 0;
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { platform, request } = build(s);
        const result = negotiate(platform, request);
        const best = oracle(platform, request);
        if (result.ok) {
          plans++;
          for (const p of [result.plan, ...result.alternatives]) assert.deepStrictEqual(violations(platform, request, p), []);
          assert.notStrictEqual(best, undefined);
          assert.ok(compareRank(result.plan.rank, best!.rank) <= 0);
          for (let i = 1; i < result.alternatives.length; i++) assert.ok(compareRank(result.alternatives[i - 1]!.rank, result.alternatives[i]!.rank) <= 0);
        } else {
          conflicts++;
          assert.strictEqual(best, undefined);
        }
      }),
      { numRuns: 600, seed: 20261123 },
    );
    // The generator must exercise both outcomes, or the property says little.
    assert.ok(plans > 40, `${plans} > 40`);
    assert.ok(conflicts > 40, `${conflicts} > 40`);
  });

  it('every conflict is minimal over what a user can change (hardware held fixed), and the core is a minimal conflict', () => {
    let checked = 0;
    let accessBlamed = 0;
    let modifierAccessBlamed = 0;
    let hardwareOnly = 0;
    let implicitBlamed = 0;
    let defaultArea = 0;
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { platform, request } = build(s);
        const result = negotiate(platform, request);
        if (result.ok) return;
        checked++;
        const conflict = result.conflict;
        // A board without a CMA area is explained with the kernel's default one present and empty
        // (conflict.ts withDefaultArea): its atoms are that platform's.
        const added = conflict.fixes.flatMap((f) => f.changes).find((c) => c.target === 'new-heap');
        const over = added ? { ...platform, heaps: [...platform.heaps, heapOf({ name: added.heap.name, kind: 'cma', size: 0 }, 'default area')] } : platform;
        if (added) defaultArea++;
        const atoms = atomize(over, request);
        // Sharing the buffer (and an unprotected buffer staying so) is the premise of the request:
        // the core keeps every device in it.
        const premise = (a: Atom) => a.constraint === 'shared' || (a.request === true && a.constraint === 'protected' && a.value === false);
        const core = new Set(conflict.core.map((a) => a.id));
        // Only when nothing else conflicts does the core name the premise (an unprotected buffer, only secure heaps).
        const kept = conflict.core.some(premise) ? (a: Atom) => a.constraint === 'shared' : premise;
        assert.strictEqual(feasibleWith(over, request, atoms, (a) => kept(a) || core.has(a.id)), false);
        for (const dropped of core) assert.strictEqual(feasibleWith(over, request, atoms, (a) => kept(a) || (core.has(a.id) && a.id !== dropped)), true);
        if (conflict.fixes.length === 0) {
          hardwareOnly++;
          assert.ok(conflict.hardware.length > 0, 'a conflict without fixes says what hardware would have to change');
          return;
        }
        for (const fix of conflict.fixes) assert.ok(fix.atoms.every((a) => a.changeable), `${fix.text}: changes only what a user can change`);
        const correction = new Set(conflict.atoms.map((a) => a.id));
        assert.ok(correction.size > 0, `${correction.size} > 0`);
        assert.strictEqual(feasibleWith(over, request, atoms, (a) => !correction.has(a.id)), true);
        for (const kept of correction) {
          assert.strictEqual(feasibleWith(over, request, atoms, (a) => !correction.has(a.id) || a.id === kept), false);
        }
        if (conflict.atoms.some((a) => a.constraint === 'access')) accessBlamed++;
        if (conflict.core.some((a) => a.constraint === 'implicitPlanes')) implicitBlamed++;
        if (conflict.atoms.some((a) => a.constraint === 'access' && Array.isArray(a.value))) modifierAccessBlamed++;
      }),
      { numRuns: 300, seed: 7 },
    );
    assert.ok(checked > 30, `${checked} > 30`);
    assert.ok(hardwareOnly > 3 && hardwareOnly < checked, `hardware-only conflicts: ${hardwareOnly} of ${checked}`);
    // Boards without a CMA area must meet the default area's offer, or its explanation goes unchecked.
    assert.ok(defaultArea > 0, `the default CMA area offered in ${defaultArea} conflicts`);
    // The request's statement of each device's use must take part in conflicts, or its atoms go unchecked.
    assert.ok(accessBlamed > 3, `${accessBlamed} > 3`);
    assert.ok(modifierAccessBlamed > 0, `per-modifier access blamed in ${modifierAccessBlamed} conflicts`);
    // Implicit plane offsets (V4L2 single-planar) must take part in conflicts, or their atoms go unchecked.
    assert.ok(implicitBlamed > 0, `implicit plane offsets in ${implicitBlamed} conflict cores`);
  });

  it('every fix, applied to the profile and request as a user would and negotiated again, allocates on the simulated kernel', () => {
    let fixes = 0;
    const kinds = new Map<string, number>();
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { platform, request, profile, fields } = build(s);
        const result = negotiate(platform, request, { check: allocatesOnEmptyHeaps });
        if (result.ok) return;
        for (const fix of result.conflict.fixes) {
          fixes++;
          for (const c of fix.changes) {
            const kind = c.target === 'heap' ? `heap.${c.field}` : c.target === 'copy' || c.target === 'new-heap' ? c.target : `request.${c.field}`;
            kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
          }
          const outcome = actOn(profile, fields, fix.changes);
          assert.strictEqual(outcome, 'allocates', `${fix.text}: ${outcome}`);
        }
      }),
      { numRuns: 300, seed: 29 },
    );
    assert.ok(fixes > 100, `${fixes} > 100`);
    // Every kind of change must be exercised, or its application goes unchecked.
    for (const kind of ['request.formats', 'request.devices', 'request.count', 'request.width', 'request.cpu', 'heap.size', 'copy', 'new-heap']) assert.ok((kinds.get(kind) ?? 0) > 0, `${kind}: ${JSON.stringify([...kinds])}`);
  });

  it('every count, size and pool fix is the best one: one more buffer, the next size step or one step less of pool does not allocate', () => {
    const stepped = { count: 0, size: 0, pool: 0, cmaPool: 0, newArea: 0 };
    // More buffers than the other properties ask for, so that pools and counts run short often.
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 1, max: 64 }), (s, count) => {
        const { platform, request, profile, fields } = build({ ...s, count });
        const result = negotiate(platform, request, { check: allocatesOnEmptyHeaps });
        if (result.ok) return;
        for (const fix of result.conflict.fixes) {
          const beyond = (changed: Change): void => {
            const changes = fix.changes.map((c) => (sameField(c, changed) ? changed : c));
            const outcome = actOn(profile, fields, changes);
            assert.notStrictEqual(outcome, 'allocates', `${fix.text}: ${JSON.stringify(changed)} allocates too, so the fix is not the best one`);
          };
          for (const c of fix.changes) {
            if (c.target === 'request' && c.field === 'count') {
              stepped.count++;
              beyond({ ...c, value: (c.value as number) + 1 });
            } else if (c.target === 'request' && c.field === 'width') {
              const height = fix.changes.find((x) => x.target === 'request' && x.field === 'height');
              const h = (height as { value: number }).value;
              const next = nextSizeStep(request.width, request.height, c.value as number, h);
              if (next === undefined) continue; // the fix is the request's own size in one dimension: nothing larger to try
              stepped.size++;
              const changes = fix.changes.map((x) => (x.target === 'request' && x.field === 'width' ? { ...x, value: next.width } : x.target === 'request' && x.field === 'height' ? { ...x, value: next.height } : x));
              const outcome = actOn(profile, fields, changes);
              assert.notStrictEqual(outcome, 'allocates', `${fix.text}: ${next.width}x${next.height} allocates too, so the fix is not the best one`);
            } else if (c.target === 'heap' && c.field === 'size') {
              const heap = platform.heaps.find((h) => h.name === c.heap)!;
              const step = heap.kind === 'cma' ? CMA_MIN_ALIGNMENT_BYTES : PAGE_SIZE;
              if (heap.kind === 'cma') stepped.cmaPool++;
              stepped.pool++;
              beyond({ ...c, value: c.value - step });
            } else if (c.target === 'new-heap' && c.heap.size > CMA_MIN_ALIGNMENT_BYTES) {
              // The kernel's default CMA area a board lacks: a pageblock less does not hold the buffers.
              stepped.newArea++;
              beyond({ ...c, heap: { ...c.heap, size: c.heap.size - CMA_MIN_ALIGNMENT_BYTES } });
            }
          }
        }
      }),
      { numRuns: 400, seed: 2912 },
    );
    // Each kind of step must be tried, or its bound goes unchecked.
    assert.ok(stepped.count > 30 && stepped.size > 30 && stepped.pool > 20 && stepped.cmaPool > 15 && stepped.newArea > 0, JSON.stringify(stepped));
  });
});

/** The same field of the same target. */
function sameField(a: Change, b: Change): boolean {
  if (a.target === 'heap' && b.target === 'heap') return a.heap === b.heap && a.field === b.field;
  if (a.target === 'request' && b.target === 'request') return a.field === b.field;
  if (a.target === 'new-heap' && b.target === 'new-heap') return a.heap.name === b.heap.name;
  return false;
}

/**
 * The next size a size fix could have offered: the request's aspect ratio, even dimensions (as
 * fixes.ts scales them), the smallest scale at which either dimension grows. Undefined when that
 * is beyond the request's own size.
 */
function nextSizeStep(width: number, height: number, w: number, h: number): { width: number; height: number } | undefined {
  const even = (v: number, s: number) => Math.max(2, Math.floor((v * s) / 2 + 1e-9) * 2);
  const s = Math.min((w + 2) / width, (h + 2) / height);
  if (s > 1) return undefined;
  const next = { width: Math.min(width, even(width, s)), height: Math.min(height, even(height, s)) };
  assert.ok(next.width >= w && next.height >= h && (next.width > w || next.height > h), `${w}x${h} -> ${next.width}x${next.height}`);
  return next;
}

describe('plans hold when acted on', () => {
  /** Allocates every buffer of the plan on a fresh simulated kernel; fails the test on any error. */
  function allocateAll(platform: Platform, plan: Placement): void {
    const kernel = new SimKernel(platform.heaps, { maxFds: 1 << 16 });
    const fds: number[] = [];
    try {
      for (let i = 0; i < plan.count; i++) fds.push(kernel.allocate(plan.heap.name, plan.size));
    } catch (err) {
      assert.fail(`${plan.count} x ${plan.size} in ${plan.heap.name} (${plan.heap.kind}, ${plan.heap.size} bytes at ${plan.heap.base}): planned, but ${String(err)} after ${fds.length}`);
    }
    for (const fd of fds) kernel.close(fd);
  }

  it('on empty heaps, whatever negotiate plans (best and every alternative), the simulated kernel places: never ENOMEM', () => {
    let plans = 0;
    let tight = 0;
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { platform, request } = build(s);
        const result = negotiate(platform, request);
        if (!result.ok) return;
        for (const plan of [result.plan, ...result.alternatives]) {
          plans++;
          allocateAll(platform, plan);
        }
        // Again with as many buffers as the chosen heap can place, where a loose capacity check breaks.
        const most = emptyHeapCapacity(result.plan.heap, result.plan.size);
        if (most > 4096) return;
        const full = negotiate(platform, { ...request, count: most });
        assert.ok(full.ok, `${most} x ${result.plan.size} fit ${result.plan.heap.name} by the placement rules, yet no plan`);
        for (const plan of [full.plan, ...full.alternatives]) {
          if (plan.heap === result.plan.heap && plan.size === result.plan.size) tight++;
          allocateAll(platform, plan);
        }
      }),
      { numRuns: 650, seed: 1129 },
    );
    assert.ok(plans > 150, `${plans} > 150`);
    assert.ok(tight > 50, `plans that fill their heap to the last buffer: ${tight} > 50`);
  });
});
