// The largest frame a device takes in a format: width, height, and the widest plane's pitch (a
// pitch register's width). Limits merge as the smallest; each bounds the size, so "ask for a
// smaller size" is what relaxes it.

import { minimumPitches, pitchTooWide, type FormatRule } from '../model.js';
import type { LayoutRule } from './rule.js';

/** The largest width or height in pixels: a bound a relaxed size lifts. */
function dimensionLimit<Name extends string>(name: Name, word: 'wide' | 'high', limit: (r: FormatRule) => number | undefined, dimension: (width: number, height: number) => number): LayoutRule<Name> {
  return {
    name,
    scope: 'format',
    merge: 'min',
    liftedBySize: true,
    read: (r) => limit(r) ?? Infinity,
    advice: (f) => `${f.device} takes ${f.format} only up to ${String(f.value)} pixels ${word} ${f.where}`,
    sizeBound: {
      exceeded: (r, width, height) => {
        const most = limit(r);
        return most !== undefined && dimension(width, height) > most ? `takes ${r.format.name} only up to ${most} pixels ${word}` : undefined;
      },
      scale: (r, width, height) => {
        const most = limit(r);
        return most !== undefined ? most / dimension(width, height) : Infinity;
      },
    },
    brief: (v) => `${word === 'wide' ? 'width' : 'height'} <= ${v}`,
  };
}

export const maxWidth = dimensionLimit('maxWidth', 'wide', (r) => r.maxWidth, (width) => width);
export const maxHeight = dimensionLimit('maxHeight', 'high', (r) => r.maxHeight, (_width, height) => height);

/** Not lifted by a relaxed size (a 1x1 buffer's pitch is held to it too), but a smaller size answers it. */
export const maxPitch: LayoutRule<'maxPitch'> = {
  name: 'maxPitch',
  scope: 'format',
  merge: 'min',
  liftedBySize: false,
  read: (r: FormatRule) => r.maxPitch ?? Infinity,
  advice: (f) => `${f.device} takes ${f.format} pitches only up to ${String(f.value)} bytes ${f.where}`,
  sizeBound: {
    exceeded: (r, width) => (pitchTooWide(r, width) ? `takes ${r.format.name} pitches only up to ${r.maxPitch} bytes, ${width} pixels need ${Math.max(...minimumPitches(r.format, width))}` : undefined),
    scale: (r, width) => (r.maxPitch !== undefined ? Math.min(...minimumPitches(r.format, width).map((p) => r.maxPitch! / p)) : Infinity),
  },
  brief: (v) => `pitch <= ${v}`,
};
