// Runs inside the QEMU guest (see test/kernel/qemu.test.ts), as root, on a real Linux 6.12 with
// dma-buf heaps, CMA (cma=64M) and udmabuf: real ioctls, real mmap, real fds.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openSync as openAllocator } from '../src/allocator/allocator.js';
import type { DmaBuffer } from '../src/allocator/buffer.js';
import { DmaHeapBackend } from '../src/kernel/dma-heap/backend.js';
import { UdmabufBackend, UDMABUF_HEAP } from '../src/kernel/udmabuf/backend.js';
import { SimKernel } from '../src/kernel/sim/kernel.js';
import { isKernelError } from '../src/kernel/errno.js';
import { syncFlags } from '../src/kernel/backend.js';
import { loadPlatform } from '../src/constraints/load.js';
import { seededRandom } from '../src/util/random.js';
import { loadNative } from '../src/kernel/native/addon.js';
import { dmaBufFdinfo } from '../src/platform/live.js';

const PLATFORM = fileURLToPath(new URL('../../test-kernel/qemu-platform.yaml', import.meta.url));
const MiB = 2 ** 20;
const K = 1024;
const processFds = () => readdirSync('/proc/self/fd').length;

function roundTrip(backend: DmaHeapBackend | UdmabufBackend, heap: string, size: number): void {
  const fd = backend.allocate(heap, size);
  try {
    const w = backend.map(fd);
    backend.sync(fd, syncFlags('write', 'start'));
    const bytes = new Uint8Array(w.bytes);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i >> 12) & 0xff;
    backend.sync(fd, syncFlags('write', 'end'));
    w.unmap();
    const r = backend.map(fd);
    backend.sync(fd, syncFlags('read', 'start'));
    const back = new Uint8Array(r.bytes);
    for (let i = 0; i < back.length; i += 4096) assert.strictEqual(back[i], (i >> 12) & 0xff, `${heap} byte ${i}`);
    backend.sync(fd, syncFlags('read', 'end'));
    r.unmap();
    const info = backend.info(fd);
    assert.strictEqual(info.size, Math.ceil(size / 4096) * 4096);
  } finally {
    backend.close(fd);
  }
}

/** The CMA bitmap debugfs shows (u32 words, least significant bit first) as page indices in use. */
function cmaPagesInUse(area: string): Set<number> {
  const words = readFileSync(`/sys/kernel/debug/cma/${area}/bitmap`, 'utf8').trim().split(/\s+/).map(Number);
  const used = new Set<number>();
  words.forEach((w, i) => {
    for (let b = 0; b < 32; b++) if ((w >>> b) & 1) used.add(i * 32 + b);
  });
  return used;
}

