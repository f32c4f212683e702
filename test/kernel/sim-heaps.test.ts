// The simulated heaps against the kernel's algorithms: placements computed by hand from mm/cma.c,
// lib/genalloc.c and system_heap.c, and the sequence measured on Linux 6.12 in QEMU
// (../shared/reference/linux-dma-heap-facts.md, "Placement measured").

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePlatform } from '../../src/constraints/load.js';
import { CmaArea } from '../../src/kernel/sim/cma.js';
import { SimKernel } from '../../src/kernel/sim/kernel.js';
import { systemHeapChunks } from '../../src/kernel/sim/system.js';
import { BuddyAllocator, PCP_BATCH, PCP_HIGH } from '../../src/kernel/sim/buddy.js';
import { isKernelError } from '../../src/kernel/errno.js';
import fc from 'fast-check';
import { HEAP_KINDS } from '../../src/constraints/heap-kinds/index.js';
import type { HeapKind } from '../../src/constraints/model.js';
import { emptyHeapCapacity } from '../../src/constraints/placement.js';

const K = 1024;
const PAGE = 4096;
const M = 1024 * 1024;
// The test VM's CMA area: 64 MiB at 0x39600000 (cma=64M on x86_64).
const VM_BASE = 0x39600000;

function vmKernel(extra = ''): SimKernel {
  const platform = parsePlatform(`
name: vm
heaps:
  - { name: reserved, kind: cma, base: ${VM_BASE}, size: 64MiB }
  - { name: system, kind: system, size: 1GiB }
  - { name: carve, kind: carveout, base: 0x90000000, size: 64KiB }
  - { name: secure, kind: secure, base: 0xa0000000, size: 1MiB }
${extra}
devices: [{ name: cpu, iommu: true, formats: { NV12: {} } }]
`);
  return new SimKernel(platform.heaps);
}

/** Pages [first, last) of a CMA buffer, counted from the area base, as debugfs bitmap shows them. */
function pages(kernel: SimKernel, fd: number): [number, number] {
  const info = kernel.info(fd);
  const first = (info.physAddr! - VM_BASE) / PAGE;
  return [first, first + info.size / PAGE];
}

describe('CMA heap (cma_heap.c + mm/cma.c)', () => {
  it('reproduces the placements measured on Linux 6.12', () => {
    const k = vmKernel();
    const a = k.allocate('reserved', 4 * K);
    assert.deepStrictEqual(pages(k, a), [0, 1]);
    const b = k.allocate('reserved', M); // order 8: 256-page aligned
    assert.deepStrictEqual(pages(k, b), [256, 512]);
    const c = k.allocate('reserved', 8 * K); // order 1: first even page after page 0
    assert.deepStrictEqual(pages(k, c), [2, 4]);
    k.close(a);
    const d = k.allocate('reserved', 4 * K);
    assert.deepStrictEqual(pages(k, d), [0, 1]);
    const e = k.allocate('reserved', 12 * K); // get_order(12K) = 2: 4-page aligned, 3 pages long
    assert.deepStrictEqual(pages(k, e), [4, 7]);
    const f = k.allocate('reserved', 16 * M); // order 12, capped at CONFIG_CMA_ALIGNMENT = 8
    assert.deepStrictEqual(pages(k, f), [512, 4608]);
    const g = k.allocate('reserved', 4 * K);
    assert.deepStrictEqual(pages(k, g), [1, 2]);
    for (const fd of [b, c, d, e, f, g]) k.close(fd);
    assert.strictEqual(k.heapStats('reserved').used, 0);
  });

  it('sixteen 4 MiB buffers fill 64 MiB exactly; the 17th is ENOMEM', () => {
    const k = vmKernel();
    const fds = Array.from({ length: 16 }, () => k.allocate('reserved', 4 * M));
    assert.deepStrictEqual(fds.map((fd) => pages(k, fd)[0]), Array.from({ length: 16 }, (_, i) => i * 1024));
    assert.deepStrictEqual(k.heapStats('reserved'), { capacity: 64 * M, used: 64 * M, free: 0, largestFree: 0 });
    assert.throws(() => k.allocate('reserved', 4 * M), (err) => isKernelError(err, 'ENOMEM') && err.heap === 'reserved');
    fds.forEach((fd) => k.close(fd));
  });

  it('fragmentation: 32 MiB free in total, yet a 2 MiB buffer fails for want of an aligned run', () => {
    const k = vmKernel();
    // 64 buffers of 1 MiB, each 256-page aligned, fill the area; free every other one.
    const fds = Array.from({ length: 64 }, () => k.allocate('reserved', M));
    fds.forEach((fd, i) => i % 2 === 1 && k.close(fd));
    const stats = k.heapStats('reserved');
    assert.deepStrictEqual([stats.free, stats.largestFree], [32 * M, M]);
    assert.throws(() => k.allocate('reserved', 2 * M), (err) => isKernelError(err, 'ENOMEM'));
    // 1 MiB still fits, in the first hole (pages [256, 512)).
    const again = k.allocate('reserved', M);
    assert.deepStrictEqual(pages(k, again), [256, 512]);
  });

  it('a free run that is long enough but misaligned is skipped: 8K lands on an even page', () => {
    const k = vmKernel();
    const a = k.allocate('reserved', 4 * K); // [0,1)
    const b = k.allocate('reserved', 4 * K); // [1,2)
    const c = k.allocate('reserved', 4 * K); // [2,3)
    k.close(b); // hole [1,2) and free from 3
    const d = k.allocate('reserved', 8 * K);
    assert.deepStrictEqual(pages(k, d), [4, 6]);
    [a, c, d].forEach((fd) => k.close(fd));
  });

  it('alignment is of the absolute PFN: an area whose base is not 1 MiB aligned shifts the offset', () => {
    // base_pfn = 0x100 + 3 pages: order-8 alignment needs pfn % 256 == 0, i.e. page index 253.
    const area = new CmaArea('odd', 0x100000 + 3 * PAGE, 4 * M);
    const pfn = area.alloc(256, 8);
    assert.strictEqual(pfn! % 256, 0);
    assert.strictEqual(pfn! - area.basePfn, 253);
  });

  it('order_per_bit > 0 rounds bitmap use up to whole bits', () => {
    const area = new CmaArea('coarse', 0, M, 2); // one bit per 4 pages
    const first = area.alloc(1, 0);
    const second = area.alloc(1, 0);
    assert.deepStrictEqual([first, second], [0, 4]);
    assert.strictEqual(area.usedPages(), 8);
  });

  it('alloc_contig_range EBUSY moves the search past the busy range (bitmap_no + mask + 1)', () => {
    const area = new CmaArea('busy', 0, 4 * M);
    let calls = 0;
    // The first candidate [0, 256) holds a pinned page; the kernel retries from 256.
    const pfn = area.alloc(256, 8, () => ++calls === 1);
    assert.deepStrictEqual([pfn, calls, area.usedPages()], [256, 2, 256]);
  });

  it('the migrate fault point drives that retry inside the simulated kernel', () => {
    const platform = parsePlatform('name: x\nheaps: [{ name: cma, kind: cma, base: 0, size: 4MiB }]\ndevices: [{ name: d, formats: { NV12: {} } }]');
    const k = new SimKernel(platform.heaps, { faults: [{ at: 'migrate', errno: 'EBUSY', call: 1 }] });
    const fd = k.allocate('cma', M);
    assert.strictEqual(k.info(fd).physAddr, M);
    assert.strictEqual(k.faults.fired.migrate, 1);
  });
});

