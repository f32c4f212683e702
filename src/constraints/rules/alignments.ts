// Per-format alignments a device states: each a multiple the layout must meet, merged across the
// devices sharing a buffer as their least common multiple.

import type { FormatRule } from '../model.js';
import type { Fact, LayoutRule } from './rule.js';

/** A per-format alignment rule: read from the rule's field, merged as an lcm, never lifted by a smaller size. */
export function alignmentRule<Name extends string>(name: Name, read: (r: FormatRule) => number, brief: (v: number) => string, advice?: (f: Fact) => string): LayoutRule<Name> {
  return {
    name,
    scope: 'format',
    merge: 'lcm',
    liftedBySize: false,
    read,
    advice: advice ?? ((f) => `${f.device}'s ${f.format} ${name} is ${String(f.value)} ${f.where}`),
    brief,
  };
}

/** Each plane's pitch is a multiple of this many bytes (a DMA engine's line stride register). */
export const pitchAlign = alignmentRule('pitchAlign', (r) => r.pitchAlign, (v) => `pitch x${v}`);

/** Plane 0's rows are padded to a multiple of this (a codec's macroblock rows, V4L2 step_height). */
export const heightAlign = alignmentRule('heightAlign', (r) => r.heightAlign, (v) => `rows x${v}`);

/** Each plane starts at a multiple of this many bytes from the buffer's start. */
export const offsetAlign = alignmentRule('offsetAlign', (r) => r.offsetAlign, (v) => `planes at x${v}`);
