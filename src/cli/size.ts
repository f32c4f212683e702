// udalloc size: the smallest size of each fixed pool (CMA, carveout, secure) that serves every
// given workload with zero failures, under each placement policy, as a ratio to peak live bytes.

import { parseArgs } from 'node:util';
import { cmaAreaSize } from '../constraints/heap-kinds/index.js';
import { formatAddress, formatBytes } from '../constraints/units.js';
import type { Platform } from '../constraints/model.js';
import { sizePools, type SizingResult } from '../sim/sizing.js';
import { replay } from '../sim/replay.js';
import { sizingReportHtml } from '../sim/report-html.js';
import { checkOutputPath, writeOutput } from './output-file.js';
import { platformFromOption, platformHelp } from './platform-option.js';
import { progressBar } from './progress.js';
import { loadWorkloads, policiesFrom, workloadHelp, workloadOptions } from './workload-options.js';

const HELP = `usage: udalloc size [--platform FILE] (--trace FILE | --scenario NAME)... [--policy P|all] [--json] [--html FILE]

Replays the workloads with each request in its preferred heap and finds, for every fixed pool, the
smallest size with no failure (each probe is a full replay). 1.0 in the ratio column is the
physical limit (peak live bytes); above it is page rounding, alignment and fragmentation.

${platformHelp}
  --policy P            first-fit (Linux), best-fit, or all (default: all)
  --json                print one JSON object instead of text
  --html FILE           also write a self-contained HTML report: each pool's occupancy at the
                        recommended size, against that size and today's, with today's failures
  --allow-unserved      give sizes even when some requests have no plan at any pool size (they
                        are left out); without it such a workload gets no size and exit code 3
${workloadHelp}`;

/** cma= takes a size with a suffix: the size the area will really have, in whole pageblocks (placement.ts). */
const cmaArg = (bytes: number) => `${cmaAreaSize(bytes) / 2 ** 20}M`;

/** A pool grown past a DMA limit is no longer reachable by the devices that needed it. */
/** The command's flags (parseArgs options); main.ts suggests the closest one for a typo. */
export const sizeOptions = { ...workloadOptions, platform: { type: 'string' }, json: { type: 'boolean' }, html: { type: 'string' }, 'allow-unserved': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

/** How many distinct unserved requests are shown (the rest are counted). */
const UNSERVED_SHOWN = 5;

/**
 * The requests no pool size can serve, each distinct one once with how often it occurs and why
 * (the conflict's first fix, or what hardware would have to change).
 */
function unservedText(results: readonly SizingResult[]): string[] {
  const none = results[0]!.unplannable;
  const byRequest = new Map<string, { first: (typeof none)[number]; times: number }>();
  for (const u of none) {
    const seen = byRequest.get(u.request);
    if (seen) seen.times++;
    else byRequest.set(u.request, { first: u, times: 1 });
  }
  const lines = [...byRequest.values()].slice(0, UNSERVED_SHOWN).map(({ first, times }) => `  ${first.trace}:${first.line}${times > 1 ? ` (and ${times - 1} more like it)` : ''}: ${first.request}: ${first.reason}`);
  if (byRequest.size > UNSERVED_SHOWN) lines.push(`  ... and ${byRequest.size - UNSERVED_SHOWN} other request(s)`);
  return lines;
}

/** A pool placed at boot below a limit (alloc-ranges, cma=...@start-end) that must be larger than the range. */
function tooLargeForItsRange(heap: Platform['heaps'][number], size: number): boolean {
  return heap.base === undefined && Number.isFinite(heap.end) && size > heap.end;
}

/** Pools a workload needs larger than the place they must lie in: no boot setting gives them. */
function impossiblePools(platform: Platform, results: readonly SizingResult[]): string[] {
  return results.flatMap((r) => r.pools.filter((p) => p.size > 0 && tooLargeForItsRange(platform.heaps.find((h) => h.name === p.name)!, p.size)).map((p) => p.name));
}

export function reachWarnings(platform: Platform, results: readonly SizingResult[]): string[] {
  const warnings: string[] = [];
  for (const r of results) {
    for (const p of r.pools) {
      const heap = platform.heaps.find((h) => h.name === p.name)!;
      if (p.size === 0) continue;
      const ram = platform.heaps.filter((h) => h.kind === 'system').reduce((sum, h) => sum + h.size, 0);
      if (ram > 0 && p.size > ram) warnings.push(`${p.name} needs ${formatBytes(p.size)} (${r.policy}), more than the ${formatBytes(ram)} of RAM the profile gives the system heap`);
      if (heap.base === undefined) {
        if (tooLargeForItsRange(heap, p.size)) {
          // Widening the range helps only if every device without an IOMMU reaches above it.
          const limited = platform.devices.filter((d) => !d.iommu && d.dmaBits !== undefined && 2 ** d.dmaBits <= heap.end).map((d) => `${d.name} (${d.dmaBits}-bit DMA)`);
          warnings.push(`${p.name} needs ${formatBytes(p.size)} (${r.policy}) but must sit below ${formatAddress(heap.end)}, and no pool that large fits there: ${limited.length > 0 ? `${limited.join(', ')} reach only below it, so split the workload (fewer or smaller buffers)` : 'widen its alloc-ranges or split the workload'}`);
        }
        continue;
      }
      const end = heap.base + p.size;
      for (const d of platform.devices) {
        if (d.iommu || d.dmaBits === undefined || end <= 2 ** d.dmaBits) continue;
        warnings.push(`${p.name} at ${formatAddress(heap.base)} with ${formatBytes(p.size)} (${r.policy}) ends at ${formatAddress(end)}, above ${d.name}'s ${d.dmaBits}-bit DMA limit: move the pool lower or split the workload`);
      }
    }
  }
  return [...new Set(warnings)];
}

/** How to give the kernel's first-fit CMA area the size found, at boot. */
function bootAdvice(results: readonly SizingResult[]): string | undefined {
  const kernel = results.find((r) => r.policy === 'first-fit');
  const cma = kernel?.pools.find((p) => p.kind === 'cma' && p.size > 0);
  return cma ? `for the kernel's first-fit CMA: boot with cma=${cmaArg(cma.size)} (or size the ${cma.name} reserved-memory node to 0x${cmaAreaSize(cma.size).toString(16)}: ${cma.size} bytes rounded up to whole 2 MiB pageblocks, which CMA regions must be)` : undefined;
}

function resultText(platform: Platform, results: readonly SizingResult[], workloads: string[], allowUnserved: boolean): string {
  const lines = [`workloads: ${workloads.join(', ')}`];
  const none = results[0]!.unplannable;
  if (none.length > 0 && !allowUnserved) {
    // A size that serves part of a workload does not answer how big the pools must be.
    lines.push(`no pool size serves these workloads: ${none.length} request(s) have no plan at any pool size:`, ...unservedText(results));
    lines.push('fix those requests (or the profile), or give --allow-unserved for the sizes the other requests need');
    return lines.join('\n');
  }
  if (none.length > 0) lines.push(`warning: ${none.length} request(s) have no plan at any pool size and are left out of the sizes (--allow-unserved):`, ...unservedText(results));
  const pools = results[0]!.pools.filter((p) => p.size > 0);
  if (pools.length === 0) return `${lines.join('\n')}\nno fixed pool (CMA, carveout, secure) is used by these workloads`;
  const header = ['POOL', 'KIND', 'PROFILE', 'PEAK LIVE', ...results.flatMap((r) => [`MIN (${r.policy})`, 'RATIO'])];
  const rows = pools.map((p) => [p.name, p.kind, formatBytes(p.profileSize), formatBytes(p.peakLive), ...results.flatMap((r) => {
    const q = r.pools.find((x) => x.name === p.name)!;
    return [`${q.size} (${formatBytes(q.size)})`, q.ratio.toFixed(3)];
  })]);
  const widths = header.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [header, ...rows]) lines.push(`  ${row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}`);
  for (const r of results) lines.push(`${r.policy}: ${r.probes} replays; each size passes and one page less fails`);
  for (const w of reachWarnings(platform, results)) lines.push(`warning: ${w}`);
  // No cma= line for a size that cannot exist where the pool must lie.
  const advice = impossiblePools(platform, results).length === 0 ? bootAdvice(results) : undefined;
  if (advice) lines.push(advice);
  return lines.join('\n');
}

