// Pool sizing: the smallest size of each fixed pool (CMA, carveout, secure) that serves every
// given trace with no failure, each request going to its preferred heap (no fallback), found by
// replaying the traces: every probe is a full replay through the solver and allocator.
//
// For Linux's first-fit placement the answer is known after one unbounded replay: a first-fit
// pool of size S behaves exactly like an unbounded one until the first buffer the unbounded pool
// placed beyond S, and that buffer fails in S (no lower run fitted it). So the minimum is the
// unbounded run's high-water mark H; two probes confirm it (H passes, H - 1 page fails). Other
// policies (best fit looks at the free tail, whose length depends on S) get a binary search
// between the peak allocated bytes (a smaller pool cannot hold the peak) and a passing size.

import { HEAP_KINDS } from '../constraints/heap-kinds/index.js';
import { PAGE_SIZE, type Heap, type Platform } from '../constraints/model.js';
import type { PlacementPolicy } from '../kernel/sim/pool.js';
import { replay, type ReplayReport } from './replay.js';
import type { Trace } from './trace.js';

export interface PoolSize {
  readonly name: string;
  readonly kind: Heap['kind'];
  /** The size in the profile. */
  readonly profileSize: number;
  /** Smallest size found with zero failures (a whole number of pages). */
  readonly size: number;
  /** The largest size shown to fail (size - 1 page when the search converged), or 0. */
  readonly failsAt: number;
  readonly peakLive: number;
  readonly peakUsed: number;
  /** size / peakLive: 1.0 is the physical limit; above it is alignment and fragmentation. */
  readonly ratio: number;
}

export interface SizingResult {
  readonly policy: PlacementPolicy;
  /** Requests no pool size can serve (no plan even with unbounded pools): left out of the sizes. */
  readonly unplannable: ReadonlyArray<{ readonly trace: string; readonly line: number; readonly request: string; readonly reason: string }>;
  readonly pools: readonly PoolSize[];
  /** Full replays of every trace performed, including the unbounded one. */
  readonly probes: number;
}

export interface SizingOptions {
  readonly policy?: PlacementPolicy;
  /** Called after each probe with the probe number and the sizes tried. */
  readonly onProbe?: (probe: number, sizes: ReadonlyMap<string, number>) => void;
}

/** A pool sized at boot (heap-kinds/: what sizing answers). */
const isFixedPool = (h: Heap): boolean => HEAP_KINDS[h.kind].sizedPool;
const pageDown = (bytes: number) => Math.floor(bytes / PAGE_SIZE) * PAGE_SIZE;
const MAX_POOL = 2 ** 40;

