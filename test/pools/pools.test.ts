// udalloc pools on a recorded tree (debugfs cma/, sysfs mm/cma/, /proc/meminfo as Linux 6.12 writes
// them) whose numbers are worked out by hand here: the area's use, its free runs, the largest buffer
// that can be allocated now (less than the largest run: it must start aligned for its size), the
// fragmentation, --fit's answer and placement, exhaustion told from fragmentation, what is missing
// without debugfs, and corrupt files named. The QEMU suite checks the same answers against the
// kernel's own allocations (test-kernel/pools.test.ts).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { testDir } from '../helpers.js';
import { DmaHeapBackend } from '../../src/kernel/dma-heap/backend.js';
import { LabelledBackend } from '../../src/service/opaque-heaps.js';
import type { Heap } from '../../src/constraints/model.js';
import { parsePlatform } from '../../src/constraints/load.js';
import { chromium } from 'playwright-core';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const PAGE = 4096;
const BASE_PFN = 0x40000;
const PAGES = 2048; // 8 MiB
/** Used page ranges [start, end): 1 MiB at the base, then three more. */
const USED: ReadonlyArray<[number, number]> = [[0, 256], [300, 320], [600, 1024], [1100, 1200]];

function words(used: ReadonlyArray<[number, number]>, pages: number): string {
  const w = new Array<number>(Math.ceil(pages / 32)).fill(0);
  for (const [s, e] of used) for (let p = s; p < e; p++) w[p >> 5] = (w[p >> 5]! | (1 << (p & 31))) >>> 0;
  return `${w.join(' ')}\n`;
}

/** A tree as 6.12 shows it (mm/cma_debug.c, mm/cma_sysfs.c, fs/proc/meminfo.c). */
function recordedTree(options: { debugfs?: boolean; bitmap?: string } = {}): string {
  const root = testDir('udalloc-pools-');
  const usedPages = USED.reduce((n, [s, e]) => n + e - s, 0);
  if (options.debugfs !== false) {
    const d = join(root, 'sys/kernel/debug/cma/reserved');
    mkdirSync(d, { recursive: true });
    const files: Record<string, string> = { base_pfn: `${BASE_PFN}\n`, count: `${PAGES}\n`, order_per_bit: '0\n', used: `${usedPages}\n`, maxchunk: '848\n', bitmap: options.bitmap ?? words(USED, PAGES), alloc: '', free: '' };
    for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
  }
  const s = join(root, 'sys/kernel/mm/cma/reserved');
  mkdirSync(s, { recursive: true });
  writeFileSync(join(s, 'alloc_pages_success'), '3100\n');
  writeFileSync(join(s, 'alloc_pages_fail'), '1024\n');
  writeFileSync(join(s, 'release_pages_success'), '2300\n');
  mkdirSync(join(root, 'proc'), { recursive: true });
  writeFileSync(join(root, 'proc/meminfo'), `MemTotal:        1000000 kB\nCmaTotal:           8192 kB\nCmaFree:            ${((PAGES - usedPages) * PAGE) / 1024} kB\n`);
  return root;
}

const pools = (args: string[]) => spawnSync(process.execPath, [CLI, 'pools', ...args], { encoding: 'utf8' });