export function sizeCommand(args: string[]): number {
  const { values } = parseArgs({ args, options: sizeOptions, strict: true, allowPositionals: false });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.html !== undefined) checkOutputPath(values.html, '--html');
  const platform = platformFromOption(values.platform);
  const policies = policiesFrom(values.policy, true);
  const traces = loadWorkloads(values, platform);
  const progress = progressBar(!values.json);
  const results = policies.map((policy) => sizePools(platform, traces, { policy, onProbe: (n) => progress.update(n, n + 1, `sizing (${policy}): replay ${n}`) }));
  progress.done();
  const allowUnserved = values['allow-unserved'] === true;
  const served = results[0]!.unplannable.length === 0;
  if (values.html !== undefined) {
    // The picture of the answer: each trace replayed at the recommended sizes and at today's.
    const result = results.find((r) => r.policy === 'first-fit') ?? results[0]!;
    const sizes = new Map(result.pools.filter((p) => p.size > 0).map((p) => [p.name, p.size]));
    const replays = traces.map((t) => ({
      trace: t.origin,
      atRecommended: replay(platform, t, { sizes, planUnbounded: true, fallback: false, heapMap: true }),
      atProfile: replay(platform, t, { planUnbounded: true, fallback: false, samples: 1 }),
    }));
    writeOutput(values.html, sizingReportHtml(platform, result, replays, served || allowUnserved ? bootAdvice(results) : undefined), '--html');
    if (!values.json) process.stderr.write(`udalloc: wrote ${values.html}\n`);
  }
  if (values.json) process.stdout.write(`${JSON.stringify({ platform: platform.origin, workloads: traces.map((t) => t.origin), served, results, warnings: reachWarnings(platform, results) })}\n`);
  else process.stdout.write(`${resultText(platform, results, traces.map((t) => t.origin), allowUnserved)}\n`);
  // Requests no pool size serves, or a pool larger than where it must lie, are a conflict (unless
  // the user said to size the rest).
  if (impossiblePools(platform, results).length > 0) return 3;
  return served || allowUnserved ? 0 : 3;
}