describe('real kernel: dma-buf heaps', () => {
  const backend = new DmaHeapBackend();

  it('auto-selection picks the dma-heap backend and finds system and the cma= area', () => {
    const dev = openAllocator({ platform: PLATFORM });
    assert.strictEqual(dev.backend.kind, 'dma-heap');
    assert.deepStrictEqual(backend.names(), ['reserved', 'system']);
    assert.deepStrictEqual(backend.heaps().map((h) => [h.name, h.kind]), [['reserved', 'cma'], ['system', 'system']]);
    assert.strictEqual(backend.heapStats('reserved').capacity, 64 * MiB);
  });

  it('allocates, maps, writes, syncs and reads back on every heap', () => {
    for (const heap of backend.names()) roundTrip(backend, heap, MiB + 12289);
  });

  it('names show in fdinfo with the exporting heap', () => {
    const fd = backend.allocate('system', 4096);
    backend.setName(fd, 'udalloc-test');
    const info = backend.info(fd);
    assert.deepStrictEqual([info.exporter, info.name], ['system', 'udalloc-test']);
    assert.throws(() => backend.setName(fd, 'x'.repeat(40)), (err) => isKernelError(err, 'EINVAL'));
    backend.close(fd);
  });

  it('exports a sync_file, and lists live dma-bufs from /proc/self/fdinfo', () => {
    const fd = backend.allocate('reserved', 64 * K);
    const native = loadNative();
    const syncFile = native.dmaBufExportSyncFile(fd, 1);
    assert.ok(syncFile > 0);
    native.close(syncFile);
    const listed = dmaBufFdinfo('/').find((b) => b.fd === fd);
    assert.deepStrictEqual([listed?.exporter, listed?.size], ['reserved', 64 * K]);
    backend.close(fd);
    assert.ok(!dmaBufFdinfo('/').some((b) => b.fd === fd));
  });

  it('rejects what the uAPI rejects: zero length and unknown heap flags are EINVAL', () => {
    assert.throws(() => backend.allocate('system', 0), (err) => isKernelError(err, 'EINVAL'));
    assert.throws(() => backend.allocate('system', 4096, { heapFlags: 1 }), (err) => isKernelError(err, 'EINVAL'));
  });

  it('CMA placements match the simulated CMA model for the same sequence', () => {
    const base = Number(readFileSync('/sys/kernel/debug/cma/reserved/base_pfn', 'utf8')) * 4096;
    const count = Number(readFileSync('/sys/kernel/debug/cma/reserved/count', 'utf8'));
    const before = cmaPagesInUse('reserved');
    assert.strictEqual(before.size, 0, 'the CMA area starts empty');
    const sim = new SimKernel(loadPlatform(PLATFORM).heaps.map((h) => (h.name === 'reserved' ? { ...h, base, size: count * 4096 } : h)));
    const sizes = [4 * K, MiB, 8 * K, 'free0', 4 * K, 12 * K, 16 * MiB, 4 * K] as const;
    const real: number[] = [];
    const simFds: number[] = [];
    for (const s of sizes) {
      if (s === 'free0') {
        backend.close(real.shift()!);
        sim.close(simFds.shift()!);
        continue;
      }
      real.push(backend.allocate('reserved', s));
      simFds.push(sim.allocate('reserved', s));
    }
    const expected = new Set<number>();
    for (const fd of simFds) {
      const info = sim.info(fd);
      const first = (info.physAddr! - base) / 4096;
      for (let p = first; p < first + info.size / 4096; p++) expected.add(p);
    }
    const used = cmaPagesInUse('reserved');
    assert.deepStrictEqual([...used].sort((a, b) => a - b), [...expected].sort((a, b) => a - b));
    real.forEach((fd) => backend.close(fd));
  });

  it('exhausting the 64 MiB CMA area gives ENOMEM at the 17th 4 MiB buffer, and the allocator falls back', () => {
    const fds: number[] = [];
    try {
      for (;;) fds.push(backend.allocate('reserved', 4 * MiB));
    } catch (err) {
      assert.ok(isKernelError(err, 'ENOMEM'), String(err));
    }
    assert.strictEqual(fds.length, 16);
    const dev = openAllocator({ platform: PLATFORM, backend: 'dma-heap' });
    const plan = dev.negotiate({ width: 1920, height: 1080, formats: ['XRGB8888'], devices: ['gpu'], count: 2 }, { against: 'capacity' });
    assert.strictEqual(plan.heap.describe().name, 'reserved');
    const bufs = dev.allocateSync(plan);
    assert.deepStrictEqual(bufs.fallbacks.map((f) => [f.heap.describe().name, f.errno]), [['reserved', 'ENOMEM']]);
    assert.deepStrictEqual(bufs.map((b) => b.info().exporter), ['system', 'system']);
    bufs.forEach((b) => b.close());
    fds.forEach((fd) => backend.close(fd));
  });

  it('a 500-operation storm through the allocator leaks no fd', () => {
    const before = processFds();
    const dev = openAllocator({ platform: PLATFORM, backend: 'dma-heap' });
    const live: DmaBuffer[] = [];
    const random = seededRandom(7);
    for (let op = 0; op < 500; op++) {
      const r = random();
      if (r < 0.45 || live.length === 0) {
        const devices = random() < 0.5 ? ['display'] : ['gpu'];
        try {
          live.push(...dev.allocateSync(dev.negotiate({ width: 64 + Math.floor(random() * 1024), height: 64 + Math.floor(random() * 512), formats: ['XRGB8888'], devices, cpu: 'write', count: 1 + Math.floor(random() * 3) })));
        } catch (err) {
          if (!(err instanceof Error) || !/allocation failed|no plan/.test(err.message)) throw err;
        }
      } else if (r < 0.85) {
        live.splice(Math.floor(random() * live.length), 1)[0]!.close();
      } else {
        const view = live[Math.floor(random() * live.length)]!.map('write');
        view.bytes[0] = op & 0xff;
        view.end();
      }
    }
    live.forEach((b) => b.close());
    dev.close();
    (dev.backend as DmaHeapBackend).dispose();
    assert.strictEqual(processFds(), before);
  });
});

describe('real kernel: the command line', () => {
  it('udalloc heaps (no --platform) shows this machine\'s heaps on the dma-heap backend', () => {
    const out = execFileSync(process.execPath, [fileURLToPath(new URL('../src/cli/main.js', import.meta.url)), 'heaps', '--json'], { encoding: 'utf8' });
    const json = JSON.parse(out) as { backend: string; heaps: Array<{ name: string; kind: string; capacity: number }> };
    assert.strictEqual(json.backend, 'dma-heap');
    assert.deepStrictEqual(json.heaps.map((h) => [h.name, h.kind]), [['reserved', 'cma'], ['system', 'system']]);
    assert.strictEqual(json.heaps[0]!.capacity, 64 * MiB);
  });
});

describe('real kernel: udmabuf', () => {
  it('wraps a sealed memfd; maps, writes and reads back', () => {
    const backend = new UdmabufBackend();
    roundTrip(backend, UDMABUF_HEAP, 2 * MiB);
    assert.deepStrictEqual(backend.openFds(), []);
    backend.dispose();
  });
});
