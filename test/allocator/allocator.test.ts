// The allocator API on the simulated kernel: every allocate path (success, fallback, rollback,
// EINTR), mapping, protected buffers, close semantics, accounting and opaque heap handles.

import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlatform } from '../../src/constraints/load.js';
import { open, openSync, type Allocator } from '../../src/allocator/allocator.js';
import { selectBackend } from '../../src/allocator/backend-select.js';
import { AllocationError, ClosedError, ConflictError } from '../../src/allocator/errors.js';
import { isKernelError } from '../../src/kernel/errno.js';
import type { SimKernel, SimOptions } from '../../src/kernel/sim/kernel.js';
import type { FaultRule } from '../../src/kernel/sim/faults.js';
import { InputError } from '../../src/errors.js';
import { testDir } from '../helpers.js';

const board = loadPlatform('boards/example.yaml');
const NV12_1080P = 3342336; // 2048x1088 + 2048x544: camera pitch 256, height 16 (see layout tests)
const camDisplay = { width: 1920, height: 1080, formats: ['NV12'], devices: ['camera', 'display'], count: 3 };

function openBoard(sim: SimOptions = {}): Allocator {
  return openSync({ platform: board, backend: 'sim', sim });
}
const simOf = (dev: Allocator) => dev.backend as SimKernel;
const faults = (...rules: FaultRule[]) => ({ faults: rules });

/** Heap bytes the kernel counts equal the live buffers' sizes, heap by heap. */
function assertAccounting(dev: Allocator): void {
  for (const h of dev.stats().heaps) assert.strictEqual(h.used, h.liveBytes, `heap ${h.heap.describe().name}: used ${h.used} vs live ${h.liveBytes}`);
}

describe('allocate: success', () => {
  it('the README example: 3 NV12 1080p buffers for camera + display, in a contiguous heap', async () => {
    const dev = await open({ platform: 'boards/example.yaml', backend: 'sim' });
    const plan = dev.negotiate(camDisplay);
    const bufs = await dev.allocate(plan);
    assert.strictEqual(bufs.length, 3);
    assert.deepStrictEqual(bufs.map((b) => b.fd), [3, 4, 5]);
    assert.deepStrictEqual(bufs.fallbacks, []);
    for (const b of bufs) {
      assert.strictEqual(b.size, NV12_1080P);
      assert.deepStrictEqual(b.planes, [{ offset: 0, pitch: 2048, size: 2048 * 1088 }, { offset: 2048 * 1088, pitch: 2048, size: 2048 * 544 }]);
      assert.strictEqual(b.heap.describe().kind, 'cma');
      assert.strictEqual(b.owner, 'camera+display');
      // The display has no IOMMU and a 32-bit DMA limit: the buffer is contiguous and below 4 GiB.
      const phys = b.info().physAddr!;
      assert.ok(phys + b.size <= 2 ** 32);
    }
    const stats = dev.stats();
    assert.deepStrictEqual(stats.buffers.map((b) => b.fd), [3, 4, 5]);
    assertAccounting(dev);
    bufs.forEach((b) => b.close());
    assert.deepStrictEqual(simOf(dev).openFds(), []);
    assert.ok(dev.stats().heaps.every((h) => h.used === 0));
  });

  it('maps with sync begin/end around CPU access; data written is read back', () => {
    const dev = openBoard();
    const [buf] = dev.allocateSync(dev.negotiate({ ...camDisplay, count: 1, cpu: 'readwrite' }));
    {
      using view = buf!.map('write');
      assert.strictEqual(view.bytes.byteLength, buf!.size);
      view.plane(1).fill(0x80); // neutral chroma
      view.plane(0)[0] = 16;
    }
    {
      using view = buf!.map('read');
      assert.strictEqual(view.bytes[0], 16);
      assert.strictEqual(view.plane(1)[0], 0x80);
      assert.strictEqual(view.bytes[buf!.planes[1]!.offset - 1], 0);
    }
    // Both accesses ended: an extra END would be unpaired.
    assert.throws(() => simOf(dev).sync(buf!.fd, 4 | 1), (err) => isKernelError(err, 'EINVAL'));
    buf!.close();
  });

  it('names buffers for fdinfo, and refuses a name too long before allocating', () => {
    const dev = openBoard();
    const plan = dev.negotiate(camDisplay);
    const bufs = dev.allocateSync(plan, { name: 'preview' });
    assert.deepStrictEqual(bufs.map((b) => b.info().name), ['preview-0', 'preview-1', 'preview-2']);
    bufs.forEach((b) => b.close());
    assert.throws(() => dev.allocateSync(plan, { name: 'x'.repeat(30) }), (err) => err instanceof InputError && err.field === 'name');
    assert.deepStrictEqual(simOf(dev).openFds(), []);
  });
});

