// Replays a trace on the simulated kernel through the real solver and allocator (no shortcuts)
// and reports, per heap: peak live bytes, peak allocated bytes, the high-water mark of contiguous
// pools, failures with the request that failed, fallbacks, and fragmentation over time.

import { HEAP_KINDS } from '../constraints/heap-kinds/index.js';
import type { Heap, Platform } from '../constraints/model.js';
import { deviceEntries } from '../constraints/request.js';
import { openSync, type Allocator } from '../allocator/allocator.js';
import type { DmaBuffer } from '../allocator/buffer.js';
import { AllocationError, ConflictError } from '../allocator/errors.js';
import type { Plan, PlanChoice } from '../allocator/plan.js';
import type { KernelBackend } from '../kernel/backend.js';
import { SimKernel } from '../kernel/sim/kernel.js';
import { negotiate } from '../solver/negotiate.js';
import { prepare } from '../solver/prepared.js';
import type { PlacementPolicy } from '../kernel/sim/pool.js';
import type { AllocEvent, Trace } from './trace.js';

export interface ReplayOptions {
  /** Placement policy of the simulated contiguous pools (default first-fit, as Linux). */
  readonly policy?: PlacementPolicy;
  /** Pool sizes (bytes) replacing the profile's, by heap name: the probes of a sizing search. */
  readonly sizes?: ReadonlyMap<string, number>;
  /**
   * Plan as if every pool were unbounded, so each request goes to its preferred heap whatever the
   * pool sizes (sizing asks how big that heap must be, not where else the buffers could go).
   */
  readonly planUnbounded?: boolean;
  /** Fall back to the next ranked plan on ENOMEM (default true; sizing turns it off). */
  readonly fallback?: boolean;
  /**
   * Stop as soon as every heap named here has had a failure (a sizing probe only needs to know
   * that a pool size fails, not how often). The report then covers the events up to that point.
   */
  readonly stopOnFailureOf?: ReadonlySet<string>;
  /** Fragmentation samples to take over the replay (default 200). */
  readonly samples?: number;
  /** Snapshot where buffers sat in each contiguous pool at its peak (for the HTML heap map). */
  readonly heapMap?: boolean;
  /** Called every ~1% of events with (events done, total). */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Replay on this kernel instead of a fresh simulated one (a real dma-heap backend, to check a
   * sizing answer against the kernel): `sizes` and `policy` then describe nothing, the kernel's
   * own pools serve, and the high-water mark is measured only where the kernel tells addresses.
   */
  readonly backend?: KernelBackend;
}

export interface HeapSample {
  readonly t: number;
  readonly live: number;
  readonly used: number;
  readonly free: number;
  readonly largestFree: number;
}

export interface HeapReport {
  readonly name: string;
  readonly kind: Heap['kind'];
  readonly capacity: number;
  /** Most bytes the buffers' planes needed at once. */
  readonly peakLive: number;
  /** Most bytes allocated at once (page rounding, size alignment and CMA padding included). */
  readonly peakUsed: number;
  /** Contiguous pools: the highest buffer end seen, from the pool base (alignment holes included). */
  readonly highWater: number | undefined;
  readonly allocations: number;
  readonly failures: number;
  /** Allocations that left this heap for a lower-ranked plan, and that came here as a fallback. */
  readonly fallbacksFrom: number;
  readonly fallbacksTo: number;
  /**
   * Requests that prefer this heap (their plan with every pool unbounded) and were not held by it:
   * they failed, fell back, or were planned elsewhere because it was too small. The one meaning of
   * "the pool is too small": `size` finds the smallest pool with none.
   */
  readonly short: number;
  readonly samples: readonly HeapSample[];
  /** With heapMap: the buffers in the pool when its allocated bytes peaked (offsets from the base). */
  readonly peakMap?: ReadonlyArray<{ readonly id: string; readonly offset: number; readonly size: number }>;
}

export interface Failure {
  readonly line: number;
  readonly t: number;
  readonly id: string;
  readonly request: string;
  /** The heap of the plan that was tried first, if there was a plan. */
  readonly heap: string | undefined;
  readonly reason: string;
}

export interface ReplayReport {
  readonly trace: string;
  readonly policy: PlacementPolicy;
  readonly events: number;
  readonly heaps: readonly HeapReport[];
  readonly failures: readonly Failure[];
  readonly fallbacks: number;
  /** Requests not held by the heap they prefer (the sum of the heaps' `short`). */
  readonly short: number;
}

interface HeapState {
  heap: Heap;
  tracksHighWater: boolean;
  /** With heapMap: live blocks by event id, and the snapshot at the peak. */
  blocks: Map<string, Array<{ offset: number; size: number }>> | undefined;
  peakMap: Array<{ id: string; offset: number; size: number }> | undefined;
  live: number;
  used: number;
  peakLive: number;
  peakUsed: number;
  highWater: number;
  allocations: number;
  failures: number;
  fallbacksFrom: number;
  fallbacksTo: number;
  short: number;
  samples: HeapSample[];
}

