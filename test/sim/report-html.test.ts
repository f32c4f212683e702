// The HTML reports rendered in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core), checked by the values they draw: capacity and size lines, failure marks,
// which charts exist, the heap map's buffers and labels; and the page logs no error. Works
// offline: nothing is fetched.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { testDir } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const MiB = 2 ** 20;
const COMPOSITOR = 'compositor:outputDevices=v3d:write+hvs:read,clientDevices=v3d';

interface DrawnChart {
  id: string;
  series: string[];
  points: number;
  /** Per series (in order), the values uPlot holds. */
  values: Array<Array<number | null>>;
}

async function render(file: string, check: (page: Page, charts: DrawnChart[]) => Promise<void>): Promise<void> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('request', (req) => !req.url().startsWith('file:') && problems.push(`fetched ${req.url()}`));
    await page.goto(`file://${file}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
    const charts = await page.evaluate(() =>
      (globalThis as unknown as { udallocCharts: Array<{ id: string; points: number; plot: { series: Array<{ label: string }>; data: Array<Array<number | null>> } }> }).udallocCharts.map((c) => ({
        id: c.id,
        series: c.plot.series.slice(1).map((s) => s.label),
        points: c.points,
        values: c.plot.data.slice(1),
      })),
    );
    // uPlot drew a canvas for every chart.
    assert.strictEqual(await page.locator('.uplot canvas').count(), charts.length);
    await check(page, charts);
    assert.deepStrictEqual(problems, []);
  } finally {
    await browser.close();
  }
}

const seriesOf = (c: DrawnChart, label: string) => c.values[c.series.indexOf(label)]!;
const marks = (values: Array<number | null>) => values.filter((v) => v !== null).length;

describe('HTML replay report (simulate --html)', () => {
  it('occupancy with the pool capacity and every failure marked; fragmentation only for contiguous pools; a labelled heap map', async () => {
    const file = join(testDir('udalloc-report-'), 'report.html');
    const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'simulate', '--platform', 'raspberry-pi-4', '--scenario', COMPOSITOR, '--scenario', 'compositor:outputDevices=v3d:write+hvs:read,clientDevices=v3d,windows=40', '--json', '--html', file], { encoding: 'utf8' });
    // The stock pool fails this session: the pools do not hold the workload (exit 3), the report is written.
    assert.strictEqual(r.status, 3, r.stderr);
    const { reports } = JSON.parse(r.stdout) as { reports: Array<{ failures: Array<{ heap: string }>; heaps: Array<{ name: string; kind: string; capacity: number; allocations: number; failures: number; peakMap?: unknown[] }> }> };
    const cmaReport = reports[0]!.heaps.find((h) => h.name === 'linux,cma')!;
    assert.ok(cmaReport.failures > 0, 'the stock 64 MiB pool fails this session');

    await render(file, async (page, charts) => {
      const expected = reports.flatMap((rep, ti) => rep.heaps.filter((h) => h.allocations > 0 || h.failures > 0).flatMap((h) => [`t${ti}-${h.name}-occupancy`, ...(h.kind === 'system' ? [] : [`t${ti}-${h.name}-fragmentation`])]));
      assert.deepStrictEqual(charts.map((c) => c.id), expected);
      const occupancy = charts.find((c) => c.id === 't0-linux,cma-occupancy')!;
      assert.deepStrictEqual(occupancy.series, ['allocated bytes', 'live bytes', 'capacity', 'failed allocation']);
      assert.ok(seriesOf(occupancy, 'capacity').every((v) => v === 64), 'the capacity line is the pool size');
      // One mark per failure time; the failures of this heap happen at distinct times.
      assert.strictEqual(marks(seriesOf(occupancy, 'failed allocation')), new Set(reports[0]!.failures.filter((f) => f.heap === 'linux,cma').map((f) => (f as unknown as { t: number }).t)).size);
      // The system heap is RAM: no capacity line, no fragmentation chart.
      assert.deepStrictEqual(charts.find((c) => c.id === 't0-system-occupancy')!.series, ['allocated bytes', 'live bytes']);
      const fragmentation = charts.find((c) => c.id === 't0-linux,cma-fragmentation')!;
      for (let i = 0; i < fragmentation.points; i++) assert.ok(seriesOf(fragmentation, 'largest free block')[i]! <= seriesOf(fragmentation, 'free bytes')[i]!);
      // Heap map: one rect per buffer at the peak, offsets labelled up to the capacity.
      const map = page.locator('section').first().locator('svg.heapmap[data-heap="linux,cma"]');
      assert.strictEqual(await map.locator('rect.buf').count(), cmaReport.peakMap!.length);
      assert.deepStrictEqual(await map.locator('text.tick').allTextContents(), ['+0', '+16 MiB', '+32 MiB', '+48 MiB', '+64 MiB']);
      assert.ok((await map.locator('text.buflabel').allTextContents()).some((t) => t.startsWith('output0')));
    });
  });
});

describe('HTML sizing report (size --html)', () => {
  it('shows the recommended size against the occupancy it holds, today\'s size, and the allocations that fail today', async () => {
    const file = join(testDir('udalloc-size-'), 'size.html');
    const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'size', '--platform', 'raspberry-pi-4', '--scenario', COMPOSITOR, '--policy', 'first-fit', '--json', '--html', file], { encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    const pool = (JSON.parse(r.stdout) as { results: Array<{ pools: Array<{ name: string; size: number; profileSize: number }> }> }).results[0]!.pools.find((p) => p.name === 'linux,cma')!;
    const today = JSON.parse(spawnSync(process.execPath, ['dist/src/cli/main.js', 'simulate', '--platform', 'raspberry-pi-4', '--scenario', COMPOSITOR, '--json'], { encoding: 'utf8' }).stdout) as { reports: Array<{ failures: Array<{ heap: string; t: number }> }> };
    const failingToday = today.reports[0]!.failures.filter((f) => f.heap === 'linux,cma');
    assert.ok(failingToday.length > 0);

    await render(file, async (page, charts) => {
      assert.deepStrictEqual(charts.map((c) => c.id), ['t0-linux,cma-sizing']);
      const c = charts[0]!;
      assert.deepStrictEqual(c.series, ['allocated bytes (at the recommended size)', 'live bytes', 'recommended size', "today's size", "failed at today's size"]);
      assert.ok(seriesOf(c, 'recommended size').every((v) => v === +(pool.size / MiB).toFixed(4)));
      assert.ok(seriesOf(c, "today's size").every((v) => v === 64));
      // Everything fits under the recommended line; the marks are today's failures.
      assert.ok(seriesOf(c, 'allocated bytes (at the recommended size)').every((v) => v! <= pool.size / MiB));
      assert.strictEqual(marks(seriesOf(c, "failed at today's size")), new Set(failingToday.map((f) => f.t)).size);
      assert.match(await page.locator('p.answer').innerText(), new RegExp(`linux,cma: 132\\.16 MiB \\(${pool.size} bytes; today 64 MiB\\)\\s+for the kernel's first-fit CMA: boot with cma=134M`));
      assert.strictEqual(await page.locator('tr[data-pool="linux,cma"] td.failing').innerText(), String(failingToday.length));
    });
  });
});