describe('system heap (system_heap.c)', () => {
  it('builds buffers from 1 MiB, then 64 KiB, then 4 KiB chunks', () => {
    assert.deepStrictEqual(systemHeapChunks(M + 3 * 64 * K + 5 * PAGE), [[8, 1], [4, 3], [0, 5]]);
    assert.deepStrictEqual(systemHeapChunks(60 * K), [[0, 15]]);
    assert.deepStrictEqual(systemHeapChunks(8 * M), [[8, 8]]);
  });

  it('rounds the length up to pages and is bounded by RAM', () => {
    const k = vmKernel();
    const fd = k.allocate('system', 12289);
    assert.strictEqual(k.info(fd).size, 16384); // as fstat showed on the real kernel
    assert.strictEqual(k.info(fd).physAddr, undefined);
    assert.throws(() => k.allocate('system', 1024 * M), (err) => isKernelError(err, 'ENOMEM'));
    k.close(fd);
    const whole = k.allocate('system', 1024 * M);
    assert.strictEqual(k.heapStats('system').free, 0);
    k.close(whole);
  });
});

describe('the buddy allocator under the system heap (mm/page_alloc.c)', () => {
  it('carves RAM into aligned max-order blocks, splits on allocation and merges buddies on free', () => {
    const ram = new BuddyAllocator(1024 + 256 + 3); // one order-10 block, one order-8, then 2 + 1 pages
    const initial = [1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1];
    assert.deepStrictEqual(ram.buddyinfo(), initial);
    assert.strictEqual(ram.alloc(1), 1280); // the order-1 block
    ram.free(1280, 1);
    const block = ram.alloc(2)!; // no order-2 block: the order-8 block at 1024 is split down
    assert.deepStrictEqual([block, ram.buddyinfo()], [1024, [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1]]);
    ram.free(block, 2); // and merges back up to order 8
    assert.deepStrictEqual(ram.buddyinfo(), initial);
    assert.strictEqual(ram.freePages, 1283);
  });

  it('order-0 pages go through the per-CPU list: refilled a batch at a time, drained above high', () => {
    const ram = new BuddyAllocator(4096);
    const page = ram.alloc(0)!;
    assert.deepStrictEqual([ram.pcpCount, ram.freePages], [PCP_BATCH - 1, 4095]);
    ram.free(page, 0);
    assert.deepStrictEqual([ram.pcpCount, ram.freePages], [PCP_BATCH, 4096]);
    const pages = Array.from({ length: 1000 }, () => ram.alloc(0)!);
    pages.forEach((p) => ram.free(p, 0));
    assert.ok(ram.pcpCount <= PCP_HIGH, `pcp holds ${ram.pcpCount}`);
    assert.strictEqual(ram.freePages, 4096);
    // A high-order request can still be met: the per-CPU pages are drained back when needed.
    const big = Array.from({ length: 4 }, () => ram.alloc(10));
    assert.ok(big.every((b) => b !== undefined), `order-10 blocks: ${big.join(', ')}`);
  });

  it('on fragmented RAM a 1 MiB buffer is built from small chunks, as Linux falls back order by order', () => {
    const platform = parsePlatform('name: x\nheaps: [{ name: system, kind: system, size: 8MiB }]\ndevices: [{ name: d, formats: { NV12: {} } }]');
    const k = new SimKernel(platform.heaps, { maxFds: 4096 });
    const fresh = k.allocate('system', M);
    assert.deepStrictEqual(k.chunks(fresh), [[8, 1]]);
    k.close(fresh);
    // Take every page, then give back every other one: 4 MiB free, but no two free pages are buddies.
    const pages = Array.from({ length: 2048 }, () => k.allocate('system', 4 * K));
    pages.forEach((fd, i) => i % 2 === 0 && k.close(fd));
    const scattered = k.allocate('system', M);
    assert.deepStrictEqual(k.chunks(scattered), [[0, 256]]);
    assert.strictEqual(k.heapStats('system').free, 4 * M - M);
    k.close(scattered);
    pages.forEach((fd, i) => i % 2 === 1 && k.close(fd));
    assert.deepStrictEqual(k.chunks(k.allocate('system', M)), [[8, 1]]); // merged back
  });
});