/**
 * Fixed pools the simulator places buffers in by address (CMA, carveout, secure): their high-water
 * mark is measured from the pool base (the simulator puts a pool without a known base at 0).
 */
/** A pool sized at boot (heap-kinds/: what sizing answers). */
const isPool = (h: Heap): boolean => HEAP_KINDS[h.kind].sizedPool;

/** The profile's heaps with sizes replaced (the end address moves with the size). */
function resized(heaps: readonly Heap[], sizes: ReadonlyMap<string, number> | undefined): Heap[] {
  if (!sizes) return [...heaps];
  return heaps.map((h) => {
    const size = sizes.get(h.name);
    return size === undefined ? h : { ...h, size, end: h.base !== undefined ? h.base + size : h.end };
  });
}

/** For planning only: capacities unbounded, addresses (and so DMA limits) as in the profile. */
function unboundedForPlanning(platform: Platform): Platform {
  return { ...platform, heaps: platform.heaps.map((h) => (h.kind === 'system' ? h : { ...h, size: 2 ** 50 })) };
}

export function describeRequest(e: AllocEvent): string {
  const r = e.request;
  return `${r.count} x ${r.formats.map((f) => f.name).join('|')} ${r.width}x${r.height} for ${deviceEntries(r).join('+')}${r.protected ? ' (protected)' : ''}`;
}

