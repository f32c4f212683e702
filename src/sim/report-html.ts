// Reports as self-contained HTML files (uPlot inlined, so they open offline):
// - the replay report (`simulate --html`): per heap, occupancy over time with the pool's capacity
//   and a mark at every failed allocation; for contiguous pools, free bytes against the largest
//   free block (fragmentation means nothing for the scattered pages of the system heap); and a
//   labelled map of where the buffers sat when the pool peaked;
// - the sizing report (`size --html`): per pool, the workload's occupancy at the recommended size
//   against that size and today's, with the allocations that fail at today's size marked.

import { HEAP_KINDS } from '../constraints/heap-kinds/index.js';
import type { HeapKind } from '../constraints/model.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { formatBytes } from '../constraints/units.js';
import type { Platform } from '../constraints/model.js';
import type { HeapReport, ReplayReport } from './replay.js';
import type { SizingResult } from './sizing.js';

const require = createRequire(import.meta.url);

function asset(path: string): string {
  return readFileSync(require.resolve(path), 'utf8');
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON that is safe inside <script>: no "</script>" or "<!--" can appear. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export type SeriesStyle = 'line' | 'area' | 'limit' | 'points';

export interface SeriesSpec {
  readonly label: string;
  readonly color: string;
  /** line: a solid line; area: filled underneath; limit: a dashed level; points: marks only. */
  readonly style: SeriesStyle;
}

export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly series: readonly SeriesSpec[];
  /** Column-major: x (seconds) then one array per series (MiB; null where a series has no point). */
  readonly data: readonly (readonly (number | null)[])[];
}

const MiB = 2 ** 20;
const toMiB = (bytes: number) => +(bytes / MiB).toFixed(4);
/** A pool sized at boot (heap-kinds/: what sizing answers). */
const isPool = (kind: HeapKind) => HEAP_KINDS[kind].sizedPool;

const COLORS = { allocated: '#9ecae1', live: '#08519c', capacity: '#d62728', recommended: '#2ca02c', failure: '#d62728', free: '#ff7f0e', largest: '#6a3d9a' } as const;

/** One point per time (events at the same instant keep the last sample). */
function samplesByTime(h: HeapReport): HeapReport['samples'] {
  const byTime = new Map<number, HeapReport['samples'][number]>();
  for (const s of h.samples) byTime.set(s.t, s);
  return [...byTime.values()];
}

function replayCharts(traceIndex: number, r: ReplayReport, h: HeapReport): ChartSpec[] {
  const samples = samplesByTime(h);
  const x = samples.map((s) => s.t);
  const failedAt = new Set(r.failures.filter((f) => f.heap === h.name).map((f) => f.t));
  const series: SeriesSpec[] = [
    { label: 'allocated bytes', color: COLORS.allocated, style: 'area' },
    { label: 'live bytes', color: COLORS.live, style: 'line' },
  ];
  const data: (number | null)[][] = [x, samples.map((s) => toMiB(s.used)), samples.map((s) => toMiB(s.live))];
  if (isPool(h.kind)) {
    series.push({ label: 'capacity', color: COLORS.capacity, style: 'limit' });
    data.push(samples.map(() => toMiB(h.capacity)));
  }
  if (failedAt.size > 0) {
    series.push({ label: 'failed allocation', color: COLORS.failure, style: 'points' });
    data.push(samples.map((s) => (failedAt.has(s.t) ? toMiB(s.used) : null)));
  }
  const charts: ChartSpec[] = [{ id: `t${traceIndex}-${h.name}-occupancy`, title: `${h.name}: occupancy (MiB)`, series, data }];
  if (h.kind !== 'system') {
    charts.push({
      id: `t${traceIndex}-${h.name}-fragmentation`,
      title: `${h.name}: free bytes and the largest free block (MiB): the gap is fragmentation`,
      series: [
        { label: 'free bytes', color: COLORS.free, style: 'line' },
        { label: 'largest free block', color: COLORS.largest, style: 'line' },
      ],
      data: [x, samples.map((s) => toMiB(s.free)), samples.map((s) => toMiB(s.largestFree))],
    });
  }
  return charts;
}

