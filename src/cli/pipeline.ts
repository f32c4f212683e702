// udalloc pipeline plan|alloc FILE: every buffer ring of a pipeline planned and placed together
// (src/pipeline/planner.ts); alloc then allocates each ring, shows it and releases it.

import { parseArgs } from 'node:util';
import { openSync } from '../allocator/allocator.js';
import { formatBytes } from '../constraints/units.js';
import { InputError } from '../errors.js';
import { loadPipeline } from '../pipeline/description.js';
import { allocatePipeline } from '../pipeline/allocate.js';
import { planPipeline, type PipelineConflict, type PipelinePlan } from '../pipeline/planner.js';
import { backendHelp, platformFromOption, platformHelp } from './platform-option.js';
import type { BackendChoice } from '../allocator/backend-select.js';

const HELP = `usage: udalloc pipeline plan FILE [--platform P] [--json]
       udalloc pipeline alloc FILE [--platform P] [--backend B] [--json]

A pipeline file names its edges: streams from one device to one or more, each with a frame size,
a ring depth (buffers in flight) and optional formats, and the devices that may convert between
two buffers (converters: [gpu, cpu]). plan gives every ring its layout and heap, with a conversion
step where an edge's devices share none (fewest steps, then least memory), placed together in the
pools; alloc allocates every ring, shows the buffers and releases them.

${platformHelp}
${backendHelp}
  --json                print one JSON object instead of text

exit codes: 0 planned, 3 conflict (the edge or the pools, with fixes), 2 bad input, 4 allocation failed`;

export const pipelineOptions = { platform: { type: 'string' }, backend: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

function planJson(plan: PipelinePlan): Record<string, unknown> {
  return {
    name: plan.name,
    rings: plan.rings.map((r) => ({ edge: r.edge, part: r.part, producer: r.producer, consumers: r.consumers, depth: r.choice.count, heap: r.choice.heap.describe().name, heapKind: r.choice.heap.describe().kind, format: r.choice.format, modifier: r.choice.modifier, width: r.choice.width, height: r.choice.height, size: r.choice.size, planes: r.choice.planes, bytes: r.bytes })),
    steps: plan.steps,
    pools: plan.pools,
    bytes: plan.bytes,
  };
}

function planText(plan: PipelinePlan): string {
  const lines = [`pipeline ${plan.name}: ${plan.rings.length} ring(s), ${plan.steps.length} conversion step(s), ${formatBytes(plan.bytes)} in all`];
  for (const r of plan.rings) {
    const where = r.part === 'edge' ? r.edge : `${r.edge} (${r.part === 'in' ? 'into' : 'out of'} its conversion step)`;
    lines.push(`  ${where}: ${r.producer} -> ${r.consumers.join(', ')}`, `      ${r.choice.count} x ${r.choice.format} ${r.choice.modifier} ${r.choice.width}x${r.choice.height} in ${r.choice.heap.describe().name}, ${formatBytes(r.choice.size)} each (pitch ${r.choice.planes.map((p) => p.pitch).join('/')}), ${formatBytes(r.bytes)}`);
  }
  for (const s of plan.steps) lines.push(`  conversion step on edge ${s.edge}: ${s.converter} converts ${s.from} to ${s.to}`);
  lines.push('pools:');
  for (const p of plan.pools) lines.push(`  ${p.heap} (${p.kind}): ${formatBytes(p.bytes)} of ${formatBytes(p.capacity)}`);
  return lines.join('\n');
}

function conflictText(c: PipelineConflict): string {
  const lines = [`conflict: ${c.why}`];
  if (c.constraints.length > 0) lines.push('these constraints cannot all hold together:', ...c.constraints.map((l) => `  ${l}`));
  lines.push(c.fixes.length > 0 ? 'fixes (each one alone plans and places the whole pipeline on the simulated kernel):' : 'no fix found: the edge needs a device that can take its buffers, or a converter');
  for (const f of c.fixes) lines.push(`  - ${f.text}`);
  return lines.join('\n');
}

export function pipelineCommand(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: pipelineOptions, strict: true, allowPositionals: true });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const [action, file, ...extra] = positionals;
  if (action !== 'plan' && action !== 'alloc') throw new InputError(`pipeline: expected "plan" or "alloc" then a pipeline file, got ${action === undefined ? 'nothing' : JSON.stringify(action)} (udalloc pipeline --help)`, 'action', action);
  if (file === undefined) throw new InputError(`pipeline ${action}: the pipeline file is missing (udalloc pipeline ${action} FILE)`, 'file', undefined);
  if (extra.length > 0) throw new InputError(`pipeline ${action}: one pipeline file at a time, got also ${extra.join(' ')}`, 'file', extra[0]);
  const platform = platformFromOption(values.platform);
  const spec = loadPipeline(file, platform);
  const result = planPipeline(platform, spec);
  if (!result.ok) {
    if (values.json) process.stdout.write(`${JSON.stringify({ conflict: { edge: result.conflict.edge ?? null, why: result.conflict.why, constraints: result.conflict.constraints, fixes: result.conflict.fixes.map((f) => f.text) } })}\n`);
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
