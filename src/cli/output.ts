// Rendering of negotiation results: the --json shapes (stable, for scripts) and human text.

import { modifierHex, shortModifierName } from '../constraints/modifiers.js';
import { formatAddress, formatBytes } from '../constraints/units.js';
import type { Negotiation, Placement } from '../solver/index.js';
import { conflictLines } from '../solver/conflict-text.js';
import { modifierValueOf } from '../solver/solve.js';
import type { ChoiceExplanation } from '../solver/explain-choices.js';

export { planJson, atomJson, fixJson, conflictJson, negotiationJson } from '../solver/json.js';

function describePlan(p: Placement): string {
  return `${p.format.name} ${shortModifierName(p.modifier)} in ${p.heap.name} (${p.heap.kind}), ${p.count} x ${formatBytes(p.size)}`;
}


export function negotiationText(result: Negotiation): string {
  const lines: string[] = [];
  if (result.ok) {
    const p = result.plan;
    lines.push(`plan: ${describePlan(p)}`);
    lines.push(`  format    ${p.format.name} (fourcc 0x${p.format.fourcc.toString(16).padStart(8, '0')})`);
    lines.push(`  modifier  ${shortModifierName(p.modifier)} (${modifierHex(modifierValueOf(p))}${p.modifierValue !== undefined && p.modifier.layout.kind === 'sand' ? `, column height ${p.planes[0]!.rows + p.planes[1]!.rows} rows` : ''})`);
    lines.push(`  heap      ${p.heap.name}: ${p.heap.kind}${p.heap.base !== undefined ? ` at ${formatAddress(p.heap.base)}` : ''}, ${formatBytes(p.heap.size)}`);
    lines.push(`  size      ${p.size} bytes per buffer (${formatBytes(p.size)}), base alignment ${formatBytes(p.alignment)}`);
    p.planes.forEach((pl, i) => lines.push(`  plane ${i}   offset ${pl.offset}  pitch ${pl.pitch}  rows ${pl.rows}  size ${pl.size}`));
    lines.push('why:');
    for (const r of result.rationale) lines.push(`  ${r}`);
    if (result.alternatives.length > 0) {
      lines.push('alternatives, best first:');
      result.alternatives.forEach((a, i) => lines.push(`  ${i + 1}. ${describePlan(a)}`));
    }
    return lines.join('\n');
  }
  lines.push(...conflictLines(result.conflict));
  return lines.join('\n');
}

/** `udalloc explain`'s sections after the negotiation: every format and heap with its verdict. */
export function choicesText(e: ChoiceExplanation): string {
  const lines = ['formats the request accepts:'];
  const fw = Math.max(...e.formats.map((f) => f.format.length));
  for (const f of e.formats) lines.push(`  ${f.format.padEnd(fw)}  ${f.verdict === 'excluded' ? `no: ${f.reasons.join('; ')}` : f.verdict}`);
  if (e.modifiers.length > 0) {
    lines.push(`modifiers of ${e.modifiersOf}:`);
    const mw = Math.max(...e.modifiers.map((m) => m.modifier.length));
    for (const m of e.modifiers) lines.push(`  ${m.modifier.padEnd(mw)}  ${m.verdict === 'excluded' ? `no: ${m.reasons.join('; ')}` : m.reasons.length > 0 ? `${m.verdict}, ${m.reasons.join('; ')}` : m.verdict}`);
  }
  if (!e.layout) {
    lines.push('heaps: not judged (no format passes every device)');
    return lines.join('\n');
  }
  lines.push(`heaps for ${e.layout.count} x ${e.layout.format} ${e.layout.modifier} (${e.layout.size} bytes each before any alignment padding):`);
  const hw = Math.max(...e.heaps.map((h) => h.heap.length));
  for (const h of e.heaps) lines.push(`  ${h.heap.padEnd(hw)}  ${h.verdict === 'excluded' ? `no: ${h.reasons.join('; ')}` : h.verdict}`);
  return lines.join('\n');
}