describe('udalloc pools on a recorded tree', () => {
  it('size, use, the largest run (848 pages) and the largest buffer that fits (768 pages: it must start 1 MiB-aligned), fragmentation, counters', () => {
    const r = pools(['--root', recordedTree(), '--json']);
    assert.strictEqual(r.status, 0, r.stderr);
    const [area] = (JSON.parse(r.stdout) as { areas: Array<Record<string, unknown>> }).areas;
    // Free runs: [256,300) 44, [320,600) 280, [1024,1100) 76, [1200,2048) 848 pages: 1248 free.
    // A buffer over 256 pages starts on a 256-page (1 MiB) boundary: the last run's first is page
    // 1280, leaving 768 pages; no earlier run has an aligned start with more.
    assert.deepStrictEqual(
      [area!['name'], area!['base'], area!['size'], area!['used'], area!['free'], area!['largestRun'], area!['largestBuffer']],
      ['reserved', BASE_PFN * PAGE, PAGES * PAGE, 800 * PAGE, 1248 * PAGE, 848 * PAGE, 768 * PAGE],
    );
    assert.ok(Math.abs((area!['fragmentation'] as number) - (1 - 768 / 1248)) < 1e-9);
    assert.deepStrictEqual(area!['counters'], { allocSuccess: 3100, allocFail: 1024, releaseSuccess: 2300 });
    const text = pools(['--root', recordedTree(), '--map']).stdout;
    assert.match(text, /largest free run 3\.31 MiB; largest buffer that can be allocated now 3 MiB/);
    assert.match(text, /fragmentation 38%/);
    assert.match(text, /since boot: 3100 pages allocated, 1024 pages failed, 2300 pages released/);
    assert.match(text, /CmaTotal 8 MiB, CmaFree 4\.88 MiB/);
    // The map: 2048 pages in 512 cells of 4 pages: the first 64 cells (1 MiB) used.
    assert.match(text, /^ {2}#{64}$/m);
    assert.match(text, /\(one character: 16 KiB, 4 pages\)/);
  });

  it('CONFIG_CMA_ALIGNMENT read from the kernel\'s config (/proc/config.gz, else /boot/config-<release>): at order 4 the whole 848-page run takes a buffer', () => {
    const root = recordedTree();
    writeFileSync(join(root, 'proc/config.gz'), gzipSync('CONFIG_CMA=y\nCONFIG_CMA_ALIGNMENT=4\n'));
    const r = JSON.parse(pools(['--root', root, '--json']).stdout) as { areas: Array<{ largestBuffer: number }>; cmaAlignment: { order: number; source: string } };
    assert.deepStrictEqual([r.areas[0]!.largestBuffer, r.cmaAlignment.order], [848 * PAGE, 4]);
    const boot = recordedTree();
    mkdirSync(join(boot, 'proc/sys/kernel'), { recursive: true });
    writeFileSync(join(boot, 'proc/sys/kernel/osrelease'), '6.12.0-test\n');
    mkdirSync(join(boot, 'boot'));
    writeFileSync(join(boot, 'boot/config-6.12.0-test'), '# CONFIG_CMA_DEBUGFS is not set\nCONFIG_CMA_ALIGNMENT=6\n');
    assert.match(pools(['--root', boot]).stdout, /CMA buffers align to at most order 6 \(256 KiB\): CONFIG_CMA_ALIGNMENT from .*boot\/config-6\.12\.0-test/);
  });

  it('--fit: yes with the kernel\'s placement; no, told as exhaustion (less free than the buffer) or fragmentation (enough free, no aligned run)', () => {
    const root = recordedTree();
    const yes = pools(['--root', root, '--fit', '1x1MiB', '--json']);
    assert.strictEqual(yes.status, 0);
    // 256 pages, 256-aligned: [320,600) has 512 but only 88 after it; [1024,1100) is 76 long; page 1280.
    assert.deepStrictEqual((JSON.parse(yes.stdout) as { buffers: Array<{ pfn: number }> }).buffers.map((b) => b.pfn), [BASE_PFN + 1280]);
    // Two 1/4 MiB buffers (64 pages, 64-aligned): [320,600) takes both, at 320 and 384.
    assert.deepStrictEqual((JSON.parse(pools(['--root', root, '--fit', '2x256KiB', '--json']).stdout) as { buffers: Array<{ pfn: number }> }).buffers.map((b) => b.pfn - BASE_PFN), [320, 384]);
    const exhausted = pools(['--root', root, '--fit', '2x3MiB']);
    assert.strictEqual(exhausted.status, 3);
    assert.match(exhausted.stdout, /^no: buffer 1 of 2 \(3 MiB\) finds no room in reserved once the 1 before it are placed:\n {2}buffer 0: 3 MiB at pfn 0x40500\n {2}exhausted: 1\.88 MiB free after them, less than the buffer\n {2}and the 2 buffers ask 6 MiB in all, more than the 4\.88 MiB free: fewer or smaller buffers, or a larger area\n$/);
    const fragmented = pools(['--root', root, '--fit', '1x4MiB']);
    assert.strictEqual(fragmented.status, 3);
    assert.match(fragmented.stdout, /fragmented: 4\.88 MiB free now, but the longest free run starting 1 MiB-aligned \(as a buffer of this size must\) is 3 MiB/);
    const frames = pools(['--root', root, '--fit', '1x640x480:NV12M', '--json']);
    // A multi-planar frame: a buffer per plane (75 pages, then 37.5 rounded to 38), each at its own alignment.
    assert.deepStrictEqual((JSON.parse(frames.stdout) as { buffers: Array<{ size: number }> }).buffers.map((b) => b.size), [307200, 155648]);
  });

  it('without debugfs: the counters and totals, and what the answers lack; bad input and corrupt files are one line, exit 2', () => {
    const r = pools(['--root', recordedTree({ debugfs: false })]);
    assert.strictEqual(r.status, 0);
    assert.match(r.stdout, /^reserved:\n {2}no bitmap \(see missing below\)/);
    assert.match(r.stdout, /missing: .*sys\/kernel\/debug\/cma: not readable \(debugfs not mounted, or not root\): no bitmap, so no largest free run/);
    for (const [args, message] of [
      [['--fit', '4xbig'], /--fit "4xbig": .*e\.g\. --fit 4x3840x2160:NV12 or --fit 4x8MiB/],
      [['--fit', '1x64x64:NV13'], /--fit "1x64x64:NV13": unknown format "NV13"/],
      [['--fit', '1x1MiB', '--area', 'reservd'], /--area "reservd": no CMA area of that name \(did you mean reserved\?\)/],
    ] as const) {
      const bad = pools(['--root', recordedTree(), ...args]);
      assert.strictEqual(bad.status, 2, bad.stdout + bad.stderr);
      assert.strictEqual(bad.stderr.trim().split('\n').length, 1, bad.stderr);
      assert.match(bad.stderr, message);
    }
    const corrupt = pools(['--root', recordedTree({ bitmap: '1 2 x\n' })]);
    assert.strictEqual(corrupt.status, 2, corrupt.stdout + corrupt.stderr);
    assert.match(corrupt.stderr, /bitmap: 3 words hold 96 bits, the area has 2048/);
  });
});

describe('an ENOMEM on a real CMA heap, explained', () => {
  const heap: Heap = parsePlatform(`name: t\nheaps:\n  - { name: reserved, kind: cma, base: ${BASE_PFN * PAGE}, size: 8MiB }\ndevices:\n  - { name: d, iommu: false, formats: { R8: { modifiers: [LINEAR] } } }\n`, 't.yaml').heaps[0]!;
  const backendOn = () => {
    const root = recordedTree();
    mkdirSync(join(root, 'dev/dma_heap'), { recursive: true });
    writeFileSync(join(root, 'dev/dma_heap/reserved'), '');
    return new DmaHeapBackend({ root });
  };

  it('exhausted, fragmented, and what would help (fewer buffers that fit now, a boot size checked on an empty area)', () => {
    const backend = backendOn();
    try {
      // 2 x 3 MiB: the first fits at page 1280, then 480 pages are left.
      assert.deepStrictEqual(backend.outOfMemoryReport('reserved', heap, 3 * 2 ** 20, 2), [
        'reserved is exhausted: 1.88 MiB free once 1 of them are placed, less than a 3 MiB buffer',
        'no process holds a dma-buf of reserved (that this user may see)',
        'would help: 1 buffer(s) instead of 2 fit now; or the area is large enough when empty (6 MiB needed): free what others hold, or allocate these earlier, before the area fragments',
      ]);
      assert.deepStrictEqual(backend.outOfMemoryReport('reserved', heap, 4 * 2 ** 20, 1)[0], 'reserved is fragmented: 4.88 MiB free, but the longest free run starting 1 MiB-aligned (as a 4 MiB buffer must) is 3 MiB');
      // 3 x 3 MiB need 9 MiB: a 10 MiB area (whole 2 MiB pageblocks), which holds them when empty.
      assert.match(backend.outOfMemoryReport('reserved', heap, 3 * 2 ** 20, 3).at(-1)!, /or an area of 10 MiB holds them when empty: at boot: cma=10M if reserved is the default CMA area/);
    } finally {
      backend.dispose();
    }
  });

  it('through the service\'s labelled heaps: the label instead of the name, and no other process named', () => {
    const backend = backendOn();
    try {
      const labelled = new LabelledBackend(backend, new Map([['heap #2', 'reserved']]));
      const lines = labelled.outOfMemoryReport('heap #2', { ...heap, name: 'heap #2' }, 4 * 2 ** 20, 1);
      assert.strictEqual(lines[0], 'heap #2 is fragmented: 4.88 MiB free, but the longest free run starting 1 MiB-aligned (as a 4 MiB buffer must) is 3 MiB');
      assert.ok(!lines.some((l) => /reserved|held by|no process/.test(l)), lines.join('\n'));
    } finally {
      backend.dispose();
    }
  });
});

describe('udalloc pools --html, rendered in Chromium', () => {
  it('the picture draws every used run where the bitmap has it, and carries the area\'s numbers', async () => {
    const root = recordedTree();
    const file = join(testDir('udalloc-pools-html-'), 'pools.html');
    const r = pools(['--root', root, '--html', file, '--json']);
    assert.strictEqual(r.status, 0, r.stderr);
    const json = (JSON.parse(r.stdout) as { areas: Array<Record<string, number>> }).areas[0]!;
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(String(e)));
      page.on('request', (req) => !req.url().startsWith('file:') && problems.push(`fetched ${req.url()}`));
      await page.goto(`file://${file}`);
      await page.waitForSelector('body[data-ready="true"]');
      // (In the page, where the DOM is: a string, as this file is compiled without DOM types.)
      const drawn = (await page.evaluate(`(() => {
        const section = document.querySelector('section.area');
        const svg = section.querySelector('svg');
        const rowPages = Number(svg.getAttribute('data-row-pages'));
        const rects = [...svg.querySelectorAll('rect.used')].map((el) => {
          const box = el.getBBox();
          return { run: Number(el.getAttribute('data-run')), start: Number(el.getAttribute('data-start')), pages: Number(el.getAttribute('data-pages')), x: box.x, y: box.y, width: box.width };
        });
        const data = Object.fromEntries(['size', 'used', 'free', 'largestRun', 'largestBuffer'].map((k) => [k, Number(section.dataset[k])]));
        return { rowPages, rects, data };
      })()`)) as { rowPages: number; rects: Array<{ run: number; start: number; pages: number; x: number; y: number; width: number }>; data: Record<string, number> };
      // Runs back from the rectangles (a run crossing rows is several): exactly the used ranges.
      const runs = new Map<number, number>();
      for (const rect of drawn.rects) runs.set(rect.run, (runs.get(rect.run) ?? 0) + rect.pages);
      assert.deepStrictEqual([...runs].map(([start, pages]) => [start, start + pages]), USED.map(([s, e]) => [s, e]));
      // Each rectangle sits where its pages are: row by row, at their offset in the row, as wide as they are.
      const px = 1024 / drawn.rowPages;
      for (const rect of drawn.rects) {
        assert.ok(Math.abs(rect.x - (rect.start % drawn.rowPages) * px) < 0.01 && Math.abs(rect.width - rect.pages * px) < 0.01, JSON.stringify(rect));
        assert.strictEqual(rect.y, Math.floor(rect.start / drawn.rowPages) * 14);
      }
      assert.deepStrictEqual(drawn.data, { size: json['size'], used: json['used'], free: json['free'], largestRun: json['largestRun'], largestBuffer: json['largestBuffer'] });
      assert.deepStrictEqual(problems, []);
    } finally {
      await browser.close();
    }
  });
});
