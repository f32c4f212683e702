// Runs inside the QEMU guest on Linux 6.12: `udalloc pools` read against the kernel's own CMA
// allocations. After random allocations and frees fragment the cma= area, for 200 random requests
// --fit's answer (the model of mm/cma.c on the live debugfs bitmap) is what the kernel then does,
// buffer by buffer, and its placement is the pages the bitmap shows after the real allocation. An
// ENOMEM on a fragmented area is reported as fragmentation with the longest aligned run the test
// finds in the bitmap itself, one on a full area as exhaustion; pools lists this process as a holder.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { openSync as openAllocator } from '../src/allocator/allocator.js';
import { AllocationError } from '../src/allocator/errors.js';
import { DmaHeapBackend } from '../src/kernel/dma-heap/backend.js';
import { isKernelError } from '../src/kernel/errno.js';
import { discoverLive } from '../src/platform/live.js';
import { platformFromDiscovery } from '../src/platform/select.js';
import { fitNow, largestAllocatable } from '../src/pools/analyse.js';
import { readCmaState } from '../src/pools/read.js';
import { seededRandom } from '../src/util/random.js';
import { formatBytes } from '../src/constraints/units.js';

const PAGE = 4096;
const AREA = 'reserved';
const MiB = 2 ** 20;

function live() {
  const area = readCmaState('/').areas.find((a) => a.name === AREA);
  assert.ok(area?.debug, 'debugfs shows the cma= area');
  return area.debug;
}

/** Page offsets in use, from the bitmap as the test reads it itself. */
function usedSet(): Set<number> {
  const words = readFileSync(`/sys/kernel/debug/cma/${AREA}/bitmap`, 'utf8').trim().split(/\s+/).map(Number);
  const used = new Set<number>();
  words.forEach((w, i) => {
    for (let b = 0; b < 32; b++) if ((w >>> b) & 1) used.add(i * 32 + b);
  });
  return used;
}

/** The longest free run starting at an `align`-page aligned PFN, found by walking the bitmap. */
function alignedRunByHand(align: number): number {
  const used = usedSet();
  const { basePfn, pages } = live();
  let best = 0;
  for (let p = 0; p < pages; p++) {
    if ((basePfn + p) % align !== 0 || used.has(p)) continue;
    let n = 0;
    while (p + n < pages && !used.has(p + n)) n++;
    best = Math.max(best, n);
  }
  return best;
}

