// udalloc pools: each CMA area's live state (src/pools/): size, used, free, the largest free run,
// the largest buffer that can be allocated now (its alignment counted), fragmentation, failures
// since boot, who holds the heap's dma-bufs; --map draws the area; --fit answers whether buffers
// fit now, and where, with the kernel's own first fit run on the live bitmap.

import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkOutputPath } from './output-file.js';
import { poolsHtml } from '../pools/html.js';
import { PAGE_SIZE } from '../constraints/model.js';
import { DEFAULT_CMA_NAMES } from '../constraints/heap-kinds/index.js';
import { formatBytes } from '../constraints/units.js';
import { InputError } from '../errors.js';
import { didYouMean } from '../util/suggest.js';
import { readCmaState, type CmaAreaState } from '../pools/read.js';
import { areaReport, fitNow, whyNoFit, type AreaReport, type DebugState } from '../pools/analyse.js';
import { parseFitSpec } from '../pools/fit-spec.js';
import { holdersOf, type AreaHolder } from '../pools/holders.js';
import { scanUsage } from '../service/usage.js';
import { cmaAlignmentOf } from '../pools/cma-alignment.js';

const HELP = `usage: udalloc pools [--map] [--html FILE] [--fit SPEC [--area NAME]] [--json] [--root DIR]

Each CMA area as the kernel sees it now: size, used, free, the largest free run, the largest buffer
that can be allocated now (a buffer must start aligned for its size: up to 1 MiB, so this is less
than the largest run), fragmentation, allocation failures since boot, and the processes holding
the area's dma-bufs. Reads /sys/kernel/debug/cma (root, debugfs mounted), /sys/kernel/mm/cma and
/proc/meminfo; says what it could not read.

  --map          draw each area: one character per block of pages (# used, . free, + both)
  --html FILE    write the areas as a picture (rows of pages, every used run drawn) with their numbers
  --fit SPEC     would these buffers fit now, and where: the kernel's first fit (mm/cma.c) on the
                 live bitmap. SPEC: COUNTxWIDTHxHEIGHT:FORMAT (linear, unpadded) or COUNTxSIZE,
                 e.g. 4x3840x2160:NV12 or 4x8MiB. Exit 0 yes, 3 no
  --area NAME    the area --fit asks (default: the default CMA area, or the only one)
  --json         one JSON object
  --root DIR     read a recorded tree (DIR/sys, DIR/proc) instead of this machine`;

export const poolsOptions = {
  map: { type: 'boolean' },
  html: { type: 'string' },
  fit: { type: 'string' },
  area: { type: 'string' },
  json: { type: 'boolean' },
  root: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const MAP_WIDTH = 64;

/** One character per block of pages: # all used, . all free, + some of each. */
export function mapLines(d: DebugState, width = MAP_WIDTH, rows = 8): string[] {
  const per = 2 ** d.orderPerBit;
  const cells = Math.min(d.bitmap.length, width * rows);
  const bitsPerCell = d.bitmap.length / cells;
  let text = '';
  for (let c = 0; c < cells; c++) {
    let used = 0;
    const from = Math.floor(c * bitsPerCell);
    const to = Math.floor((c + 1) * bitsPerCell);
    for (let i = from; i < to; i++) if (d.bitmap[i]) used++;
    text += used === 0 ? '.' : used === to - from ? '#' : '+';
  }
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += width) lines.push(text.slice(i, i + width));
  return [...lines, `(one character: ${formatBytes(bitsPerCell * per * PAGE_SIZE)}, ${Math.round(bitsPerCell * per)} pages)`];
}

function pickArea(areas: readonly CmaAreaState[], name: string | undefined): CmaAreaState {
  if (name !== undefined) {
    const found = areas.find((a) => a.name === name);
    if (!found) throw new InputError(`--area ${JSON.stringify(name)}: no CMA area of that name${didYouMean(name, areas.map((a) => a.name))} (areas: ${areas.map((a) => a.name).join(', ') || 'none'})`, 'area', name);
    return found;
  }
  const area = areas.find((a) => DEFAULT_CMA_NAMES.includes(a.name)) ?? (areas.length === 1 ? areas[0] : undefined);
  if (!area) throw new InputError(`--fit: ${areas.length === 0 ? 'this machine shows no CMA area' : `several CMA areas (${areas.map((a) => a.name).join(', ')}): say which with --area`}`, 'area', undefined);
  return area;
}