describe('allocate: fallback and rollback', () => {
  it('ENOMEM on the 2nd CMA buffer: the 1st is released and the next ranked heap serves all 3', () => {
    const dev = openBoard(faults({ at: 'allocate', errno: 'ENOMEM', heap: 'linux,cma', call: 2 }));
    const plan = dev.negotiate(camDisplay);
    assert.strictEqual(plan.heap.describe().name, 'linux,cma');
    const bufs = dev.allocateSync(plan);
    assert.strictEqual(bufs.fallbacks.length, 1);
    assert.deepStrictEqual([bufs.fallbacks[0]!.heap, bufs.fallbacks[0]!.errno, bufs.fallbacks[0]!.allocated], [plan.heap, 'ENOMEM', 1]);
    assert.strictEqual(bufs.used.heap, plan.alternatives[0]!.heap);
    assert.deepStrictEqual(bufs.map((b) => b.heap.describe().name), ['vpu-carve', 'vpu-carve', 'vpu-carve']);
    assert.strictEqual(dev.stats().heaps.find((h) => h.heap === plan.heap)!.used, 0);
    assertAccounting(dev);
    bufs.forEach((b) => b.close());
  });

  it('real exhaustion: with CMA nearly full, negotiation already ranks the carveout first', () => {
    const dev = openBoard();
    const hog = dev.allocateSync(dev.negotiate({ width: 4096, height: 4096, formats: ['XRGB8888'], devices: ['display'], count: 4 })); // 4 x 64 MiB
    assert.ok(hog.every((b) => b.heap.describe().kind === 'cma'));
    const plan = dev.negotiate(camDisplay);
    assert.strictEqual(plan.heap.describe().name, 'vpu-carve');
    hog.forEach((b) => b.close());
  });

  it('fragmentation the solver cannot see: free bytes suffice, no aligned run does, allocate falls back', () => {
    const dev = openBoard();
    const sim = simOf(dev);
    // Fill CMA (256 MiB) with 1 MiB buffers, free every other one: 128 MiB free, largest run 1 MiB.
    const fds = Array.from({ length: 256 }, () => sim.allocate('linux,cma', 1 << 20));
    fds.forEach((fd, i) => i % 2 === 1 && sim.close(fd));
    const plan = dev.negotiate(camDisplay); // 3 x 3.2 MiB fits in 128 MiB free
    assert.strictEqual(plan.heap.describe().name, 'linux,cma');
    const bufs = dev.allocateSync(plan);
    assert.deepStrictEqual(bufs.fallbacks.map((f) => [f.heap.describe().name, f.errno, f.allocated]), [['linux,cma', 'ENOMEM', 0]]);
    assert.strictEqual(bufs[0]!.heap.describe().name, 'vpu-carve');
    bufs.forEach((b) => b.close());
    fds.forEach((fd, i) => i % 2 === 0 && sim.close(fd));
    assert.deepStrictEqual(sim.openFds(), []);
  });

  it('every ranked plan fails: AllocationError lists the attempts and nothing stays allocated', () => {
    const dev = openBoard(faults({ at: 'allocate', errno: 'ENOMEM', heap: 'linux,cma', call: 3 }, { at: 'allocate', errno: 'ENOMEM', heap: 'vpu-carve', call: 2 }));
    assert.throws(
      () => dev.allocateSync(dev.negotiate(camDisplay)),
      (err) => err instanceof AllocationError && err.attempts.map((a) => [a.heap.describe().name, a.errno, a.allocated]).join(';') === 'linux,cma,ENOMEM,2;vpu-carve,ENOMEM,1' && /\(linux,cma \(cma\): ENOMEM after 2 buffer\(s\); vpu-carve \(carveout\): ENOMEM after 1/.test(err.message),
    );
    assert.deepStrictEqual(simOf(dev).openFds(), []);
    assert.ok(dev.stats().heaps.every((h) => h.used === 0));
  });

  it('EINTR is retried transparently', () => {
    const dev = openBoard(faults({ at: 'allocate', errno: 'EINTR', call: 1, times: 3 }));
    const bufs = dev.allocateSync(dev.negotiate(camDisplay));
    assert.deepStrictEqual([bufs.length, bufs.fallbacks.length, simOf(dev).faults.fired.allocate], [3, 0, 3]);
    bufs.forEach((b) => b.close());
  });

  it('EBUSY is retried, then treated as the heap being unavailable', () => {
    const dev = openBoard(faults({ at: 'allocate', errno: 'EBUSY', heap: 'linux,cma', probability: 1 }));
    const bufs = dev.allocateSync(dev.negotiate(camDisplay));
    assert.deepStrictEqual(bufs.fallbacks.map((f) => f.errno), ['EBUSY']);
    assert.strictEqual(simOf(dev).faults.fired.allocate, 3); // first try + 2 retries
    bufs.forEach((b) => b.close());
  });

  it('other kernel errors are thrown, after releasing what was taken', () => {
    const dev = openBoard(faults({ at: 'setName', errno: 'EBUSY', call: 2 }));
    assert.throws(() => dev.allocateSync(dev.negotiate(camDisplay), { name: 'x' }), (err) => isKernelError(err, 'EBUSY') && err.op === 'DMA_BUF_SET_NAME');
    assert.deepStrictEqual(simOf(dev).openFds(), []);
  });
});

describe('protected buffers', () => {
  it('land in the secure heap and refuse CPU mapping (the request, then the kernel with EPERM)', () => {
    const dev = openBoard();
    const [buf] = dev.allocateSync(dev.negotiate({ width: 1920, height: 1080, formats: ['NV12'], devices: ['drm-protected'], protected: true }));
    assert.strictEqual(buf!.heap.describe().kind, 'secure');
    assert.throws(() => buf!.map(), (err) => err instanceof InputError && /negotiated with cpu: 'none'/.test((err as Error).message));
    assert.throws(() => simOf(dev).map(buf!.fd), (err) => isKernelError(err, 'EPERM') && /not CPU-accessible/.test((err as Error).message));
    assert.strictEqual(buf!.closed, false);
    buf!.close();
    assert.deepStrictEqual(simOf(dev).openFds(), []);
  });
});

describe('close', () => {
  it('is idempotent: the fd is closed exactly once', () => {
    const dev = openBoard();
    const [a, b] = dev.allocateSync(dev.negotiate({ ...camDisplay, count: 2 }));
    a!.close();
    a!.close();
    a![Symbol.dispose]();
    assert.deepStrictEqual(simOf(dev).openFds(), [b!.fd]); // a's fd number was not closed twice (b is intact)
    b!.close();
  });

  it('use after close is a clear ClosedError naming the buffer', () => {
    const dev = openBoard();
    const [buf] = dev.allocateSync(dev.negotiate({ ...camDisplay, count: 1 }));
    buf!.close();
    assert.throws(() => buf!.fd, (err) => err instanceof ClosedError && /DmaBuffer\(fd 3, NV12 LINEAR 1920x1080.*used after it was closed/.test(err.message));
    assert.throws(() => buf!.map(), ClosedError);
    assert.throws(() => buf!.setName('x'), ClosedError);
  });

  it('mapping a buffer for a CPU use its request did not ask for is refused, naming the fix', () => {
    const dev = openBoard();
    const [none] = dev.allocateSync(dev.negotiate({ ...camDisplay, count: 1 }));
    assert.throws(() => none!.map('write'), /map\('write'\) on a buffer negotiated with cpu: 'none'; ask for cpu: 'write' in the request/);
    const [reader] = dev.allocateSync(dev.negotiate({ ...camDisplay, cpu: 'read', count: 1 }));
    assert.throws(() => reader!.map('write'), /negotiated with cpu: 'read'/);
    reader!.map().end(); // the default is the use it asked for
    none!.close();
    reader!.close();
    assert.deepStrictEqual(simOf(dev).openFds(), []);
  });

  it('closing a buffer ends its open CPU views first; the view then refuses access', () => {
    const dev = openBoard();
    const [buf] = dev.allocateSync(dev.negotiate({ ...camDisplay, cpu: 'readwrite', count: 1 }));
    const view = buf!.map();
    buf!.close();
    assert.throws(() => view.bytes, ClosedError);
    view.end(); // no second SYNC_END or munmap
    assert.deepStrictEqual(simOf(dev).openFds(), []);
    assert.ok(dev.stats().heaps.every((h) => h.used === 0));
  });

  it('Allocator.close() releases every live buffer', () => {
    const dev = openBoard();
    const bufs = dev.allocateSync(dev.negotiate(camDisplay));
    dev.close();
    assert.ok(bufs.every((b) => b.closed));
    assert.deepStrictEqual(simOf(dev).openFds(), []);
  });
});

describe('negotiation through the allocator', () => {
  it('a conflict throws ConflictError with the conflicting constraints and fixes', () => {
    const dev = openBoard();
    assert.throws(
      () => dev.negotiate({ width: 1920, height: 1080, formats: ['XRGB8888'], devices: ['camera', 'display'] }),
      (err) => err instanceof ConflictError && err.conflict.core.some((a) => a.device === 'camera') && /^conflict: no plan satisfies every device\n[\s\S]*fixes \(each one alone leads to buffers that allocate; checked on the simulated kernel\):\n  - accept NV12 in the request/.test(err.message),
    );
  });

  it('heaps are opaque handles: JSON shows no heap name; describe() is for diagnostics', () => {
    const dev = openBoard();
    const plan = dev.negotiate(camDisplay);
    const json = JSON.stringify({ heap: plan.heap, alternatives: plan.alternatives.map((a) => a.heap) });
    assert.doesNotMatch(json, /cma|carve|system/);
    assert.match(json, /\[heap #\d\]/);
    assert.deepStrictEqual(plan.heap.describe(), { name: 'linux,cma', kind: 'cma', base: 0x38000000, end: 0x48000000, capacity: 256 * 2 ** 20, contiguous: true, cpuAccess: true, path: 'sim:linux,cma' });
    // ... but a log of stats() says what each handle is.
    assert.match(inspect(dev.stats()), /HeapHandle #2 \(linux,cma, cma\)/);
  });

  it('uses live free space: a heap the caller filled is not planned', () => {
    const dev = openBoard();
    const carve = dev.heaps().find((h) => h.describe().name === 'vpu-carve')!;
    const before = dev.negotiate(camDisplay);
    assert.ok(before.alternatives.some((a) => a.heap === carve));
    const hog = simOf(dev).allocate('vpu-carve', 60 * 2 ** 20);
    const after = dev.negotiate(camDisplay);
    assert.ok(!after.alternatives.some((a) => a.heap === carve));
    simOf(dev).close(hog);
  });
});

describe('open', () => {
  it('without a platform opens this machine, or the example board where it has no dma-buf heaps; boards open by name', async () => {
    const dev = await open();
    assert.strictEqual(dev.platform.name, existsSync('/dev/dma_heap') ? 'this-machine' : 'example-board');
    dev.close();
    const pi = await open({ platform: 'raspberry-pi-4' });
    assert.strictEqual(pi.platform.name, 'raspberry-pi-4');
    pi.close();
    await assert.rejects(() => open({ platform: 'raspbery-pi-4' }), (err) => err instanceof InputError && /no such file, and no shipped board of that name \(did you mean raspberry-pi-4\?\)/.test(err.message));
    await assert.rejects(() => open(null as never), (err) => err instanceof InputError && err.field === 'options');
  });

  it('says which backend it chose and why', () => {
    const empty = testDir('udalloc-heaps-');
    assert.match(selectBackend(board, 'auto', {}, join(empty, 'none')).reason, /simulated kernel \(no .* on this machine\)/);
    mkdirSync(join(empty, 'dma_heap'));
    writeFileSync(join(empty, 'dma_heap', 'system'), '');
    // With heaps present (and the native binding built by npm test), auto picks the real backend.
    const real = selectBackend(board, 'auto', {}, join(empty, 'dma_heap'));
    assert.deepStrictEqual([real.backend.kind, real.reason], ['dma-heap', `dma-buf heaps in ${join(empty, 'dma_heap')}: system`]);
    // Device nodes that are not there (wherever this runs): one input error naming the node and what to use.
    const missing = { ion: join(empty, 'ion'), udmabuf: join(empty, 'udmabuf') };
    assert.throws(() => selectBackend(board, 'udmabuf', {}, join(empty, 'none'), missing), (err) => err instanceof InputError && err.field === 'backend' && err.message === `backend udmabuf: ${missing.udmabuf} does not exist (a kernel built with CONFIG_UDMABUF has it); use --backend sim to simulate the profile's heaps`);
    assert.throws(() => selectBackend(board, 'ion', {}, join(empty, 'none'), missing), (err) => err instanceof InputError && err.field === 'backend' && /^backend ion: .*\/ion does not exist \(ION was removed from Linux in 5\.11; use --backend sim/.test(err.message));
    assert.throws(() => selectBackend(board, 'ionn' as never), (err) => err instanceof InputError && err.field === 'backend' && /expected one of auto, sim, dma-heap, udmabuf, ion/.test(err.message));
    rmSync(empty, { recursive: true, force: true });
  });

  it('a profile none of whose heaps the backend has is a clear input error, not an empty conflict', () => {
    const other = loadPlatform('boards/raspberry-pi-4.yaml');
    const dev = openSync({ platform: board, backend: openSync({ platform: other, backend: 'sim' }).backend });
    assert.deepStrictEqual(dev.missingHeaps, ['vpu-carve', 'secure']); // the Pi 4 kernel has system and linux,cma
    const none = openSync({ platform: { ...board, heaps: board.heaps.filter((h) => h.name === 'vpu-carve') }, backend: openSync({ platform: other, backend: 'sim' }).backend });
    assert.throws(() => none.negotiate(camDisplay), (err) => err instanceof InputError && /none of the profile's heaps \(vpu-carve\) exists on the sim backend \(it has system, linux,cma\)/.test(err.message));
  });

  it('a platform heap the backend lacks is never planned, and is reported', () => {
    const fewer = { ...board, heaps: board.heaps.slice(0, 2) };
    const dev = openSync({ platform: board, backend: openSync({ platform: fewer, backend: 'sim' }).backend });
    assert.deepStrictEqual(dev.missingHeaps, ['vpu-carve', 'secure']);
    // On the whole board the carveout is the alternative; here it is in no plan.
    const all = (p: ReturnType<Allocator['negotiate']>) => [p, ...p.alternatives].map((x) => x.heap.describe().name);
    assert.deepStrictEqual(all(openBoard().negotiate(camDisplay)), ['linux,cma', 'vpu-carve']);
    assert.deepStrictEqual(all(dev.negotiate(camDisplay)), ['linux,cma']);
    // A protected buffer only the missing secure heap could hold: a conflict, not a plan in it.
    assert.throws(() => dev.negotiate({ width: 64, height: 64, formats: ['NV12'], devices: ['drm-protected'], protected: true }), ConflictError);
    assert.strictEqual(openBoard().negotiate({ width: 64, height: 64, formats: ['NV12'], devices: ['drm-protected'], protected: true }).heap.describe().name, 'secure');
  });
});
