// /dev/dma_heap as each kernel generation lays it out (src/kernel/dma-heap/names.ts), on a fake
// root: up to 6.16 the default CMA area's heap has its old name; 6.17 adds default_cma_region (and,
// with CONFIG_DMABUF_HEAPS_CMA_LEGACY, keeps the old name beside it: one area, two entries) and a
// heap per reusable shared-dma-pool node; 6.18 adds the TEE's protected heaps. Discovery and the
// dma-heap backend must count every area once and link devices to the heaps their memory-region names.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { discoverLive } from '../../src/platform/live.js';
import { platformFromDiscovery } from '../../src/platform/select.js';
import { parseDtb } from '../../src/platform/fdt.js';
import { DmaHeapBackend } from '../../src/kernel/dma-heap/backend.js';
import { openSync as openAllocator } from '../../src/allocator/allocator.js';
import { buildDtb, strings } from './fdt-builder.js';
import { testDir } from '../helpers.js';

const MiB = 2 ** 20;
const PAGE = 4096;

/** A board: a 64 MiB default CMA node, a 32 MiB reusable pool at 0x50000000 and a VPU whose memory-region is that pool. */
function sysfsTree(): Record<string, Uint8Array> {
  const tree = parseDtb(
    buildDtb({
      props: { '#address-cells': [2], '#size-cells': [2], compatible: 'test,board' },
      children: {
        'reserved-memory': {
          props: { '#address-cells': [2], '#size-cells': [2], ranges: true },
          children: {
            'linux,cma': { props: { compatible: 'shared-dma-pool', reusable: true, size: [0, 64 * MiB], 'linux,cma-default': true } },
            'vpu-pool@50000000': { props: { compatible: 'shared-dma-pool', reusable: true, reg: [0, 0x50000000, 0, 32 * MiB], phandle: [1] } },
          },
        },
        'video-codec@ff650000': { props: { compatible: strings('rockchip,rk3399-vpu'), reg: [0, 0xff650000, 0, 0x800], 'memory-region': [1] } },
      },
    }),
    'board.dtb',
  );
  const files: Record<string, Uint8Array> = {};
  for (const node of tree.root.walk()) for (const [k, v] of node.props) files[join('sys/firmware/devicetree/base', node.path, k)] = v;
  return files;
}

