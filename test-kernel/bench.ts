// Runs inside the QEMU guest (npm run bench:kernel): the library's allocate()+close() of a 1 MiB
// buffer as a ratio to a raw loop of DMA_HEAP_IOCTL_ALLOC + close(2) through the same native binding,
// per heap, measured in the same process. Bar: <= 1.2x.

import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openSync as openAllocator } from '../src/allocator/allocator.js';
import { loadNative } from '../src/kernel/native/addon.js';

const PLATFORM = fileURLToPath(new URL('../../test-kernel/qemu-platform.yaml', import.meta.url));
const native = loadNative();
const O_RDWR_CLOEXEC = 2 | 0o2000000;
const ROUNDS = 31;
const N = 100;

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

const dev = openAllocator({ platform: PLATFORM, backend: 'dma-heap' });
// The same without the GC leak finaliser, to show what FinalizationRegistry costs here.
const bare = openAllocator({ platform: PLATFORM, backend: 'dma-heap', leakCheck: false });
const rows: Array<Record<string, string | number>> = [];
for (const [heap, devices] of [['system', ['encoder']], ['reserved', ['display']]] as const) {
  const plan = dev.negotiate({ width: 512, height: 512, formats: ['XRGB8888'], devices: [...devices] }, { against: 'capacity' });
  if (plan.heap.describe().name !== heap || plan.size !== 1 << 20) throw new Error(`unexpected plan ${plan}`);
  const heapFd = openSync(`/dev/dma_heap/${heap}`, 'r+');
  const barePlan = bare.negotiate({ width: 512, height: 512, formats: ['XRGB8888'], devices: [...devices] }, { against: 'capacity' });
  const raw: number[] = [];
  const lib: number[] = [];
  const noLeakCheck: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    for (let i = 0; i < N; i++) native.close(native.dmaHeapAlloc(heapFd, 1 << 20, O_RDWR_CLOEXEC, 0));
    raw.push((performance.now() - t) / N);
    t = performance.now();
    for (let i = 0; i < N; i++) dev.allocateSync(plan)[0]!.close();
    lib.push((performance.now() - t) / N);
    t = performance.now();
    for (let i = 0; i < N; i++) bare.allocateSync(barePlan)[0]!.close();
    noLeakCheck.push((performance.now() - t) / N);
  }
  closeSync(heapFd);
  const ratio = median(lib) / median(raw);
  rows.push({ heap, 'raw ioctl+close us': +(median(raw) * 1000).toFixed(1), 'allocate()+close() us': +(median(lib) * 1000).toFixed(1), ratio: +ratio.toFixed(3), 'without leak finaliser': +(median(noLeakCheck) / median(raw)).toFixed(3), bar: ratio <= 1.2 ? 'PASS' : 'FAIL' });
}
console.table(rows);
console.log(`UDALLOC-BENCH ${JSON.stringify(rows)}`);
