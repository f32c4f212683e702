// dma-buf file semantics of the simulated kernel: fd numbers, references, mapping, sync, names,
// uAPI argument checks and the fault schedule.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePlatform } from '../../src/constraints/load.js';
import { SimKernel, type SimOptions } from '../../src/kernel/sim/kernel.js';
import { FaultInjector } from '../../src/kernel/sim/faults.js';
import { isKernelError } from '../../src/kernel/errno.js';
import { DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_RW, DMA_BUF_SYNC_WRITE, syncFlags } from '../../src/kernel/backend.js';
import { InputError } from '../../src/errors.js';

const platform = parsePlatform(`
name: files
heaps:
  - { name: system, kind: system, size: 64MiB }
  - { name: cma, kind: cma, base: 0x40000000, size: 16MiB }
devices: [{ name: d, formats: { NV12: {} } }]
`);
const kernel = (options: SimOptions = {}) => new SimKernel(platform.heaps, options);

describe('fds', () => {
  it('are numbered from 3, lowest free first, like fs/file.c', () => {
    const k = kernel();
    const [a, b, c] = [k.allocate('system', 4096), k.allocate('system', 4096), k.allocate('system', 4096)];
    assert.deepStrictEqual([a, b, c], [3, 4, 5]);
    k.close(b);
    assert.strictEqual(k.allocate('system', 4096), 4);
    k.close(a);
    k.close(c);
    assert.strictEqual(k.dup(4), 3);
    assert.deepStrictEqual(k.openFds(), [3, 4]);
  });

  it('dup shares the buffer; memory returns only when the last reference closes', () => {
    const k = kernel();
    const fd = k.allocate('cma', 1 << 20);
    const copy = k.dup(fd);
    assert.strictEqual(k.info(copy).inode, k.info(fd).inode);
    k.close(fd);
    assert.strictEqual(k.heapStats('cma').used, 1 << 20);
    k.close(copy);
    assert.strictEqual(k.heapStats('cma').used, 0);
  });

  it('double close and use after close are EBADF', () => {
    const k = kernel();
    const fd = k.allocate('system', 4096);
    k.close(fd);
    assert.throws(() => k.close(fd), (err) => isKernelError(err, 'EBADF') && err.fd === fd);
    assert.throws(() => k.map(fd), (err) => isKernelError(err, 'EBADF'));
    assert.throws(() => k.sync(fd, 3), (err) => isKernelError(err, 'EBADF'));
  });

  it('RLIMIT_NOFILE gives EMFILE and the buffer is not leaked', () => {
    const k = kernel({ maxFds: 5 });
    k.allocate('system', 4096);
    k.allocate('system', 4096);
    assert.throws(() => k.allocate('system', 4096), (err) => isKernelError(err, 'EMFILE'));
    assert.strictEqual(k.heapStats('system').used, 8192);
  });
});

describe('DMA_HEAP_IOCTL_ALLOC arguments (dma-heap.c)', () => {
  it('len 0, heap flags and unknown fd flags are EINVAL; an unknown heap is ENOENT', () => {
    const k = kernel();
    assert.throws(() => k.allocate('system', 0), (err) => isKernelError(err, 'EINVAL') && /len is 0/.test((err as Error).message));
    assert.throws(() => k.allocate('system', 4096, { heapFlags: 1 }), (err) => isKernelError(err, 'EINVAL'));
    assert.throws(() => k.allocate('system', 4096, { fdFlags: 0o4000 }), (err) => isKernelError(err, 'EINVAL'));
    assert.throws(() => k.allocate('linux,cma', 4096), (err) => isKernelError(err, 'ENOENT') && /heaps: system, cma/.test((err as Error).message));
    assert.deepStrictEqual(k.openFds(), []);
  });
});

