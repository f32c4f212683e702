// `udalloc pools --html`: each CMA area drawn as a picture (an SVG, rows of pages, every used run
// a rectangle carrying its first page and length) with its numbers, in one self-contained page.

import { formatBytes } from '../constraints/units.js';
import { usedBitRuns, type AreaReport, type DebugState } from './analyse.js';
import type { AreaHolder } from './holders.js';
import type { CmaAreaState } from './read.js';

const ROW_PX = 1024;
const ROW_HEIGHT = 14;

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function areaSvg(d: DebugState): string {
  // Rows of a power-of-two number of pages, so that 1 MiB boundaries line up.
  const rowPages = Math.max(256, 2 ** Math.ceil(Math.log2(Math.ceil(d.pages / 64))));
  const rows = Math.ceil(d.pages / rowPages);
  const scale = ROW_PX / rowPages;
  const rects: string[] = [];
  const per = 2 ** d.orderPerBit;
  for (const bitRun of usedBitRuns(d)) {
    const run = { start: bitRun.start * per, pages: bitRun.bits * per };
    // A run crossing rows is drawn as one rectangle per row; each says which run it belongs to.
    for (let at = run.start; at < run.start + run.pages; ) {
      const row = Math.floor(at / rowPages);
      const end = Math.min(run.start + run.pages, (row + 1) * rowPages);
      rects.push(`<rect class="used" data-run="${run.start}" data-start="${at}" data-pages="${end - at}" x="${((at - row * rowPages) * scale).toFixed(2)}" y="${row * ROW_HEIGHT}" width="${((end - at) * scale).toFixed(2)}" height="${ROW_HEIGHT - 2}"/>`);
      at = end;
    }
  }
  const background = Array.from({ length: rows }, (_, row) => `<rect class="free" x="0" y="${row * ROW_HEIGHT}" width="${(Math.min(rowPages, d.pages - row * rowPages) * scale).toFixed(2)}" height="${ROW_HEIGHT - 2}"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${ROW_PX}" height="${rows * ROW_HEIGHT}" data-row-pages="${rowPages}" role="img" aria-label="page map">${background.join('')}${rects.join('')}</svg><p class="legend">one row: ${formatBytes(rowPages * 4096)} (${rowPages} pages); dark: in use</p>`;
}

export function poolsHtml(areas: ReadonlyArray<{ area: CmaAreaState; report: AreaReport | undefined; holders: readonly AreaHolder[] }>, missing: readonly string[], when: string): string {
  const sections = areas.map(({ area, report: r, holders }) => {
    const data = r ? ` data-size="${r.size}" data-used="${r.used}" data-free="${r.free}" data-largest-run="${r.largestRun}" data-largest-buffer="${r.largestBuffer}" data-fragmentation="${r.fragmentation}"` : '';
    const numbers = r ? `<p>${formatBytes(r.size)} at 0x${r.base.toString(16)}: used ${formatBytes(r.used)}, free ${formatBytes(r.free)}; largest free run ${formatBytes(r.largestRun)}; largest buffer that can be allocated now ${formatBytes(r.largestBuffer)}; fragmentation ${Math.round(r.fragmentation * 100)}%</p>` : '<p>no bitmap: debugfs unreadable</p>';
    const held = holders.length === 0 ? '<p>no process holds a dma-buf of this heap</p>' : `<table><tr><th>process</th><th>pid</th><th>buffers</th><th>bytes</th></tr>${holders.map((h) => `<tr><td>${escape(h.comm)}</td><td>${h.pid}</td><td>${h.buffers}</td><td>${formatBytes(h.bytes)}</td></tr>`).join('')}</table>`;
    return `<section class="area" data-name="${escape(area.name)}"${data}><h2>${escape(area.name)}</h2>${numbers}${area.debug ? areaSvg(area.debug) : ''}${held}</section>`;
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>udalloc pools</title><style>
body{font:14px system-ui,sans-serif;margin:1.5em}svg{display:block;margin:.5em 0}rect.free{fill:#e8eef4}rect.used{fill:#2b5d8a}table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}.legend{color:#555;font-size:12px}
</style></head><body data-ready="true"><h1>CMA areas, ${escape(when)}</h1>${sections.join('')}${missing.map((m) => `<p class="missing">missing: ${escape(m)}</p>`).join('')}</body></html>
`;
}
