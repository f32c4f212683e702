// Pool-sizing benchmarks on a 1,000,000-event trace (the compositor scenario with 500,000 client
// windows coming and going on the example board):
// - replay through the full solver and allocator, as a ratio to replaying the same events straight
//   onto the simulated heaps (allocate ioctl + close, heap and size taken from the full replay) in
//   the same process. Bar: <= 2x.
// - the sizing search, as a multiple of one replay. Bar: <= 20 replays' worth.

import { loadPlatform } from '../src/constraints/load.js';
import type { Platform } from '../src/constraints/model.js';
import { SimKernel } from '../src/kernel/sim/kernel.js';
import { replay } from '../src/sim/replay.js';
import { generateScenario } from '../src/sim/scenarios.js';
import { sizePools } from '../src/sim/sizing.js';
import { traceFromEvents, type Trace } from '../src/sim/trace.js';
import { openSync } from '../src/allocator/allocator.js';
import { AllocationError } from '../src/allocator/errors.js';
import { median } from './stats.js';

interface RawOp {
  readonly alloc: boolean;
  readonly id: number;
  readonly heap: string;
  readonly size: number;
  readonly count: number;
}

/** The heap and size the allocator chose for every alloc event, so the raw replay does the same work. */
function rawOps(platform: Platform, trace: Trace): RawOp[] {
  const dev = openSync({ platform, backend: 'sim' });
  const ids = new Map<string, number>();
  const ops: RawOp[] = [];
  const plans = new Map<string, ReturnType<typeof dev.negotiate>>();
  const live = new Map<string, { close(): void }[]>();
  for (const e of trace.events) {
    const id = ids.get(e.id) ?? ids.size;
    ids.set(e.id, id);
    if (e.op === 'alloc') {
      let plan = plans.get(e.key);
      if (!plan) plans.set(e.key, (plan = dev.negotiate(e.request, { against: 'capacity' })));
      try {
        const bufs = dev.allocateSync(plan);
        live.set(e.id, bufs);
        ops.push({ alloc: true, id, heap: bufs.used.heap.describe().name, size: bufs.used.size, count: bufs.length });
      } catch (err) {
        if (!(err instanceof AllocationError)) throw err;
        live.set(e.id, []); // the full replay fails this event too: nothing to allocate or free
        ops.push({ alloc: true, id, heap: '', size: 0, count: 0 });
      }
    } else {
      live.get(e.id)!.forEach((b) => b.close());
      ops.push({ alloc: false, id, heap: '', size: 0, count: 0 });
    }
  }
  dev.close();
  return ops;
}

function rawReplay(platform: Platform, ops: readonly RawOp[]): void {
  const sim = new SimKernel(platform.heaps, { maxFds: 1 << 30 });
  const live = new Map<number, number[]>();
  for (const op of ops) {
    if (op.alloc) {
      const fds: number[] = [];
      for (let i = 0; i < op.count; i++) fds.push(sim.allocate(op.heap, op.size));
      live.set(op.id, fds);
    } else {
      for (const fd of live.get(op.id)!) sim.close(fd);
      live.delete(op.id);
    }
  }
}

function timed(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

export function replayBench(options: { windows?: number; sizing?: boolean } = {}): void {
  const platform = loadPlatform('boards/example.yaml');
  const started = performance.now();
  // 2 events per window; 7.2 s per window keeps ~25 windows alive at a time (mean life 180 s).
  const windows = options.windows ?? 500_000;
  const generated = generateScenario(`compositor:windows=${windows},seconds=${windows * 7.2}`, 1);
  const trace = traceFromEvents(generated.events, platform, generated.name);
  console.log(`\nreplay of ${trace.events.length} events (${generated.name}); trace built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const ops = rawOps(platform, trace);
  const raw: number[] = [];
  const full: number[] = [];
  for (let round = 0; round < 3; round++) {
    raw.push(timed(() => rawReplay(platform, ops)));
    full.push(timed(() => replay(platform, trace)));
  }
  const ratio = median(full) / median(raw);
  console.table([{ 'raw replay s': +(median(raw) / 1000).toFixed(2), 'solver+allocator replay s': +(median(full) / 1000).toFixed(2), ratio: +ratio.toFixed(2) }]);
  console.log(`bar: replay through solver and allocator <= 2x raw: ${ratio.toFixed(2)}x ${ratio <= 2 ? 'PASS' : 'FAIL'}`);

  if (options.sizing === false) return;
  const rows: Record<string, string | number>[] = [];
  for (const policy of ['first-fit', 'best-fit'] as const) {
    const one = timed(() => replay(platform, trace, { policy, planUnbounded: true, fallback: false, samples: 1 }));
    let probes = 0;
    const search = timed(() => {
      probes = sizePools(platform, [trace], { policy }).probes;
    });
    rows.push({ policy, 'one replay s': +(one / 1000).toFixed(2), 'sizing s': +(search / 1000).toFixed(2), replays: probes, 'sizing / one replay': +(search / one).toFixed(2) });
  }
  console.table(rows);
  const worst = Math.max(...rows.map((r) => Number(r['sizing / one replay'])));
  console.log(`bar: sizing search <= 20 replays' worth: worst ${worst.toFixed(2)} ${worst <= 20 ? 'PASS' : 'FAIL'}`);
}