describe('carveout and secure heaps (genalloc first fit)', () => {
  it('first fit from the lowest address, page granular, no alignment beyond pages', () => {
    const k = vmKernel();
    const a = k.allocate('carve', 8 * K);
    const b = k.allocate('carve', 4 * K);
    k.close(a);
    const c = k.allocate('carve', 12 * K); // does not fit in the 8K hole
    const d = k.allocate('carve', 4 * K); // goes into the hole
    assert.deepStrictEqual([b, c, d].map((fd) => k.info(fd).physAddr), [0x90002000, 0x90003000, 0x90000000]);
    assert.deepStrictEqual(k.heapStats('carve'), { capacity: 64 * K, used: 20 * K, free: 44 * K, largestFree: 40 * K });
  });

  it('secure buffers cannot be mapped or synced by the CPU: EPERM', () => {
    const k = vmKernel();
    const fd = k.allocate('secure', 64 * K);
    assert.throws(() => k.map(fd), (err) => isKernelError(err, 'EPERM') && /not CPU-accessible/.test((err as Error).message));
    assert.throws(() => k.sync(fd, 3), (err) => isKernelError(err, 'EPERM'));
    k.close(fd);
  });
});

describe('placement written out (constraints/placement.ts) and the heap kinds\' strides', () => {
  it('emptyHeapCapacity() counts what each kind\'s stride() places, for every kind, base, alignment order and size', () => {
    let checked = 0;
    fc.assert(
      fc.property(fc.constantFrom(...(Object.keys(HEAP_KINDS) as HeapKind[])), fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1, max: 512 }), fc.constantFrom(undefined, 4, 8, 10, 12), fc.integer({ min: 1, max: 6000 }), (kind, baseBlocks, sizeBlocks, order, pages) => {
        const rules = HEAP_KINDS[kind];
        const alignOrder = rules.defaultAlignOrder === undefined ? undefined : (order ?? rules.defaultAlignOrder);
        const heap = { name: 'h', kind, base: baseBlocks * 2 ** 21, size: sizeBlocks * 2 ** 21, end: Infinity, contiguous: rules.contiguous, cpuAccess: rules.cpuAccess, secure: rules.secure, cached: true, maxAlign: rules.maxAlign(alignOrder), alignOrder, maxBuffer: rules.maxBuffer(sizeBlocks * 2 ** 21), scarcity: rules.scarcity, source: 'test' };
        const bytes = pages * 4096;
        const { first, step } = rules.stride(heap, bytes);
        const expected = bytes > heap.maxBuffer || heap.size < first + bytes ? 0 : Math.floor((heap.size - first - bytes) / step) + 1;
        assert.strictEqual(emptyHeapCapacity(heap, bytes), expected);
        checked++;
      }),
      { numRuns: 2000, seed: 4 },
    );
    assert.strictEqual(checked, 2000);
  });
});
