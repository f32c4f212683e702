// Merging sets across devices (../shared/DESIGN.md, constraints/): a list every device restricts
// is intersected. Numeric rules (alignments -> least common multiple, limits -> minimum, flags ->
// any) merge as each rule of the table says (constraints/rules, solver/merge-rules.ts).

/** Items of `first` that are in every other list, in `first`'s order; no lists means no restriction. */
export function intersectOrdered<T>(lists: readonly (readonly T[])[]): T[] | undefined {
  const [first, ...rest] = lists;
  if (first === undefined) return undefined;
  return first.filter((item) => rest.every((list) => list.includes(item)));
}
