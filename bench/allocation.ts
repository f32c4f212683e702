// Allocation benchmarks on the simulated kernel:
// - allocate+free throughput per heap kind (1 MiB buffers, with 32 other buffers live so the CMA
//   and gen_pool searches walk a populated bitmap), as a ratio to the system heap's;
// - the library's allocate()+close() per buffer, as a ratio to calling the simulated backend
//   directly (allocate ioctl + close) for the same heap in the same process. Bar: <= 1.5x.
//   "held" allocates NURSERY_LIMIT small buffers (so they fit the 32 MiB secure pool) before closing
//   them, so every one is registered with the leak finaliser: the cost a long-lived buffer pays
//   (short-lived ones skip it, see src/allocator/leak-watch.ts).

import { Bench } from 'tinybench';
import { loadPlatform, type RequestFields } from '../src/constraints/load.js';
import { openSync } from '../src/allocator/allocator.js';
import { NURSERY_LIMIT } from '../src/allocator/leak-watch.js';
import type { DmaBuffer } from '../src/allocator/buffer.js';
import type { SimKernel } from '../src/kernel/sim/kernel.js';

const INNER = 100;
const MiB = 2 ** 20;

function meanUs(bench: Bench, name: string): number {
  const r = bench.getTask(name)?.result;
  if (!r || !('latency' in r)) throw new Error(`benchmark ${name} did not complete`);
  return (r.latency.mean / INNER) * 1000;
}

/** Requests that the example board's solver places in each heap, for 1 MiB-ish buffers. */
const REQUESTS: Record<string, RequestFields> = {
  system: { width: 512, height: 512, formats: ['XRGB8888'], devices: ['gpu'] },
  cma: { width: 512, height: 512, formats: ['XRGB8888'], devices: ['display'] },
  secure: { width: 1024, height: 683, formats: ['NV12'], devices: ['drm-protected'], protected: true },
};

export async function allocationBench(): Promise<void> {
  const platform = loadPlatform('boards/example.yaml');
  console.log('\nsimulated allocate+free of 1 MiB with 32 buffers live, per heap kind');
  const dev = openSync({ platform, backend: 'sim' });
  const sim = dev.backend as SimKernel;
  const heaps = { system: 'system', cma: 'linux,cma', carveout: 'vpu-carve', secure: 'secure' };
  for (const heap of Object.values(heaps)) for (let i = 0; i < 32; i++) sim.allocate(heap, (i % 3) * 64 * 1024 + 4096);
  const kinds = new Bench({ time: 300, warmupTime: 100 });
  for (const [kind, heap] of Object.entries(heaps)) {
    kinds.add(kind, () => {
      for (let i = 0; i < INNER; i++) sim.close(sim.allocate(heap, MiB));
    });
  }
  await kinds.run();
  const system = meanUs(kinds, 'system');
  console.table(Object.keys(heaps).map((kind) => ({ kind, 'us per allocate+free': +meanUs(kinds, kind).toFixed(3), 'ratio to system': +(meanUs(kinds, kind) / system).toFixed(2) })));

  console.log('\nlibrary allocate()+close() vs the simulated backend called directly, per buffer');
  const rows: Record<string, string | number>[] = [];
  for (const [kind, request] of Object.entries(REQUESTS)) {
    const plan = dev.negotiate(request);
    const heap = plan.heap.describe().name;
    const size = plan.size;
    const small = dev.negotiate({ ...request, width: 96, height: 96 });
    if (small.heap !== plan.heap) throw new Error(`the small ${kind} request landed in ${small.heap}`);
    const bench = new Bench({ time: 300, warmupTime: 100 });
    const held: DmaBuffer[] = [];
    const fds: number[] = [];
    bench
      .add('direct', () => {
        for (let i = 0; i < INNER; i++) sim.close(sim.allocate(heap, size));
      })
      .add('allocateSync', () => {
        for (let i = 0; i < INNER; i++) dev.allocateSync(plan)[0]!.close();
      })
      .add('allocate', async () => {
        for (let i = 0; i < INNER; i++) (await dev.allocate(plan))[0]!.close();
      })
      .add('direct held', () => {
        for (let i = 0; i < NURSERY_LIMIT; i++) fds.push(sim.allocate(heap, small.size));
        for (const fd of fds) sim.close(fd);
        fds.length = 0;
      })
      .add('held', () => {
        for (let i = 0; i < NURSERY_LIMIT; i++) held.push(dev.allocateSync(small)[0]!);
        for (const b of held) b.close();
        held.length = 0;
      });
    await bench.run();
    const direct = meanUs(bench, 'direct');
    rows.push({
      heap: kind,
      bytes: size,
      'direct us': +direct.toFixed(3),
      'allocate() us': +meanUs(bench, 'allocate').toFixed(3),
      'allocate() / direct': +(meanUs(bench, 'allocate') / direct).toFixed(2),
      'allocateSync() / direct': +(meanUs(bench, 'allocateSync') / direct).toFixed(2),
      'held / direct held': +(meanUs(bench, 'held') / meanUs(bench, 'direct held')).toFixed(2),
    });
  }
  console.table(rows);
  const worst = Math.max(...rows.map((r) => Number(r['allocate() / direct'])));
  console.log(`bar: allocate() overhead <= 1.5x direct: worst ${worst}x ${worst <= 1.5 ? 'PASS' : 'FAIL'}`);
  dev.close();
}