describe('mapping', () => {
  it('gives a zeroed ArrayBuffer of the buffer size whose content persists across maps', () => {
    const k = kernel();
    const fd = k.allocate('system', 5000);
    const m = k.map(fd);
    assert.strictEqual(m.bytes.byteLength, 8192);
    assert.ok(new Uint8Array(m.bytes).every((b) => b === 0));
    new Uint8Array(m.bytes).set([1, 2, 3], 100);
    m.unmap();
    const again = k.map(fd);
    assert.deepStrictEqual([...new Uint8Array(again.bytes, 100, 3)], [1, 2, 3]);
    again.unmap();
    assert.throws(() => again.unmap(), (err) => isKernelError(err, 'EINVAL'));
  });

  it('a mapping keeps the buffer alive after its fd is closed, like a VMA', () => {
    const k = kernel();
    const fd = k.allocate('cma', 4096);
    const m = k.map(fd);
    k.close(fd);
    assert.strictEqual(k.heapStats('cma').used, 4096);
    m.unmap();
    assert.strictEqual(k.heapStats('cma').used, 0);
  });
});

describe('DMA_BUF_IOCTL_SYNC', () => {
  it('uses the uAPI flag values', () => {
    assert.deepStrictEqual([syncFlags('read', 'start'), syncFlags('write', 'start'), syncFlags('readwrite', 'end')], [1, 2, 7]);
  });

  it('rejects invalid flags and flags without a direction (EINVAL)', () => {
    const k = kernel();
    const fd = k.allocate('system', 4096);
    assert.throws(() => k.sync(fd, 8), (err) => isKernelError(err, 'EINVAL'));
    assert.throws(() => k.sync(fd, DMA_BUF_SYNC_END), (err) => isKernelError(err, 'EINVAL') && /no direction/.test((err as Error).message));
  });

  it('END must pair with a START of the same direction', () => {
    const k = kernel();
    const fd = k.allocate('system', 4096);
    assert.throws(() => k.sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ), (err) => isKernelError(err, 'EINVAL') && /without a matching SYNC_START/.test((err as Error).message));
    k.sync(fd, DMA_BUF_SYNC_READ);
    assert.throws(() => k.sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE), (err) => isKernelError(err, 'EINVAL'));
    k.sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
    k.sync(fd, DMA_BUF_SYNC_RW);
    k.sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
    assert.throws(() => k.sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW), (err) => isKernelError(err, 'EINVAL'));
  });
});

describe('DMA_BUF_SET_NAME', () => {
  it('sets the fdinfo name; 32 bytes or more is EINVAL', () => {
    const k = kernel();
    const fd = k.allocate('system', 4096);
    k.setName(fd, 'camera-frame-0');
    assert.strictEqual(k.info(fd).name, 'camera-frame-0');
    assert.throws(() => k.setName(fd, 'x'.repeat(32)), (err) => isKernelError(err, 'EINVAL'));
    k.setName(fd, 'y'.repeat(31));
    assert.strictEqual(k.info(fd).exporter, 'system');
  });
});

describe('fault injection', () => {
  it('fails exactly the chosen call, then lets calls through', () => {
    const k = kernel({ faults: [{ at: 'allocate', errno: 'ENOMEM', heap: 'cma', call: 2 }] });
    const a = k.allocate('cma', 4096);
    assert.throws(() => k.allocate('cma', 4096), (err) => isKernelError(err, 'ENOMEM') && /injected/.test((err as Error).message));
    const b = k.allocate('cma', 4096);
    k.allocate('system', 4096);
    assert.deepStrictEqual([a, b], [3, 4]);
    assert.strictEqual(k.heapStats('cma').used, 8192);
  });

  it('probability schedules repeat for the same seed and differ across seeds', () => {
    const run = (seed: number) => {
      const f = new FaultInjector([{ at: 'sync', errno: 'EINTR', probability: 0.3 }], seed);
      return Array.from({ length: 64 }, () => f.check('sync') ?? '-').join(',');
    };
    assert.strictEqual(run(7), run(7));
    assert.notStrictEqual(run(7), run(8));
    assert.match(run(7), /EINTR/);
  });

  it('rejects errnos the kernel cannot return at that point, naming the field', () => {
    assert.throws(() => new FaultInjector([{ at: 'migrate', errno: 'ENOMEM', call: 1 }]), (err) => err instanceof InputError && err.field === 'faults[0].errno' && /cannot fail migrate with ENOMEM/.test(err.message));
    assert.throws(() => new FaultInjector([{ at: 'dup', errno: 'EMFILE' }]), (err) => err instanceof InputError && /exactly one of call or probability/.test(err.message));
    assert.throws(() => new FaultInjector([{ at: 'sync', errno: 'EINTR', probability: 2 }]), (err) => err instanceof InputError && err.field === 'faults[0].probability');
  });
});
