// The device finds planes 1.. itself: each right after the one before, its pitch derived from
// plane 0's (V4L2 single-planar formats: chroma at bytesperline x height). Merged as "any device".

import type { FormatRule } from '../model.js';
import type { LayoutRule } from './rule.js';

export const implicitPlanes: LayoutRule<'implicitPlanes'> = {
  name: 'implicitPlanes',
  scope: 'format',
  merge: 'any',
  liftedBySize: false,
  read: (r: FormatRule) => (r.implicitPlaneOffsets ? 1 : 0),
  atomValue: () => true,
  advice: (f) => `${f.device} finds the planes of ${f.format} itself, each right after the one before with a pitch derived from the first ${f.where}: the others' offset or pitch rules move them`,
  brief: () => 'planes found by the device',
};