export function sizePools(platform: Platform, traces: readonly Trace[], options: SizingOptions = {}): SizingResult {
  const policy = options.policy ?? 'first-fit';
  const pools = platform.heaps.filter(isFixedPool);
  let probes = 0;
  const unplannable: Array<{ trace: string; line: number; request: string; reason: string }> = [];
  /** Replays every trace with these sizes; per pool: failed?, peak live, peak used, high water. */
  const probe = (sizes: Map<string, number>, probed?: ReadonlySet<string>) => {
    probes++;
    // A trace that already failed every probed pool says all there is to know: skip the rest.
    const failed = new Set<string>();
    const reports: ReplayReport[] = [];
    for (const t of traces) {
      if (probed && failed.size === probed.size) break;
      const r = replay(platform, t, { policy, sizes, planUnbounded: true, fallback: false, samples: 1, stopOnFailureOf: probed });
      reports.push(r);
      for (const h of r.heaps) if (h.failures > 0) failed.add(h.name);
      if (probes === 1) for (const f of r.failures) if (f.heap === undefined) unplannable.push({ trace: t.origin, line: f.line, request: f.request, reason: f.reason });
    }
    options.onProbe?.(probes, sizes);
    return new Map(
      pools.map((p) => {
        const hs = reports.map((r) => r.heaps.find((h) => h.name === p.name)!);
        return [p.name, { failed: hs.some((h) => h.failures > 0), peakLive: Math.max(0, ...hs.map((h) => h.peakLive)), peakUsed: Math.max(0, ...hs.map((h) => h.peakUsed)), highWater: Math.max(0, ...hs.map((h) => h.highWater ?? 0)) }];
      }),
    );
  };

  // 1. Unbounded: grow each pool until nothing fails in it; it gives peaks and the high-water mark.
  const sizes = new Map(pools.map((p) => [p.name, Math.max(p.size, 2 ** 30)]));
  let outcome = probe(sizes);
  for (;;) {
    const failing = pools.filter((p) => outcome.get(p.name)!.failed);
    if (failing.length === 0) break;
    for (const p of failing) {
      const next = sizes.get(p.name)! * 2;
      if (next > MAX_POOL) throw new Error(`pool ${p.name}: the traces fail even with ${MAX_POOL} bytes; a request needs something the pool cannot give (see udalloc simulate)`);
      sizes.set(p.name, next);
    }
    outcome = probe(sizes);
  }
  const peaks = new Map([...outcome].map(([name, o]) => [name, o]));
  // Invariant per pool: hi passes, lo fails (lo = peak used - 1 page cannot hold the peak).
  const hi = new Map(pools.map((p) => [p.name, peaks.get(p.name)!.peakUsed === 0 ? 0 : Math.max(peaks.get(p.name)!.highWater, peaks.get(p.name)!.peakUsed)]));
  const lo = new Map(pools.map((p) => [p.name, Math.max(0, peaks.get(p.name)!.peakUsed - PAGE_SIZE)]));
  const used = pools.filter((p) => hi.get(p.name)! > 0);

  // 2. Confirm hi passes (by the argument above for first fit; best fit may need more room).
  for (;;) {
    const trial = new Map(used.map((p) => [p.name, hi.get(p.name)!]));
    if (trial.size === 0) break;
    const o = probe(trial);
    const failing = used.filter((p) => o.get(p.name)!.failed);
    if (failing.length === 0) break;
    for (const p of failing) {
      lo.set(p.name, hi.get(p.name)!);
      hi.set(p.name, Math.min(MAX_POOL, hi.get(p.name)! * 2));
    }
  }

  // 3. First fit: one probe at hi - 1 page settles it. Then bisect whatever is still open.
  if (policy === 'first-fit') {
    const trial = new Map(used.filter((p) => hi.get(p.name)! - lo.get(p.name)! > PAGE_SIZE).map((p) => [p.name, hi.get(p.name)! - PAGE_SIZE]));
    if (trial.size > 0) {
      const o = probe(withDefaults(trial, used, hi), new Set(trial.keys()));
      for (const [name, size] of trial) (o.get(name)!.failed ? lo : hi).set(name, size);
    }
  }
  for (;;) {
    const open = used.filter((p) => hi.get(p.name)! - lo.get(p.name)! > PAGE_SIZE);
    if (open.length === 0) break;
    const trial = new Map(open.map((p) => [p.name, lo.get(p.name)! + pageDown((hi.get(p.name)! - lo.get(p.name)!) / 2)]));
    const o = probe(withDefaults(trial, used, hi), new Set(trial.keys()));
    for (const [name, size] of trial) (o.get(name)!.failed ? lo : hi).set(name, size);
  }

  return {
    policy,
    unplannable,
    probes,
    pools: pools.map((p) => {
      const peak = peaks.get(p.name)!;
      const size = hi.get(p.name)!;
      return { name: p.name, kind: p.kind, profileSize: p.size, size, failsAt: size === 0 ? 0 : lo.get(p.name)!, peakLive: peak.peakLive, peakUsed: peak.peakUsed, ratio: peak.peakLive === 0 ? 0 : size / peak.peakLive };
    }),
  };
}

/** Pools not being probed sit at their known passing size, so they never cause failures. */
function withDefaults(trial: Map<string, number>, pools: readonly Heap[], hi: ReadonlyMap<string, number>): Map<string, number> {
  const all = new Map(pools.map((p) => [p.name, hi.get(p.name)!]));
  for (const [k, v] of trial) all.set(k, v);
  return all;
}