/** A fake root: the heaps listed, /proc/meminfo's CMA totals (both areas: 96 MiB), debugfs counts when given. */
function machine(heaps: readonly string[], options: { tree?: boolean; debugfs?: boolean } = {}): string {
  const root = testDir('udalloc-heapgen-');
  const files: Record<string, string | Uint8Array> = {
    ...(options.tree === false ? {} : sysfsTree()),
    'proc/meminfo': `MemTotal: 4194304 kB\nMemAvailable: 3145728 kB\nCmaTotal: ${(options.tree === false ? 64 : 96) * 1024} kB\nCmaFree: ${(options.tree === false ? 64 : 96) * 1024} kB\n`,
  };
  for (const h of heaps) files[join('dev/dma_heap', h)] = '';
  if (options.debugfs) {
    files['sys/kernel/debug/cma/linux,cma/count'] = String((64 * MiB) / PAGE);
    files['sys/kernel/debug/cma/linux,cma/used'] = String((4 * MiB) / PAGE);
    files['sys/kernel/debug/cma/vpu-pool@50000000/count'] = String((32 * MiB) / PAGE);
    files['sys/kernel/debug/cma/vpu-pool@50000000/used'] = '0';
  }
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const summary = (root: string) => discoverLive(root, false).heaps.map((h) => [h.name, h.kind, h.size]);

describe('dma-buf heaps across kernel generations', () => {
  it('Linux 6.12: the default CMA area under its node name; the reusable pool is no heap yet', () => {
    const root = machine(['system', 'linux,cma']);
    assert.deepStrictEqual(summary(root), [['linux,cma', 'cma', 64 * MiB], ['system', 'system', 4 * 2 ** 30]]);
  });

  it('Linux 6.17 with CMA_LEGACY: default_cma_region and linux,cma are one area, counted once; the pool is a heap the VPU links to', () => {
    const root = machine(['default_cma_region', 'linux,cma', 'system', 'vpu-pool@50000000']);
    const live = discoverLive(root, false);
    assert.deepStrictEqual(live.heaps.map((h) => [h.name, h.kind, h.size]), [['default_cma_region', 'cma', 64 * MiB], ['system', 'system', 4 * 2 ** 30], ['vpu-pool@50000000', 'cma', 32 * MiB]]);
    const cmaTotal = live.heaps.filter((h) => h.kind === 'cma').reduce((sum, h) => sum + h.size, 0);
    assert.strictEqual(cmaTotal, 96 * MiB, 'the CMA heaps add up to CmaTotal: no area twice');
    assert.match(live.heaps[0]!.source, /also listed as .*dev\/dma_heap\/linux,cma: the same area, counted once/);
    assert.deepStrictEqual(live.devices.map((d) => [d.name, d.heaps]), [['video-codec@ff650000', ['vpu-pool@50000000']]]);
    // The platform made from it loads (every link names a heap it has) and plans the VPU's buffer in its pool.
    const platform = platformFromDiscovery(live, 'six-seventeen');
    assert.deepStrictEqual(platform.heaps.map((h) => h.name).sort(), ['default_cma_region', 'system', 'vpu-pool@50000000']);
  });

  it('Linux 6.17 without CMA_LEGACY: the same pools', () => {
    assert.deepStrictEqual(summary(machine(['default_cma_region', 'system', 'vpu-pool@50000000'])), [['default_cma_region', 'cma', 64 * MiB], ['system', 'system', 4 * 2 ** 30], ['vpu-pool@50000000', 'cma', 32 * MiB]]);
  });

  it('Linux 6.17 on a machine without a device tree (cma=): default_cma_region and reserved, once', () => {
    assert.deepStrictEqual(summary(machine(['default_cma_region', 'reserved', 'system'], { tree: false })), [['default_cma_region', 'cma', 64 * MiB], ['system', 'system', 4 * 2 ** 30]]);
  });

  it('Linux 6.18: the TEE protected heaps are secure heaps the CPU cannot map', () => {
    const root = machine(['default_cma_region', 'linux,cma', 'protected,secure-video', 'protected,trusted-ui', 'system', 'vpu-pool@50000000']);
    const heaps = discoverLive(root, false).heaps;
    assert.deepStrictEqual(heaps.filter((h) => h.kind === 'secure').map((h) => h.name), ['protected,secure-video', 'protected,trusted-ui']);
    const backend = new DmaHeapBackend({ dir: join(root, 'dev/dma_heap'), root });
    try {
      const secure = backend.heaps().find((h) => h.name === 'protected,secure-video')!;
      assert.deepStrictEqual([secure.kind, secure.cpuAccess, secure.contiguous], ['secure', false, true]);
    } finally {
      backend.dispose();
    }
  });

  it('the dma-heap backend lists the default area once, sizes each area from debugfs, and takes either name', () => {
    const root = machine(['default_cma_region', 'linux,cma', 'system', 'vpu-pool@50000000'], { debugfs: true });
    const backend = new DmaHeapBackend({ dir: join(root, 'dev/dma_heap'), root });
    try {
      const heaps = backend.heaps();
      assert.deepStrictEqual(heaps.map((h) => [h.name, h.kind, h.capacity, h.free, h.aliases ?? []]), [
        ['default_cma_region', 'cma', 64 * MiB, 60 * MiB, ['linux,cma']],
        ['system', 'system', 4 * 2 ** 30, 3 * 2 ** 30, []],
        ['vpu-pool@50000000', 'cma', 32 * MiB, 32 * MiB, []],
      ]);
      // Asked by its old name, the area answers the same.
      assert.deepStrictEqual(backend.heapStats('linux,cma'), backend.heapStats('default_cma_region'));
      // A profile written on an older kernel names the area linux,cma: the heap is present, not missing.
      const dev = openAllocator({ platform: { ...platformFor(), origin: 'test' }, backend });
      try {
        assert.deepStrictEqual(dev.missingHeaps, []);
        assert.deepStrictEqual(dev.heaps().map((h) => h.describe().name), ['linux,cma', 'system']);
      } finally {
        dev.close();
      }
    } finally {
      backend.dispose();
    }
  });
});

/** A profile from before 6.17: the default area as linux,cma. */
function platformFor() {
  const live = discoverLive(machine(['linux,cma', 'system']), false);
  return platformFromDiscovery({ ...live, devices: [] }, 'older');
}