describe('real kernel: the live CMA area, read and explained (udalloc pools)', () => {
  it('on a fragmented area, 200 random requests: --fit\'s answer is what the kernel does, and its placement the pages the bitmap then shows', () => {
    const backend = new DmaHeapBackend();
    const random = seededRandom(26);
    const held: number[] = [];
    const pagesOf = (max: number) => 1 + Math.floor(random() * max);
    try {
      // Fragment: 80 buffers of up to 1.5 MiB, then every one with a coin's chance freed.
      for (let i = 0; i < 80; i++) {
        try {
          held.push(backend.allocate(AREA, pagesOf(384) * PAGE));
        } catch (err) {
          if (!isKernelError(err, 'ENOMEM')) throw err;
        }
      }
      for (let i = held.length - 1; i >= 0; i--) if (random() < 0.5) backend.close(held.splice(i, 1)[0]!);
      let fits = 0;
      let fails = 0;
      for (let r = 0; r < 200; r++) {
        const sizes = Array.from({ length: 1 + Math.floor(random() * 3) }, () => pagesOf(random() < 0.2 ? 4096 : 768) * PAGE);
        const before = usedSet();
        const state = live();
        const predicted = fitNow(AREA, state, sizes);
        const fds: number[] = [];
        let failedAt: number | undefined;
        for (let i = 0; i < sizes.length; i++) {
          try {
            fds.push(backend.allocate(AREA, sizes[i]!));
          } catch (err) {
            if (!isKernelError(err, 'ENOMEM')) throw err;
            failedAt = i;
            break;
          }
        }
        assert.strictEqual(failedAt, predicted.failed, `request ${r} (${sizes.map((s) => s / PAGE).join(', ')} pages): --fit said ${predicted.failed === undefined ? 'yes' : `no at buffer ${predicted.failed}`}`);
        // The pages the kernel took are the ones --fit placed.
        const taken = [...usedSet()].filter((p) => !before.has(p)).sort((a, b) => a - b);
        const expected = predicted.pfns.flatMap((pfn, i) => Array.from({ length: sizes[i]! / PAGE }, (_, k) => pfn - state.basePfn + k)).sort((a, b) => a - b);
        assert.deepStrictEqual(taken, expected, `request ${r}: placement`);
        if (failedAt === undefined) fits++;
        else fails++;
        // Some requests stay, so the area keeps changing.
        if (random() < 0.25) held.push(...fds);
        else for (const fd of fds) backend.close(fd);
      }
      assert.ok(fits > 20 && fails > 20, `both answers exercised: ${fits} fit, ${fails} did not`);

      // pools lists this process among the holders of the area's dma-bufs.
      const report = JSON.parse(execFileSync('node', ['dist/src/cli/main.js', 'pools', '--json'], { encoding: 'utf8' })) as { areas: Array<{ name: string; holders: Array<{ pid: number; buffers: number }>; largestBuffer: number }> };
      const area = report.areas.find((a) => a.name === AREA)!;
      assert.deepStrictEqual(area.holders.find((h) => h.pid === process.pid)?.buffers, held.length);
      assert.strictEqual(area.largestBuffer, largestAllocatable(AREA, live()) * PAGE);
    } finally {
      for (const fd of held) backend.close(fd);
      backend.dispose();
    }
  });

  it('an ENOMEM is explained: fragmentation with the longest aligned run the bitmap shows, then exhaustion on a full area', () => {
    const backend = new DmaHeapBackend();
    const platform = platformFromDiscovery(discoverLive('/'), 'qemu-live');
    const dev = openAllocator({ platform, backend });
    const held: number[] = [];
    try {
      // 2 MiB buffers, then every second freed: 1 MiB-aligned holes of 2 MiB between held ones.
      for (;;) {
        try {
          held.push(backend.allocate(AREA, 2 * MiB));
        } catch (err) {
          if (!isKernelError(err, 'ENOMEM')) throw err;
          break;
        }
      }
      for (let i = held.length - 1; i >= 0; i -= 2) backend.close(held.splice(i, 1)[0]!);
      const free = (live().pages - live().usedPages) * PAGE;
      assert.ok(free >= 8 * MiB, `${free} bytes free`);
      // An 8 MiB frame (1024 x 2048 XRGB8888) has room in total, in no single run.
      const plan = dev.negotiate({ width: 1024, height: 2048, formats: ['XRGB8888'], devices: ['video0:write'] });
      assert.strictEqual(plan.heap.describe().name, AREA);
      const run = alignedRunByHand(256) * PAGE;
      assert.throws(() => dev.allocateSync(plan), (err) => {
        assert.ok(err instanceof AllocationError, String(err));
        assert.ok(err.message.includes(`reserved is fragmented: ${formatBytes(free)} free, but the longest free run starting 1 MiB-aligned (as a 8 MiB buffer must) is ${formatBytes(run)}`), err.message);
        assert.match(err.message, /held by: node \(pid \d+\) \d+ buffer\(s\)/);
        return true;
      });
      // Full: exhaustion.
      for (;;) {
        try {
          held.push(backend.allocate(AREA, 256 * PAGE));
        } catch (err) {
          if (!isKernelError(err, 'ENOMEM')) throw err;
          break;
        }
      }
      assert.throws(() => dev.allocateSync(plan), (err) => err instanceof AllocationError && /reserved is exhausted: [\d.]+ (B|KiB|MiB) free, less than a 8 MiB buffer/.test(err.message) && /would help: .*large enough when empty/.test(err.message));
    } finally {
      for (const fd of held) backend.close(fd);
      dev.close();
      backend.dispose();
    }
  });
});
