// A conflict as people read it, the same wherever it is shown (the CLI, ConflictError's message):
// the constraints that cannot all hold (hardware facts marked), then each verified fix, or what
// only hardware could change.

import { atomLabel, atomValueText } from './atoms.js';
import type { Conflict } from './conflict.js';

export function conflictLines(c: Conflict): string[] {
  const lines = ['conflict: no plan satisfies every device', 'these constraints cannot all hold together:'];
  for (const a of c.core) lines.push(`  ${atomLabel(a)} = ${atomValueText(a)}${a.changeable ? '' : ' (hardware)'}    (${a.source})`);
  if (c.fixes.length > 0) {
    lines.push('fixes (each one alone leads to buffers that allocate; checked on the simulated kernel):');
    for (const f of c.fixes) lines.push(`  - ${f.text}`);
  } else if (c.hardware.length > 0) {
    lines.push('no change to the request, the pools or the pipeline helps; only hardware or firmware could change:');
    for (const h of c.hardware) lines.push(`  - ${h}`);
  } else {
    lines.push('no fix found whose buffers allocate: changing all of these makes a plan possible, but not one the heaps can hold:');
    for (const a of c.atoms) lines.push(`  ${atomLabel(a)} = ${atomValueText(a)}    (${a.source})`);
  }
  return lines;
}

