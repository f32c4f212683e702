// udalloc simulate: replay traces or scenarios on the simulated kernel through the solver and
// allocator; report per heap peaks, failures, fallbacks and fragmentation.

import { parseArgs } from 'node:util';
import { reportHtml } from '../sim/report-html.js';
import { checkOutputPath, writeOutput } from './output-file.js';
import { formatBytes } from '../constraints/units.js';
import { replay, type ReplayReport } from '../sim/replay.js';
import { platformFromOption, platformHelp } from './platform-option.js';
import { progressBar } from './progress.js';
import { loadWorkloads, policiesFrom, workloadHelp, workloadOptions } from './workload-options.js';

const HELP = `usage: udalloc simulate [--platform FILE] (--trace FILE | --scenario NAME)... [--policy P] [--json] [--html FILE]

${platformHelp}
  --policy P            placement in contiguous pools: first-fit (Linux, default) or best-fit
  --json                print one JSON object (with fragmentation samples) instead of text
  --html FILE           also write a self-contained HTML report with charts and heap maps
${workloadHelp}
Exits 3 when a request fails or is not held by the heap it prefers (a pool too small: the same
count \`udalloc size\` holds to zero), 0 when the pools hold the whole workload as it prefers.`;

function reportText(r: ReplayReport): string {
  const noPlan = r.failures.filter((f) => f.heap === undefined).length;
  const lines = [`${r.trace}: ${r.events} events, policy ${r.policy}, ${r.failures.length} failure(s)${noPlan > 0 ? ` (${noPlan} with no plan, in no heap's FAILED)` : ''}, ${r.fallbacks} fallback(s), ${r.short} request(s) not held by the heap they prefer`];
  const header = ['HEAP', 'KIND', 'CAPACITY', 'ALLOCS', 'PEAK LIVE', 'PEAK USED', 'HIGH WATER', 'FAILED', 'FALLBACK OUT/IN', 'SHORT', 'WORST LARGEST FREE'];
  const rows = r.heaps.map((h) => {
    const worst = h.samples.reduce((m, s) => Math.min(m, s.largestFree), Infinity);
    return [h.name, h.kind, formatBytes(h.capacity), String(h.allocations), formatBytes(h.peakLive), formatBytes(h.peakUsed), h.highWater === undefined ? '-' : formatBytes(h.highWater), String(h.failures), `${h.fallbacksFrom}/${h.fallbacksTo}`, String(h.short), worst === Infinity ? '-' : formatBytes(worst)];
  });
  const widths = header.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [header, ...rows]) lines.push(`  ${row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}`);
  if (r.failures.length > 0) {
    lines.push(`failures${r.failures.length > 20 ? ' (first 20)' : ''}:`);
    for (const f of r.failures.slice(0, 20)) lines.push(`  line ${f.line}, t=${f.t}s, ${f.id}: ${f.request}: ${f.reason}`);
  }
  const short = r.heaps.filter((h) => h.short > 0);
  if (short.length > 0) lines.push(`too small for this workload (SHORT: requests that prefer the heap and did not get it; \`udalloc size\` finds the sizes with none): ${short.map((h) => `${h.name} (${h.short})`).join(', ')}`);
  return lines.join('\n');
}

/** The command's flags (parseArgs options); main.ts suggests the closest one for a typo. */
export const simulateOptions = { ...workloadOptions, platform: { type: 'string' }, json: { type: 'boolean' }, html: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

export function simulateCommand(args: string[]): number {
  const { values } = parseArgs({ args, options: simulateOptions, strict: true, allowPositionals: false });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.html !== undefined) checkOutputPath(values.html, '--html');
  const platform = platformFromOption(values.platform);
  const [policy] = policiesFrom(values.policy, false);
  const traces = loadWorkloads(values, platform);
  const progress = progressBar(!values.json);
  const reports = traces.map((trace) => replay(platform, trace, { policy, heapMap: values.html !== undefined, onProgress: (done, total) => progress.update(done, total, `replaying ${trace.origin}`) }));
  progress.done();
  if (values.html !== undefined) {
    writeOutput(values.html, reportHtml(platform.name, reports), '--html');
    if (!values.json) process.stderr.write(`udalloc: wrote ${values.html}\n`);
  }
  if (values.json) process.stdout.write(`${JSON.stringify({ platform: platform.origin, reports })}\n`);
  else process.stdout.write(`${reports.map(reportText).join('\n\n')}\n`);
  // A workload the pools do not hold as it prefers, or that fails, is the answer "no": exit 3.
  return reports.some((r) => r.failures.length > 0 || r.short > 0) ? 3 : 0;
}