export function poolsCommand(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: poolsOptions, strict: true, allowPositionals: true });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new InputError(`pools: unexpected ${positionals.join(' ')} (udalloc pools --help)`, 'args', positionals[0]);
  const root = values.root ?? '/';
  if (values.root !== undefined && !existsSync(join(values.root, 'sys')) && !existsSync(join(values.root, 'proc'))) throw new InputError(`--root ${values.root}: ${existsSync(values.root) ? 'holds neither sys/ nor proc/' : 'does not exist'} (a recorded tree has DIR/sys/kernel/debug/cma, DIR/sys/kernel/mm/cma and DIR/proc/meminfo)`, 'root', values.root);
  if (values.html !== undefined) checkOutputPath(values.html, '--html');
  const sizes = values.fit !== undefined ? parseFitSpec(values.fit) : undefined;
  const state = readCmaState(root);
  const alignment = cmaAlignmentOf(root);

  if (sizes) {
    const area = pickArea(state.areas, values.area);
    if (!area.debug) throw new InputError(`--fit: area ${area.name} has no bitmap to fit against: ${state.missing.join('; ')}`, 'fit', values.fit);
    const fit = fitNow(area.name, area.debug, sizes, alignment.order);
    const total = sizes.reduce((a, b) => a + b, 0);
    if (values.json) {
      const why = fit.failed !== undefined ? whyNoFit(fit.after, sizes[fit.failed]!, alignment.order) : undefined;
      process.stdout.write(`${JSON.stringify({ area: area.name, fits: fit.failed === undefined, buffers: sizes.map((size, i) => ({ size, pfn: fit.pfns[i] ?? null })), ...(why ? { failed: fit.failed, why } : {}) })}\n`);
    } else if (fit.failed === undefined) {
      const lines = [`yes: ${sizes.length} buffer(s), ${formatBytes(total)}, fit in ${area.name} now:`];
      sizes.forEach((size, i) => lines.push(`  buffer ${i}: ${formatBytes(size)} at pfn 0x${fit.pfns[i]!.toString(16)} (${formatBytes((fit.pfns[i]! - area.debug!.basePfn) * PAGE_SIZE)} into the area)`));
      process.stdout.write(`${lines.join('\n')}\n`);
    } else {
      const size = sizes[fit.failed]!;
      const why = whyNoFit(fit.after, size, alignment.order);
      const lines = [`no: buffer ${fit.failed} of ${sizes.length} (${formatBytes(size)}) finds no room in ${area.name}${fit.failed > 0 ? ` once the ${fit.failed} before it are placed` : ''}:`];
      sizes.slice(0, fit.failed).forEach((s, i) => lines.push(`  buffer ${i}: ${formatBytes(s)} at pfn 0x${fit.pfns[i]!.toString(16)}`));
      const free = `${formatBytes(why.free)} free${fit.failed > 0 ? ' after them' : ' now'}`;
      lines.push(why.kind === 'exhausted' ? `  exhausted: ${free}, less than the buffer` : `  fragmented: ${free}, but the longest free run starting ${formatBytes(why.align)}-aligned (as a buffer of this size must) is ${formatBytes(why.alignedRun)}`);
      const freeNow = (area.debug.pages - area.debug.usedPages) * PAGE_SIZE;
      if (total > freeNow) lines.push(`  and the ${sizes.length} buffers ask ${formatBytes(total)} in all, more than the ${formatBytes(freeNow)} free: fewer or smaller buffers, or a larger area`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return fit.failed === undefined ? 0 : 3;
  }

  const usage = scanUsage(root);
  const reports = state.areas.map((a) => ({ area: a, report: a.debug ? areaReport(a.name, a.debug, alignment.order) : undefined, holders: holdersOf(usage, a.name) }));
  if (values.html !== undefined) {
    writeFileSync(values.html, poolsHtml(reports, state.missing, new Date().toISOString().slice(0, 16).replace('T', ' ')));
    if (!values.json) process.stdout.write(`wrote ${values.html}\n`);
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ areas: reports.map(({ area, report, holders }) => ({ name: area.name, ...(report ?? {}), counters: area.counters ?? null, holders, ...(values.map && area.debug ? { map: mapLines(area.debug) } : {}) })), cmaTotal: state.total ?? null, cmaFree: state.free ?? null, cmaAlignment: alignment, missing: state.missing })}\n`);
    return 0;
  }
  const lines: string[] = [];
  if (state.areas.length === 0) lines.push(`no CMA area shows in ${join(root, 'sys/kernel/debug/cma')} or ${join(root, 'sys/kernel/mm/cma')}`);
  for (const { area, report, holders } of reports) lines.push(...areaText(area, report, holders, values.map === true));
  if (state.areas.some((a) => a.debug)) lines.push(`CMA buffers align to at most order ${alignment.order} (${formatBytes(2 ** alignment.order * PAGE_SIZE)}): CONFIG_CMA_ALIGNMENT from ${alignment.source}`);
  if (state.total !== undefined) lines.push(`/proc/meminfo: CmaTotal ${formatBytes(state.total)}, CmaFree ${formatBytes(state.free ?? 0)} (every area together)`);
  for (const m of state.missing) lines.push(`missing: ${m}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function areaText(area: CmaAreaState, r: AreaReport | undefined, holders: readonly AreaHolder[], map: boolean): string[] {
  const lines = [`${area.name}:`];
  if (r) {
    lines.push(`  ${formatBytes(r.size)} at 0x${r.base.toString(16)}: used ${formatBytes(r.used)}, free ${formatBytes(r.free)}`);
    lines.push(`  largest free run ${formatBytes(r.largestRun)}; largest buffer that can be allocated now ${formatBytes(r.largestBuffer)} (it must start aligned for its size)`);
    lines.push(`  fragmentation ${Math.round(r.fragmentation * 100)}% (1 - largest buffer / free)`);
  } else lines.push('  no bitmap (see missing below): size, use and runs unknown');
  if (area.counters) {
    const c = area.counters;
    const n = (v: number | undefined) => (v === undefined ? '?' : String(v));
    lines.push(`  since boot: ${n(c.allocSuccess)} pages allocated, ${n(c.allocFail)} pages failed, ${n(c.releaseSuccess)} pages released`);
  }
  if (holders.length === 0) lines.push('  no process holds a dma-buf of this heap (that this user may see)');
  else lines.push(`  held by: ${holders.map((h) => `${h.comm} (pid ${h.pid}) ${h.buffers} buffer(s), ${formatBytes(h.bytes)}`).join('; ')}`);
  if (map && area.debug) lines.push(...mapLines(area.debug).map((l) => `  ${l}`));
  return lines;
}
