// A pipeline plan or conflict as people and programs read it: the CLI prints these, the service
// replies with them.

import { formatBytes } from '../constraints/units.js';
import type { PipelineConflict, PipelinePlan } from './planner.js';

export function planJson(plan: PipelinePlan): Record<string, unknown> {
  return {
    name: plan.name,
    rings: plan.rings.map((r) => ({ edge: r.edge, part: r.part, producer: r.producer, consumers: r.consumers, depth: r.choice.count, heap: r.choice.heap.describe().name, heapKind: r.choice.heap.describe().kind, format: r.choice.format, modifier: r.choice.modifier, width: r.choice.width, height: r.choice.height, size: r.choice.size, planes: r.choice.planes, bytes: r.bytes })),
    steps: plan.steps,
    pools: plan.pools,
    bytes: plan.bytes,
  };
}

export function planText(plan: PipelinePlan): string {
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

export function conflictText(c: PipelineConflict): string {
  const lines = [`conflict: ${c.why}`];
  if (c.constraints.length > 0) lines.push('these constraints cannot all hold together:', ...c.constraints.map((l) => `  ${l}`));
  lines.push(c.fixes.length > 0 ? 'fixes (each one alone plans and places the whole pipeline on the simulated kernel):' : 'no fix found: the edge needs a device that can take its buffers, or a converter');
  for (const f of c.fixes) lines.push(`  - ${f.text}`);
  return lines.join('\n');
}

/** A conflict as JSON: the edge (null: the pools), why, the constraints and the fixes' texts. */
export function conflictJson(c: PipelineConflict): Record<string, unknown> {
  return { edge: c.edge ?? null, why: c.why, constraints: c.constraints, fixes: c.fixes.map((f) => f.text) };
}
