// A 10,000-operation randomised storm with faults injected at every kernel call site: the
// allocator must keep the kernel's accounting equal to its live buffers at every step, leak no fd,
// and fail only with the errors it documents.

import assert from 'node:assert/strict';
import { InputError } from '../../src/errors.js';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadPlatform } from '../../src/constraints/load.js';
import { openSync } from '../../src/allocator/allocator.js';
import type { DmaBuffer } from '../../src/allocator/buffer.js';
import { AllocationError, ConflictError } from '../../src/allocator/errors.js';
import { KernelError } from '../../src/kernel/errno.js';
import type { FaultRule } from '../../src/kernel/sim/faults.js';
import { seededRandom } from '../../src/util/random.js';
import type { SimKernel } from '../../src/kernel/sim/kernel.js';
import type { RequestFields } from '../../src/constraints/load.js';

const REQUESTS: RequestFields[] = [
  { width: 1920, height: 1080, formats: ['NV12'], devices: ['camera', 'display'], cpu: 'readwrite', count: 3 },
  { width: 3840, height: 2160, formats: ['NV12'], devices: ['camera', 'encoder'], count: 2 },
  { width: 1920, height: 1080, formats: ['XRGB8888'], devices: ['gpu', 'display'], cpu: 'write' },
  { width: 4096, height: 4096, formats: ['XRGB8888'], devices: ['display'], count: 2 },
  { width: 1280, height: 720, formats: ['NV12'], devices: ['drm-protected'], protected: true },
  { width: 640, height: 480, formats: ['NV12'], devices: ['camera'], cpu: 'read', count: 4 },
];

const FAULTS: FaultRule[] = [
  { at: 'allocate', errno: 'ENOMEM', probability: 0.05 },
  { at: 'allocate', errno: 'EINTR', probability: 0.1 },
  { at: 'allocate', errno: 'EBUSY', probability: 0.05 },
  { at: 'migrate', errno: 'EBUSY', probability: 0.1 },
  { at: 'map', errno: 'ENOMEM', probability: 0.05 },
  { at: 'map', errno: 'EINTR', probability: 0.05 },
  { at: 'sync', errno: 'EINTR', probability: 0.1 },
  { at: 'setName', errno: 'EBUSY', probability: 0.05 },
];

/** The fault point behind each kernel operation a KernelError names. */
const FAULT_POINT: Record<string, FaultRule['at']> = { DMA_HEAP_IOCTL_ALLOC: 'allocate', mmap: 'map', DMA_BUF_IOCTL_SYNC: 'sync', DMA_BUF_SET_NAME: 'setName' };

const processFds = () => readdirSync('/proc/self/fd').length;

describe('fault-injection storm', () => {
  it('10,000 operations: accounting exact at every step, no fd leaked', () => {
    const fdsBefore = processFds();
    const dev = openSync({ platform: loadPlatform('boards/example.yaml'), backend: 'sim', sim: { seed: 42, faults: FAULTS } });
    const sim = dev.backend as SimKernel;
    const random = seededRandom(2026);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const live: DmaBuffer[] = [];
    const outcomes = new Map<string, number>();
    const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);

    for (let op = 0; op < 10_000; op++) {
      const roll = random();
      try {
        if (roll < 0.3 || live.length === 0) {
          const bufs = dev.allocateSync(dev.negotiate(pick(REQUESTS)), random() < 0.3 ? { name: `s${op}` } : {});
          live.push(...bufs);
          count(bufs.fallbacks.length > 0 ? 'allocated after fallback' : 'allocated');
        } else if (roll < 0.6) {
          const i = Math.floor(random() * live.length);
          live.splice(i, 1)[0]!.close();
          count('closed');
        } else if (roll < 0.8) {
          const buf = pick(live);
          // Map it the ways its request allows; a buffer negotiated without CPU use is refused up front.
          const access = buf.cpu === 'readwrite' ? pick(['read', 'write', 'readwrite'] as const) : buf.cpu === 'none' ? pick(['read', 'write'] as const) : buf.cpu;
          if (buf.cpu === 'none') {
            assert.throws(() => buf.map(access), (e) => e instanceof InputError && /negotiated with cpu: 'none'/.test((e as Error).message));
            count('map refused (cpu: none)');
            continue;
          }
          const view = buf.map(access);
          view.bytes[0] = op & 0xff;
          if (random() < 0.1) {
            buf.close(); // closing with a view open ends the view first
            live.splice(live.indexOf(buf), 1);
          }
          view.end();
          count('mapped');
        } else if (roll < 0.9) {
          pick(live).setName(`n${op}`);
          count('named');
        } else {
          const buf = pick(live);
          assert.strictEqual(buf.info().size, buf.size);
          count('info');
        }
      } catch (err) {
        // The documented failures: injected faults that are not retried, no plan (pools full),
        // every plan out of memory.
        if (err instanceof KernelError) {
          // Only what the injector injects at that call reaches the caller (the rest is retried
          // or falls back); any other errno is a failure the allocator does not document.
          const point = FAULT_POINT[err.op];
          const injected = FAULTS.filter((f) => f.at === point).map((f) => f.errno);
          assert.ok(point !== undefined && injected.includes(err.errno) && /injected fault/.test(err.message), `op ${op}: an undocumented kernel error: ${err.message}`);
          count(`kernel ${err.op} ${err.errno}`);
        }
        else if (err instanceof ConflictError) count('conflict');
        else if (err instanceof AllocationError) count('allocation failed');
        else throw err;
      }
      const stats = dev.stats();
      for (const h of stats.heaps) assert.strictEqual(h.used, h.liveBytes, `op ${op}: heap ${h.heap.describe().name} used ${h.used} != live ${h.liveBytes}`);
      assert.strictEqual(stats.buffers.length, live.length, `op ${op}: live buffers`);
      assert.strictEqual(sim.openFds().length, live.length, `op ${op}: open fds`);
    }

    // The storm must really have exercised the failure paths.
    for (const key of ['allocated', 'allocated after fallback', 'closed', 'mapped', 'named', 'conflict', 'map refused (cpu: none)', 'kernel mmap ENOMEM', 'kernel DMA_BUF_SET_NAME EBUSY']) {
      assert.ok((outcomes.get(key) ?? 0) > 0, `storm never reached "${key}": ${JSON.stringify([...outcomes])}`);
    }
    assert.ok(Object.entries(sim.faults.fired).every(([point, n]) => point === 'dup' || n > 0), `every fault point the allocator reaches fired: ${JSON.stringify(sim.faults.fired)}`);

    live.forEach((b) => b.close());
    assert.deepStrictEqual(sim.openFds(), []);
    assert.ok(dev.stats().heaps.every((h) => h.used === 0));
    assert.strictEqual(processFds(), fdsBefore);
  });
});
