// udalloc pipeline plan|alloc FILE: every buffer ring of a pipeline planned and placed together
// (src/pipeline/planner.ts); alloc then allocates each ring, shows it and releases it.

import { parseArgs } from 'node:util';
import { openSync } from '../allocator/allocator.js';
import { formatBytes } from '../constraints/units.js';
import { InputError } from '../errors.js';
import { didYouMean } from '../util/suggest.js';
import { loadPipeline } from '../pipeline/description.js';
import { allocatePipeline } from '../pipeline/allocate.js';
import { planPipeline } from '../pipeline/planner.js';
import { conflictJson, conflictText, planJson, planText } from '../pipeline/report.js';
import { backendHelp, platformFromOption, platformHelp } from './platform-option.js';
import type { BackendChoice } from '../allocator/backend-select.js';

const HELP = `usage: udalloc pipeline plan FILE [--platform P] [--json]
       udalloc pipeline alloc FILE [--platform P] [--backend B] [--json]

A pipeline file names its edges: streams from one device to one or more, each with a frame size,
a ring depth (buffers in flight; 4 when not given) and optional formats, and the devices that may convert between
two buffers (converters: [gpu, cpu]). plan gives every ring its layout and heap, with a conversion
step where an edge's devices share none (fewest steps, then least memory), placed together in the
pools; alloc allocates every ring, shows the buffers and releases them.

${platformHelp}
${backendHelp}
  --json                print one JSON object instead of text

exit codes: 0 planned, 3 conflict (the edge or the pools, with fixes), 2 bad input, 4 allocation failed`;

export const pipelineOptions = { platform: { type: 'string' }, backend: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

export function pipelineCommand(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: pipelineOptions, strict: true, allowPositionals: true });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const [action, file, ...extra] = positionals;
  if (action !== 'plan' && action !== 'alloc') throw new InputError(`pipeline: expected "plan" or "alloc" then a pipeline file, got ${action === undefined ? 'nothing' : JSON.stringify(action)}${action === undefined ? '' : didYouMean(action, ['plan', 'alloc'])} (udalloc pipeline --help)`, 'action', action);
  if (file === undefined) throw new InputError(`pipeline ${action}: the pipeline file is missing (udalloc pipeline ${action} FILE)`, 'file', undefined);
  if (extra.length > 0) throw new InputError(`pipeline ${action}: one pipeline file at a time, got also ${extra.join(' ')}`, 'file', extra[0]);
  const platform = platformFromOption(values.platform);
  const spec = loadPipeline(file, platform);
  const result = planPipeline(platform, spec);
  if (!result.ok) {
    if (values.json) process.stdout.write(`${JSON.stringify({ conflict: conflictJson(result.conflict) })}\n`);
    else process.stderr.write(`${conflictText(result.conflict)}\n`);
    return 3;
  }
  if (action === 'plan') {
    process.stdout.write(values.json ? `${JSON.stringify({ plan: planJson(result.plan) })}\n` : `${planText(result.plan)}\n`);
    return 0;
  }
  // alloc: every ring in the order it was placed, on the chosen backend; then all released.
  const dev = openSync({ platform, backend: (values.backend ?? 'auto') as BackendChoice });
  try {
    const rings = allocatePipeline(dev, result.plan);
    const all = rings.flatMap((r) => r.buffers);
    const held = rings.map(({ ring, buffers }) => ({ ring: ring.part === 'edge' ? ring.edge : `${ring.edge}/${ring.part}`, fds: buffers.map((b) => b.fd), heap: buffers.used.heap.describe().name, size: buffers.used.size }));
    if (values.json) process.stdout.write(`${JSON.stringify({ plan: planJson(result.plan), backend: dev.backend.kind, allocated: held })}\n`);
    else process.stdout.write(`${planText(result.plan)}\nallocated on the ${dev.backend.kind} backend:\n${held.map((h) => `  ${h.ring}: ${h.fds.length} x ${formatBytes(h.size)} in ${h.heap} (fds ${h.fds.join(', ')})`).join('\n')}\nreleased.\n`);
    for (const b of all) b.close();
    return 0;
  } finally {
    dev.close();
  }
}
