// The native binding on this host (no dma-buf heaps here; the real ioctls run in QEMU, see
// qemu.test.ts): compiled ABI numbers against the uAPI facts and the recorded ION ABI, mmap of a
// memfd with detach on munmap, errno names, and the ION backend's logic against a stub kernel.

import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadNative, type NativeAddon } from '../../src/kernel/native/addon.js';
import { IonBackend } from '../../src/kernel/ion/backend.js';
import { DmaHeapBackend } from '../../src/kernel/dma-heap/backend.js';
import { isKernelError } from '../../src/kernel/errno.js';
import { testDir } from '../helpers.js';

const native = loadNative();

describe('native binding', () => {
  it('compiled ioctl numbers and struct sizes equal the uAPI (and the recorded ION 4.12 ABI)', () => {
    const c = native.constants();
    assert.deepStrictEqual(
      [c['DMA_HEAP_IOCTL_ALLOC'], c['DMA_BUF_IOCTL_SYNC'], c['DMA_BUF_SET_NAME'], c['DMA_BUF_IOCTL_EXPORT_SYNC_FILE'], c['UDMABUF_CREATE'], c['ION_IOC_ALLOC'], c['ION_IOC_HEAP_QUERY']],
      [0xc0184800, 0x40086200, 0x40086201, 0xc0086202, 0x40187542, 0xc0184900, 0xc0184908],
    );
    assert.deepStrictEqual([c['sizeof_dma_heap_allocation_data'], c['sizeof_udmabuf_create'], c['sizeof_ion_allocation_data'], c['sizeof_ion_heap_data'], c['sizeof_ion_heap_query']], [24, 24, 24, 52, 24]);
    assert.strictEqual(c['DMA_HEAP_VALID_FD_FLAGS'], 0x80003);
  });

  it('maps a sealed memfd into an ArrayBuffer; munmap detaches it so the pages cannot be touched after', () => {
    const fd = native.memfdCreate('udalloc-test', 1 | 2);
    try {
      ftruncateSync(fd, 8192);
      native.addSeals(fd, 2);
      const a = native.mmap(fd, 8192, true);
      new Uint8Array(a)[100] = 42;
      const b = native.mmap(fd, 8192, false);
      assert.strictEqual(new Uint8Array(b)[100], 42); // the same shared pages
      native.munmap(a);
      assert.strictEqual(a.byteLength, 0);
      assert.throws(() => native.munmap(a), (err) => (err as NodeJS.ErrnoException).code === 'EINVAL');
      native.munmap(b);
    } finally {
      closeSync(fd);
    }
  });

  it('reports errno names: an ioctl on a plain file is ENOTTY, on a closed fd EBADF', () => {
    const file = join(testDir('udalloc-native-'), 'plain');
    writeFileSync(file, 'x');
    const fd = openSync(file, 'r');
    try {
      assert.throws(() => native.dmaBufSync(fd, 1), (err) => (err as NodeJS.ErrnoException).code === 'ENOTTY' && /DMA_BUF_IOCTL_SYNC: ENOTTY/.test((err as Error).message));
    } finally {
      closeSync(fd);
    }
    assert.throws(() => native.dmaBufSync(987654, 1), (err) => (err as NodeJS.ErrnoException).code === 'EBADF');
  });

  it('the dma-heap backend only touches fds it made, and names a missing heap', () => {
    const backend = new DmaHeapBackend({ dir: testDir('udalloc-noheaps-') });
    assert.deepStrictEqual(backend.heaps(), []);
    assert.throws(() => backend.allocate('system', 4096), (err) => isKernelError(err, 'ENOENT'));
    assert.throws(() => backend.close(0), (err) => isKernelError(err, 'EBADF'));
  });
});

describe('ION backend against the recorded ABI', () => {
  // A stub kernel that behaves as ion.c does: heap query lists heaps; alloc needs exactly one
  // known heap bit in heap_id_mask and fails with ENOMEM when the heap is exhausted.
  function stubIon(): { addon: NativeAddon; calls: Array<[number, number, number]> } {
    const calls: Array<[number, number, number]> = [];
    const heaps = [
      { name: 'ion_system_heap', type: 0, heapId: 25 },
      { name: 'ion_cma_heap', type: 4, heapId: 3 },
    ];
    let nextFd = 100;
    const addon = {
      ...native,
      ionHeapQuery: () => heaps,
      ionAlloc: (_ion: number, len: number, mask: number, flags: number) => {
        calls.push([len, mask, flags]);
        if (mask === 1 << 3 && len > 64 * 2 ** 20) throw Object.assign(new Error('ION_IOC_ALLOC: ENOMEM'), { code: 'ENOMEM' });
        return nextFd++;
      },
    } as NativeAddon;
    return { addon, calls };
  }

  it('classifies heaps by ion_heap_type and allocates with a one-bit heap_id_mask and ION_FLAG_CACHED', () => {
    const { addon, calls } = stubIon();
    const ion = new IonBackend({ addon, ionFd: -1 });
    assert.deepStrictEqual(ion.heaps().map((h) => [h.name, h.kind]), [['ion_system_heap', 'system'], ['ion_cma_heap', 'cma']]);
    assert.strictEqual(ion.maskOf('ion_system_heap'), 2 ** 25);
    const fd = ion.allocate('ion_cma_heap', 5000);
    assert.deepStrictEqual([fd, calls[0]], [100, [5000, 8, 1]]);
    assert.throws(() => ion.allocate('ion_cma_heap', 65 * 2 ** 20), (err) => isKernelError(err, 'ENOMEM') && err.heap === 'ion_cma_heap');
    assert.throws(() => ion.allocate('nope', 4096), (err) => isKernelError(err, 'ENOENT'));
  });
});