function heapMapSvg(h: HeapReport): string {
  if (!h.peakMap || h.capacity === 0) return '';
  const width = 1000;
  const scale = (bytes: number) => (bytes / h.capacity) * width;
  const rects = h.peakMap
    .map((b, i) => {
      const x = scale(b.offset);
      const w = Math.max(0.5, scale(b.size));
      // Wide enough buffers carry their id; every one has it as a tooltip.
      const label = w >= 48 ? `<text class="buflabel" x="${(x + 3).toFixed(2)}" y="24" font-size="11">${escapeHtml(b.id.length > Math.floor(w / 7) ? `${b.id.slice(0, Math.max(1, Math.floor(w / 7) - 1))}…` : b.id)}</text>` : '';
      return `<rect class="buf" data-id="${escapeHtml(b.id)}" x="${x.toFixed(2)}" y="0" width="${w.toFixed(2)}" height="40" fill="hsl(${(i * 47) % 360} 60% 70%)" stroke="#fff" stroke-width="0.5"><title>${escapeHtml(b.id)}: ${formatBytes(b.size)} at +0x${b.offset.toString(16)}</title></rect>${label}`;
    })
    .join('');
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const x = f * width;
      const anchor = f === 0 ? 'start' : f === 1 ? 'end' : 'middle';
      return `<line x1="${x}" x2="${x}" y1="40" y2="46" stroke="#555"/><text class="tick" x="${x}" y="60" font-size="11" text-anchor="${anchor}">${f === 0 ? '+0' : `+${formatBytes(Math.round(f * h.capacity))}`}</text>`;
    })
    .join('');
  const hw =
    h.highWater === undefined
      ? ''
      : `<line class="highwater" x1="${scale(h.highWater).toFixed(2)}" x2="${scale(h.highWater).toFixed(2)}" y1="0" y2="46" stroke="#c00" stroke-width="2"><title>high-water mark ${formatBytes(h.highWater)}</title></line>`;
  return `<figure><figcaption>${escapeHtml(h.name)}: where the buffers sat at the peak (${h.peakMap.length} buffers, ${formatBytes(h.peakUsed)} allocated of ${formatBytes(h.capacity)}; offsets from the pool's base; red line: high-water mark ${h.highWater === undefined ? '' : formatBytes(h.highWater)})</figcaption>
<svg class="heapmap" data-heap="${escapeHtml(h.name)}" viewBox="0 0 ${width} 64" width="${width}" height="64"><rect x="0" y="0" width="${width}" height="40" fill="#eee"/>${rects}${hw}${ticks}</svg></figure>`;
}

function summaryTable(r: ReplayReport): string {
  const rows = r.heaps
    .map((h) => `<tr><td>${escapeHtml(h.name)}</td><td>${h.kind}</td><td>${formatBytes(h.capacity)}</td><td>${h.allocations}</td><td>${formatBytes(h.peakLive)}</td><td>${formatBytes(h.peakUsed)}</td><td>${h.highWater === undefined ? '-' : formatBytes(h.highWater)}</td><td>${h.failures}</td><td>${h.fallbacksFrom}/${h.fallbacksTo}</td><td>${h.short}</td></tr>`)
    .join('\n');
  return `<table><tr><th>heap</th><th>kind</th><th>capacity</th><th>allocations</th><th>peak live</th><th>peak allocated</th><th>high water</th><th>failures</th><th>fallbacks out/in</th><th title="requests that prefer this heap and did not get it: what udalloc size holds to zero">short</th></tr>\n${rows}</table>`;
}

