// The HTML report rendered in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): the charts exist with the right series and data, the heap map shows the
// buffers at the peak, and the page logs no error. Works offline: nothing is fetched.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

describe('HTML replay report', () => {
  it('renders occupancy and fragmentation charts per heap and the heap map, offline', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'udalloc-report-')), 'report.html');
    const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'simulate', '--platform', 'boards/example.yaml', '--scenario', 'video-decode:clips=12', '--scenario', 'compositor:windows=60', '--json', '--html', file], { encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    const { reports } = JSON.parse(r.stdout) as { reports: Array<{ heaps: Array<{ name: string; allocations: number; failures: number; peakMap?: unknown[] }> }> };

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
        (globalThis as unknown as { udallocCharts: Array<{ id: string; series: string[]; points: number; plot: { series: Array<{ label: string }>; data: number[][] } }> }).udallocCharts.map((c) => ({
          id: c.id,
          series: c.plot.series.slice(1).map((s) => s.label),
          points: c.points,
          lastLive: c.plot.data[1]![c.points - 1],
        })),
      );
      const expected = reports.flatMap((rep, ti) => rep.heaps.filter((h) => h.allocations > 0 || h.failures > 0).flatMap((h) => [`t${ti}-${h.name}-occupancy`, `t${ti}-${h.name}-fragmentation`]));
      assert.deepStrictEqual(charts.map((c) => c.id), expected);
      for (const c of charts) {
        assert.deepStrictEqual(c.series, c.id.endsWith('occupancy') ? ['live bytes', 'allocated bytes'] : ['free bytes', 'largest free block']);
        assert.ok(c.points > 2, `${c.id} has ${c.points} points`);
      }
      // Every clip is freed by the end: the CMA occupancy of the decode trace ends at zero.
      assert.strictEqual(charts.find((c) => c.id === 't0-linux,cma-occupancy')!.lastLive, 0);
      // uPlot drew its canvases.
      assert.strictEqual(await page.locator('.uplot canvas').count(), charts.length);
      // Heap map: one rect per buffer at the peak.
      const cma = reports[0]!.heaps.find((h) => h.name === 'linux,cma')!;
      assert.ok(cma.peakMap && cma.peakMap.length > 0);
      assert.strictEqual(await page.locator('svg.heapmap[data-heap="linux,cma"] rect.buf').first().locator('xpath=..').locator('rect.buf').count(), cma.peakMap.length);
      assert.deepStrictEqual(problems, []);
    } finally {
      await browser.close();
    }
  });
});
