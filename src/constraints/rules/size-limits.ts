// The largest frame a device takes in a format: width, height, and the widest plane's pitch (a
// pitch register's width). Limits merge as the smallest; each bounds the size, so "ask for a
// smaller size" is what relaxes it.

import { minimumPitches, pitchTooWide, type FormatRule } from '../model.js';
import type { LayoutRule } from './rule.js';

export const maxWidth: LayoutRule<'maxWidth'> = {
  name: 'maxWidth',
  scope: 'format',
  merge: 'min',
  liftedBySize: true,
  read: (r: FormatRule) => r.maxWidth ?? Infinity,
  advice: (f) => `${f.device} takes ${f.format} only up to ${String(f.value)} pixels wide ${f.where}`,
  sizeBound: {
    exceeded: (r, width) => (r.maxWidth !== undefined && width > r.maxWidth ? `takes ${r.format.name} only up to ${r.maxWidth} pixels wide` : undefined),
    scale: (r, width) => (r.maxWidth !== undefined ? r.maxWidth / width : Infinity),
  },
  brief: (v) => `width <= ${v}`,
};

export const maxHeight: LayoutRule<'maxHeight'> = {
  name: 'maxHeight',
  scope: 'format',
  merge: 'min',
  liftedBySize: true,
  read: (r: FormatRule) => r.maxHeight ?? Infinity,
  advice: (f) => `${f.device} takes ${f.format} only up to ${String(f.value)} pixels high ${f.where}`,
  sizeBound: {
    exceeded: (r, _width, height) => (r.maxHeight !== undefined && height > r.maxHeight ? `takes ${r.format.name} only up to ${r.maxHeight} pixels high` : undefined),
    scale: (r, _width, height) => (r.maxHeight !== undefined ? r.maxHeight / height : Infinity),
  },
  brief: (v) => `height <= ${v}`,
};

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
