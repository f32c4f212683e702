// Per-format alignments a device states: each a multiple the layout must meet, merged across the
// devices sharing a buffer as their least common multiple.

import type { FormatRule } from '../model.js';
import type { Fact, LayoutRule } from './rule.js';

function alignmentAdvice(name: string) {
  return (f: Fact): string => `${f.device}'s ${f.format} ${name} is ${String(f.value)} ${f.where}`;
}

/** Each plane's pitch is a multiple of this many bytes (a DMA engine's line stride register). */
export const pitchAlign: LayoutRule<'pitchAlign'> = {
  name: 'pitchAlign',
  scope: 'format',
  merge: 'lcm',
  liftedBySize: false,
  read: (r: FormatRule) => r.pitchAlign,
  advice: alignmentAdvice('pitchAlign'),
  brief: (v) => `pitch x${v}`,
};

/** Plane 0's rows are padded to a multiple of this (a codec's macroblock rows, V4L2 step_height). */
export const heightAlign: LayoutRule<'heightAlign'> = {
  name: 'heightAlign',
  scope: 'format',
  merge: 'lcm',
  liftedBySize: false,
  read: (r: FormatRule) => r.heightAlign,
  advice: alignmentAdvice('heightAlign'),
  brief: (v) => `rows x${v}`,
};

/** Each plane starts at a multiple of this many bytes from the buffer's start. */
export const offsetAlign: LayoutRule<'offsetAlign'> = {
  name: 'offsetAlign',
  scope: 'format',
  merge: 'lcm',
  liftedBySize: false,
  read: (r: FormatRule) => r.offsetAlign,
  advice: alignmentAdvice('offsetAlign'),
  brief: (v) => `planes at x${v}`,
};