/** The page around the charts: styles, uPlot, and the script that draws every chart spec. */
function page(title: string, body: string, charts: readonly ChartSpec[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>${asset('uplot/dist/uPlot.min.css')}
body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.chart{margin:1em 0}.answer{font-size:1.2em}</style>
</head><body>
${body}
<script>${asset('uplot/dist/uPlot.iife.min.js')}</script>
<script type="application/json" id="charts">${scriptJson(charts)}</script>
<script>
(function () {
  var specs = JSON.parse(document.getElementById('charts').textContent);
  function series(s) {
    var o = { label: s.label, stroke: s.color, width: 1.5 };
    if (s.style === 'area') { o.fill = s.color + '88'; o.width = 1; }
    if (s.style === 'line') o.width = 2;
    if (s.style === 'limit') o.dash = [8, 4];
    if (s.style === 'points') { o.paths = function () { return null; }; o.points = { show: true, size: 9, stroke: s.color, fill: s.color }; }
    return o;
  }
  window.udallocCharts = specs.map(function (spec) {
    var opts = {
      title: spec.title, width: 1000, height: 240,
      scales: { x: { time: false } },
      axes: [{ label: 'seconds' }, { label: 'MiB' }],
      series: [{ label: 't (s)' }].concat(spec.series.map(series))
    };
    var plot = new uPlot(opts, spec.data, document.getElementById(spec.id));
    return { id: spec.id, title: spec.title, series: spec.series.map(function (s) { return s.label; }), points: spec.data[0].length, plot: plot };
  });
  document.body.dataset.ready = 'true';
})();
</script>
</body></html>
`;
}

/** The replay report (`simulate --html`): one section per trace. */
export function reportHtml(platformName: string, reports: readonly ReplayReport[]): string {
  const charts: ChartSpec[] = [];
  const sections = reports.map((r, ti) => {
    const heaps = r.heaps.filter((h) => h.allocations > 0 || h.failures > 0);
    const blocks = heaps.map((h) => {
      const specs = replayCharts(ti, r, h);
      charts.push(...specs);
      return `<h3>${escapeHtml(h.name)} (${h.kind})</h3>\n${specs.map((c) => `<div class="chart" id="${escapeHtml(c.id)}"></div>`).join('\n')}\n${heapMapSvg(h)}`;
    });
    const failures = r.failures.length === 0 ? '<p>No allocation failed.</p>' : `<p>${r.failures.length} allocation(s) failed (red marks on the charts); the first:</p><ul>${r.failures.slice(0, 20).map((f) => `<li>line ${f.line}, t=${f.t}s, ${escapeHtml(f.id)}: ${escapeHtml(f.request)}: ${escapeHtml(f.reason)}</li>`).join('')}</ul>`;
    return `<section><h2>${escapeHtml(r.trace)}</h2><p>${r.events} events, placement ${r.policy}, ${r.fallbacks} fallback(s), ${r.short} request(s) not held by the heap they prefer (a pool too small: the count <code>udalloc size</code> holds to zero).</p>${summaryTable(r)}${failures}${blocks.join('\n')}</section>`;
  });
  return page(`udalloc replay: ${platformName}`, `<h1>udalloc replay on ${escapeHtml(platformName)}</h1>\n${sections.join('\n')}`, charts);
}

/** What the sizing report draws for one trace: its replay at the recommended sizes and at today's. */
export interface SizingReplays {
  readonly trace: string;
  readonly atRecommended: ReplayReport;
  readonly atProfile: ReplayReport;
}

/** The value of a step function (the last sample at or before t). */
function stepAt(samples: HeapReport['samples'], t: number, f: (s: HeapReport['samples'][number]) => number): number {
  let value = 0;
  for (const s of samples) {
    if (s.t > t) break;
    value = f(s);
  }
  return value;
}

/** The sizing report (`size --html`): the recommended size of each pool against its occupancy and today's failures. */
export function sizingReportHtml(platform: Platform, result: SizingResult, replays: readonly SizingReplays[], bootAdvice: string | undefined): string {
  const pools = result.pools.filter((p) => p.size > 0);
  const charts: ChartSpec[] = [];
  const rows = pools
    .map((p) => {
      const failing = replays.reduce((n, r) => n + r.atProfile.failures.filter((f) => f.heap === p.name).length, 0);
      return `<tr data-pool="${escapeHtml(p.name)}"><td>${escapeHtml(p.name)}</td><td>${p.kind}</td><td>${formatBytes(p.profileSize)}</td><td>${formatBytes(p.peakLive)}</td><td class="recommended">${p.size} (${formatBytes(p.size)})</td><td>${p.ratio.toFixed(3)}</td><td class="failing">${failing}</td></tr>`;
    })
    .join('\n');
  const table = `<table><tr><th>pool</th><th>kind</th><th>today</th><th>peak live</th><th>recommended (${result.policy})</th><th>ratio to peak live</th><th>allocations failing today</th></tr>\n${rows}</table>`;
  const sections = replays.map((r, ti) => {
    const blocks = pools.map((p) => {
      const rec = r.atRecommended.heaps.find((h) => h.name === p.name)!;
      const failures = r.atProfile.failures.filter((f) => f.heap === p.name);
      const samples = samplesByTime(rec);
      const x = [...new Set([...samples.map((s) => s.t), ...failures.map((f) => f.t)])].sort((a, b) => a - b);
      const failedAt = new Set(failures.map((f) => f.t));
      const series: SeriesSpec[] = [
        { label: 'allocated bytes (at the recommended size)', color: COLORS.allocated, style: 'area' },
        { label: 'live bytes', color: COLORS.live, style: 'line' },
        { label: 'recommended size', color: COLORS.recommended, style: 'limit' },
        { label: "today's size", color: COLORS.capacity, style: 'limit' },
      ];
      const data: (number | null)[][] = [x, x.map((t) => toMiB(stepAt(samples, t, (s) => s.used))), x.map((t) => toMiB(stepAt(samples, t, (s) => s.live))), x.map(() => toMiB(p.size)), x.map(() => toMiB(p.profileSize))];
      if (failures.length > 0) {
        series.push({ label: "failed at today's size", color: COLORS.failure, style: 'points' });
        data.push(x.map((t) => (failedAt.has(t) ? toMiB(p.profileSize) : null)));
      }
      const spec: ChartSpec = { id: `t${ti}-${p.name}-sizing`, title: `${p.name}: occupancy at the recommended ${formatBytes(p.size)}, against today's ${formatBytes(p.profileSize)} (MiB)`, series, data };
      charts.push(spec);
      const note = failures.length === 0 ? `<p>No allocation fails at today's ${formatBytes(p.profileSize)}.</p>` : `<p>${failures.length} allocation(s) fail at today's ${formatBytes(p.profileSize)} (red marks); the first: line ${failures[0]!.line}, t=${failures[0]!.t}s, ${escapeHtml(failures[0]!.request)}.</p>`;
      return `<h3>${escapeHtml(p.name)} (${p.kind})</h3>${note}<div class="chart" id="${escapeHtml(spec.id)}"></div>\n${heapMapSvg(rec)}`;
    });
    return `<section><h2>${escapeHtml(r.trace)}</h2>${blocks.join('\n')}</section>`;
  });
  const answer = pools.length === 0 ? '<p class="answer">No fixed pool (CMA, carveout, secure) is used by these workloads.</p>' : `<p class="answer">${pools.map((p) => `${escapeHtml(p.name)}: <strong>${formatBytes(p.size)}</strong> (${p.size} bytes; today ${formatBytes(p.profileSize)})`).join('; ')}${bootAdvice ? `<br>${escapeHtml(bootAdvice)}` : ''}</p>`;
  const body = `<h1>udalloc size on ${escapeHtml(platform.name)}</h1>
${answer}
<p>Each probe replays the workloads with every request in its preferred heap and no fallback; the recommended size is the smallest with no failure (${result.probes} replays, placement ${result.policy}). One page less fails.</p>
${table}
${sections.join('\n')}`;
  return page(`udalloc size: ${platform.name}`, body, charts);
}
