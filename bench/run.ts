// udalloc benchmarks. Every number is a ratio to a baseline measured in the same process and run,
// because the machines are shared and noisy. Run with: npm run bench
//
// negotiation: 2, 4 and 8 devices, each listing ~50 formats x up to 10 modifiers, cold (a fresh
// request every call; also "all plans", which ranks every shared pair on every heap) and memoised
// (the same request again), against a bare set intersection of
// the devices' (format, modifier) lists. Bars: cold 4-device <= 10x baseline; memoised < 1 us.
// allocation: see bench/allocation.ts; replay and pool sizing: bench/replay.ts; usage scan:
// bench/usage.ts; service round trip: bench/service.ts; against the C capability-set fold:
// bench/peer-fold/; conflicts on the shipped boards: bench/conflicts.ts; a 6-edge pipeline against
// its edges' single negotiations: bench/pipeline.ts.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { FORMATS } from '../src/constraints/formats.js';
import { MODIFIERS, modifierAppliesTo } from '../src/constraints/modifiers.js';
import { makeRequest, parsePlatform } from '../src/constraints/load.js';
import type { Platform, Request } from '../src/constraints/model.js';
import { negotiate } from '../src/solver/negotiate.js';
import { prepare } from '../src/solver/prepared.js';
import { seededRandom } from '../src/util/random.js';
import { allocationBench } from './allocation.js';
import { replayBench } from './replay.js';
import { usageBench } from './usage.js';
import { serviceBench } from './service.js';
import { conflictsBench } from './conflicts.js';
import { pipelineBench } from './pipeline.js';

const INNER = 200; // calls per sample, so timer overhead does not dominate sub-microsecond work

function benchPlatform(devices: number): Platform {
  const random = seededRandom(devices);
  const formats = FORMATS.slice(0, 50);
  const profile = {
    name: `bench-${devices}`,
    heaps: [
      { name: 'system', kind: 'system', size: '8GiB' },
      { name: 'cma', kind: 'cma', base: 0x40000000, size: '512MiB' },
      { name: 'carve', kind: 'carveout', base: 0x90000000, size: '128MiB' },
      { name: 'secure', kind: 'secure', base: 0xa0000000, size: '64MiB' },
    ],
    devices: Array.from({ length: devices }, (_, i) => ({
      name: `dev${i}`,
      iommu: i % 2 === 1,
      dmaBits: 32,
      formats: Object.fromEntries(
        formats.map((f) => {
          const mods = MODIFIERS.filter((m) => modifierAppliesTo(m, f) && (m.value === 0n || random() < 0.85))
            .slice(0, 10)
            .sort(() => random() - 0.5)
            .map((m) => m.name);
          return [f.name, { modifiers: mods, pitchAlign: [16, 64, 256][i % 3] }];
        }),
      ),
    })),
  };
  return parsePlatform(JSON.stringify(profile), profile.name);
}

/** The baseline: intersect every device's format list and, per format, its modifier list. */
function bareIntersection(platform: Platform, request: Request): number {
  const devices = request.devices.map((n) => platform.devices.find((d) => d.name === n)!);
  let pairs = 0;
  for (const format of request.formats) {
    const rules = devices.map((d) => d.formats.get(format.name));
    if (rules.some((r) => r === undefined)) continue;
    const [first, ...rest] = rules.map((r) => new Set(r!.modifiers));
    for (const m of first!) if (rest.every((s) => s.has(m))) pairs++;
  }
  return pairs;
}

function meanMs(bench: Bench, name: string): number {
  const r = bench.getTask(name)?.result;
  if (!r || !('latency' in r)) throw new Error(`benchmark ${name} did not complete`);
  return r.latency.mean / INNER;
}

async function negotiationBench(): Promise<void> {
  console.log('negotiation latency (per call), ratio to a bare set intersection in the same run');
  const rows: Record<string, string | number>[] = [];
  for (const n of [2, 4, 8]) {
    const platform = benchPlatform(n);
    const devices = platform.devices.map((d) => d.name);
    const formats = FORMATS.slice(0, 50).map((f) => f.name);
    const fixed = makeRequest(platform, { width: 1920, height: 1080, formats, devices, count: 3 });
    // Cold: passing capacities explicitly bypasses the answers kept, so every call solves afresh
    // (over the prepared platform's compiled shapes).
    const fresh = Array.from({ length: 64 }, (_, i) => makeRequest(platform, { width: 1280 + i, height: 720, formats, devices, count: 3 }));
    const wholeHeaps = { capacityOf: (h: { size: number }) => h.size };
    // Full scan: asking for every alternative makes the solver lay out every shared pair.
    const everyPlan = { ...wholeHeaps, alternatives: 100_000 };
    let next = 0;
    // What an application holds for a platform it negotiates on again and again.
    const prepared = prepare(platform);
    negotiate(prepared, fixed);
    const bench = new Bench({ time: 400, warmupTime: 100 });
    bench
      .add('baseline', () => {
        for (let i = 0; i < INNER; i++) bareIntersection(platform, fixed);
      })
      .add('cold', () => {
        for (let i = 0; i < INNER; i++) negotiate(prepared, fresh[next++ % fresh.length]!, wholeHeaps);
      })
      .add('full', () => {
        for (let i = 0; i < INNER / 10; i++) negotiate(prepared, fresh[next++ % fresh.length]!, everyPlan);
      })
      .add('memoised', () => {
        for (let i = 0; i < INNER; i++) negotiate(prepared, fixed);
      });
    await bench.run();
    const base = meanMs(bench, 'baseline');
    const cold = meanMs(bench, 'cold');
    const memo = meanMs(bench, 'memoised');
    const full = meanMs(bench, 'full') * 10;
    rows.push({
      devices: n,
      'baseline us': +(base * 1000).toFixed(2),
      'cold us': +(cold * 1000).toFixed(2),
      'cold / baseline': +(cold / base).toFixed(2),
      'all plans / baseline': +(full / base).toFixed(2),
      'memoised us': +(memo * 1000).toFixed(3),
      'memoised / baseline': +(memo / base).toFixed(3),
    });
  }
  console.table(rows);
  const four = rows.find((r) => r['devices'] === 4)!;
  console.log(`bar: cold 4-device <= 10x baseline: ${four['cold / baseline']}x ${Number(four['cold / baseline']) <= 10 ? 'PASS' : 'FAIL'}`);
  console.log(`bar: memoised < 1 us: ${four['memoised us']} us ${Number(four['memoised us']) < 1 ? 'PASS' : 'FAIL'}`);
}

// The usage scan reads every process's maps, this one's included: it runs first, before the
// replay's million-event heap multiplies this process's own mappings (RESULTS.md, usage runs 4 and 6).
usageBench();
await negotiationBench();
await allocationBench();
await serviceBench();
// The C fold comparison in a process of its own (see peer-fold/run.ts).
if (spawnSync(process.execPath, [fileURLToPath(new URL('./peer-fold/run.js', import.meta.url))], { stdio: 'inherit' }).status !== 0) process.exitCode = 1;
conflictsBench();
pipelineBench();
replayBench();
