// The replay report as one self-contained HTML file: per heap, occupancy and fragmentation over
// time (uPlot charts, the library inlined so the file works offline) and a heap map of where the
// buffers sat when the pool peaked (inline SVG).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { formatBytes } from '../constraints/units.js';
import type { HeapReport, ReplayReport } from './replay.js';

const require = createRequire(import.meta.url);

function asset(path: string): string {
  return readFileSync(require.resolve(path), 'utf8');
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON that is safe inside <script>: no "</script>" or "<!--" can appear. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly series: readonly string[];
  /** Column-major: x (seconds) then one array per series (MiB). */
  readonly data: readonly (readonly number[])[];
}

const MiB = 2 ** 20;

function chartsFor(traceIndex: number, h: HeapReport): ChartSpec[] {
  // One point per time: events at the same instant keep the last sample.
  const byTime = new Map<number, (typeof h.samples)[number]>();
  for (const s of h.samples) byTime.set(s.t, s);
  const samples = [...byTime.values()];
  const x = samples.map((s) => s.t);
  const mib = (f: (s: (typeof samples)[number]) => number) => samples.map((s) => +(f(s) / MiB).toFixed(4));
  return [
    { id: `t${traceIndex}-${h.name}-occupancy`, title: `${h.name}: occupancy (MiB)`, series: ['live bytes', 'allocated bytes'], data: [x, mib((s) => s.live), mib((s) => s.used)] },
    { id: `t${traceIndex}-${h.name}-fragmentation`, title: `${h.name}: fragmentation (MiB)`, series: ['free bytes', 'largest free block'], data: [x, mib((s) => s.free), mib((s) => s.largestFree)] },
  ];
}

function heapMapSvg(h: HeapReport): string {
  if (!h.peakMap || h.capacity === 0) return '';
  const width = 1000;
  const scale = (bytes: number) => (bytes / h.capacity) * width;
  const rects = h.peakMap
    .map((b, i) => `<rect class="buf" x="${scale(b.offset).toFixed(2)}" y="0" width="${Math.max(0.5, scale(b.size)).toFixed(2)}" height="40" fill="hsl(${(i * 47) % 360} 60% 55%)"><title>${escapeHtml(b.id)}: ${formatBytes(b.size)} at +0x${b.offset.toString(16)}</title></rect>`)
    .join('');
  const hw = h.highWater === undefined ? '' : `<line x1="${scale(h.highWater).toFixed(2)}" x2="${scale(h.highWater).toFixed(2)}" y1="0" y2="48" stroke="#c00" stroke-width="1.5"><title>high-water mark ${formatBytes(h.highWater)}</title></line>`;
  return `<figure><figcaption>${escapeHtml(h.name)}: buffers at the peak (${h.peakMap.length} buffers, ${formatBytes(h.peakUsed)} allocated; red line: high-water mark)</figcaption>
<svg class="heapmap" data-heap="${escapeHtml(h.name)}" viewBox="0 0 ${width} 48" width="${width}" height="48"><rect x="0" y="0" width="${width}" height="40" fill="#eee"/>${rects}${hw}</svg></figure>`;
}

function summaryTable(r: ReplayReport): string {
  const rows = r.heaps
    .map((h) => `<tr><td>${escapeHtml(h.name)}</td><td>${h.kind}</td><td>${formatBytes(h.capacity)}</td><td>${h.allocations}</td><td>${formatBytes(h.peakLive)}</td><td>${formatBytes(h.peakUsed)}</td><td>${h.highWater === undefined ? '-' : formatBytes(h.highWater)}</td><td>${h.failures}</td><td>${h.fallbacksFrom}/${h.fallbacksTo}</td></tr>`)
    .join('\n');
  return `<table><tr><th>heap</th><th>kind</th><th>capacity</th><th>allocations</th><th>peak live</th><th>peak allocated</th><th>high water</th><th>failures</th><th>fallbacks out/in</th></tr>\n${rows}</table>`;
}

/** A complete HTML document for the reports (one section per trace). */
export function reportHtml(platformName: string, reports: readonly ReplayReport[]): string {
  const charts: ChartSpec[] = [];
  const sections = reports.map((r, ti) => {
    const heaps = r.heaps.filter((h) => h.allocations > 0 || h.failures > 0);
    const blocks = heaps.map((h) => {
      const specs = chartsFor(ti, h);
      charts.push(...specs);
      return `<h3>${escapeHtml(h.name)} (${h.kind})</h3>\n${specs.map((c) => `<div class="chart" id="${escapeHtml(c.id)}"></div>`).join('\n')}\n${heapMapSvg(h)}`;
    });
    const failures = r.failures.length === 0 ? '<p>No allocation failed.</p>' : `<p>${r.failures.length} allocation(s) failed; the first:</p><ul>${r.failures.slice(0, 20).map((f) => `<li>line ${f.line}, t=${f.t}s, ${escapeHtml(f.id)}: ${escapeHtml(f.request)}: ${escapeHtml(f.reason)}</li>`).join('')}</ul>`;
    return `<section><h2>${escapeHtml(r.trace)}</h2><p>${r.events} events, placement ${r.policy}, ${r.fallbacks} fallback(s).</p>${summaryTable(r)}${failures}${blocks.join('\n')}</section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>udalloc replay: ${escapeHtml(platformName)}</title>
<style>${asset('uplot/dist/uPlot.min.css')}
body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.chart{margin:1em 0}</style>
</head><body>
<h1>udalloc replay on ${escapeHtml(platformName)}</h1>
${sections.join('\n')}
<script>${asset('uplot/dist/uPlot.iife.min.js')}</script>
<script type="application/json" id="charts">${scriptJson(charts)}</script>
<script>
(function () {
  var specs = JSON.parse(document.getElementById('charts').textContent);
  var colors = ['#1f77b4', '#ff7f0e'];
  window.udallocCharts = specs.map(function (spec) {
    var opts = {
      title: spec.title, width: 1000, height: 220,
      scales: { x: { time: false } },
      axes: [{ label: 'seconds' }, { label: 'MiB' }],
      series: [{ label: 't (s)' }].concat(spec.series.map(function (label, i) { return { label: label, stroke: colors[i % colors.length], width: 1.5 }; }))
    };
    var plot = new uPlot(opts, spec.data, document.getElementById(spec.id));
    return { id: spec.id, title: spec.title, series: spec.series, points: spec.data[0].length, plot: plot };
  });
  document.body.dataset.ready = 'true';
})();
</script>
</body></html>
`;
}