export function replay(platform: Platform, trace: Trace, options: ReplayOptions = {}): ReplayReport {
  const policy = options.policy ?? 'first-fit';
  const backend = options.backend ?? new SimKernel(resized(platform.heaps, options.sizes), { policy, maxFds: 1 << 30 });
  // The replay closes every buffer it allocates, so the GC leak finaliser has nothing to catch.
  const dev: Allocator = openSync({ platform: options.planUnbounded ? unboundedForPlanning(platform) : platform, backend, leakCheck: false });
  const states = new Map<string, HeapState>(
    platform.heaps.map((heap) => [heap.name, { heap, tracksHighWater: isPool(heap), blocks: options.heapMap && isPool(heap) ? new Map() : undefined, peakMap: undefined, live: 0, used: 0, peakLive: 0, peakUsed: 0, highWater: 0, allocations: 0, failures: 0, fallbacksFrom: 0, fallbacksTo: 0, short: 0, samples: [] }]),
  );
  const plans = new Map<string, Plan | ConflictError>();
  // The heap each request prefers: its plan with every pool unbounded (what sizing replays with).
  const unbounded = options.planUnbounded ? undefined : prepare(unboundedForPlanning(platform));
  const preferredHeaps = new Map<string, HeapState | undefined>();
  const preferredOf = (e: AllocEvent, plan: Plan | ConflictError): HeapState | undefined => {
    if (!unbounded) return plan instanceof ConflictError ? undefined : stateOf(plan);
    if (!preferredHeaps.has(e.key)) {
      const r = negotiate(unbounded, e.request);
      preferredHeaps.set(e.key, r.ok ? states.get(r.plan.heap.name) : undefined);
    }
    return preferredHeaps.get(e.key);
  };
  let short = 0;
  const heldBy = (e: AllocEvent, plan: Plan | ConflictError, where: HeapState | undefined): void => {
    const preferred = preferredOf(e, plan);
    if (preferred !== undefined && preferred !== where) {
      preferred.short++;
      short++;
    }
  };
  const live = new Map<string, { buffers: DmaBuffer[]; heap: HeapState | undefined; live: number; used: number }>();
  const failures: Failure[] = [];
  let fallbacks = 0;
  const events = trace.events;
  const sampleEvery = Math.max(1, Math.floor(events.length / (options.samples ?? 200)));
  const progressEvery = Math.max(1, Math.floor(events.length / 100));

  const allocateOptions = { fallback: options.fallback ?? true };
  // Per plan choice, computed once: which heap state it lands in and the bytes it needs.
  const choiceState = new Map<PlanChoice, HeapState>();
  const stateOf = (choice: PlanChoice): HeapState => {
    let st = choiceState.get(choice);
    if (!st) choiceState.set(choice, (st = states.get(choice.heap.describe().name)!));
    return st;
  };
  const choiceBytes = new Map<PlanChoice, { liveBytes: number; usedBytes: number }>();
  const bytesOf = (choice: PlanChoice) => {
    let b = choiceBytes.get(choice);
    if (!b) choiceBytes.set(choice, (b = { liveBytes: choice.planes.reduce((sum, p) => sum + p.size, 0) * choice.count, usedBytes: choice.size * choice.count }));
    return b;
  };

  const stopSet = options.stopOnFailureOf && options.stopOnFailureOf.size > 0 ? options.stopOnFailureOf : undefined;
  let stopFailed = 0;
  let stopped = false;

  const sample = (t: number) => {
    for (const s of states.values()) {
      const stats = backend.heapStats(s.heap.name);
      s.samples.push({ t, live: s.live, used: stats.used, free: stats.free, largestFree: stats.largestFree });
    }
  };

  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.op === 'free') {
      const set = live.get(e.id)!;
      live.delete(e.id);
      for (const b of set.buffers) b.close();
      if (set.heap) {
        set.heap.live -= set.live;
        set.heap.used -= set.used;
        set.heap.blocks?.delete(e.id);
      }
    } else {
      let plan = plans.get(e.key);
      if (plan === undefined) {
        try {
          plan = dev.negotiate(e.request, { against: 'capacity' });
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
          plan = err;
        }
        plans.set(e.key, plan);
      }
      if (plan instanceof ConflictError) {
        heldBy(e, plan, undefined);
        failures.push({ line: e.line, t: e.t, id: e.id, request: describeRequest(e), heap: undefined, reason: `no plan: ${plan.conflict.fixes[0]?.text ?? plan.conflict.hardware[0] ?? 'constraints conflict'}` });
        live.set(e.id, { buffers: [], heap: undefined, live: 0, used: 0 });
      } else {
        const first = stateOf(plan);
        try {
          const bufs = dev.allocateSync(plan, allocateOptions);
          const used = bufs.used;
          const s = stateOf(used);
          heldBy(e, plan, s);
          const { liveBytes, usedBytes } = bytesOf(used);
          s.live += liveBytes;
          s.used += usedBytes;
          s.allocations++;
          if (s.live > s.peakLive) s.peakLive = s.live;
          if (s.tracksHighWater) {
            const blocks = s.blocks ? [] as Array<{ offset: number; size: number }> : undefined;
            for (const b of bufs) {
              const phys = b.info().physAddr;
              if (phys === undefined) continue;
              const offset = phys - (s.heap.base ?? 0);
              if (offset + used.size > s.highWater) s.highWater = offset + used.size;
              blocks?.push({ offset, size: used.size });
            }
            if (blocks) s.blocks!.set(e.id, blocks);
          }
          if (s.used > s.peakUsed) {
            s.peakUsed = s.used;
            if (s.blocks) s.peakMap = [...s.blocks].flatMap(([id, bs]) => bs.map((b) => ({ id, ...b })));
          }
          if (bufs.fallbacks.length > 0) {
            fallbacks++;
            for (const f of bufs.fallbacks) states.get(f.heap.describe().name)!.fallbacksFrom++;
            s.fallbacksTo++;
          }
          live.set(e.id, { buffers: bufs, heap: s, live: liveBytes, used: usedBytes });
        } catch (err) {
          if (!(err instanceof AllocationError)) throw err;
          first.failures++;
          heldBy(e, plan, undefined);
          // The first failure of a watched heap counts once; stop when all of them have failed.
          if (stopSet && first.failures === 1 && stopSet.has(first.heap.name) && ++stopFailed === stopSet.size) stopped = true;
          failures.push({ line: e.line, t: e.t, id: e.id, request: describeRequest(e), heap: first.heap.name, reason: err.attempts.map((a) => `${a.heap.describe().name}: ${a.errno}`).join(', ') });
          // A sample at every failure, so that a chart can mark it where it happened.
          sample(e.t);
          // Later frees of this id have nothing to release.
          live.set(e.id, { buffers: [], heap: first, live: 0, used: 0 });
        }
      }
    }
    if (stopped) break;
    if (i % sampleEvery === 0) sample(e.t);
    if (options.onProgress && i % progressEvery === 0) options.onProgress(i, events.length);
  }
  if (events.length > 0) sample(events[events.length - 1]!.t);
  options.onProgress?.(events.length, events.length);
  dev.close();
  return {
    trace: trace.origin,
    policy,
    events: events.length,
    heaps: [...states.values()].map((s) => ({
      name: s.heap.name,
      kind: s.heap.kind,
      capacity: options.sizes?.get(s.heap.name) ?? s.heap.size,
      peakLive: s.peakLive,
      peakUsed: s.peakUsed,
      highWater: s.tracksHighWater ? s.highWater : undefined,
      allocations: s.allocations,
      failures: s.failures,
      fallbacksFrom: s.fallbacksFrom,
      fallbacksTo: s.fallbacksTo,
      short: s.short,
      samples: s.samples,
      ...(s.peakMap ? { peakMap: s.peakMap } : {}),
    })),
    failures,
    fallbacks,
    short,
  };
}
