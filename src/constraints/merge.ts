// Merging rules for constraints from several devices (../shared/DESIGN.md, constraints/):
// alignments -> least common multiple, limits -> minimum, sets -> intersection. Flags (contiguity,
// protection) merge as "any device needs it", which compile() expresses with Array.some/length.

import { lcmAll } from '../util/int.js';

export const mergeAlignments = (values: Iterable<number>): number => lcmAll(values);

export function mergeLimits(values: Iterable<number | undefined>): number {
  let min = Infinity;
  for (const v of values) if (v !== undefined && v < min) min = v;
  return min;
}

/** Items of `first` that are in every other list, in `first`'s order; no lists means no restriction. */
export function intersectOrdered<T>(lists: readonly (readonly T[])[]): T[] | undefined {
  const [first, ...rest] = lists;
  if (first === undefined) return undefined;
  return first.filter((item) => rest.every((list) => list.includes(item)));
}

