// "Did you mean" for unknown names: the closest known name by edit distance.

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = prev[j]!;
      prev[j] = Math.min(above + 1, prev[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return prev[b.length]!;
}

/** The known name closest to `name` (case-insensitive), if it is plausibly a typo of it (at most `maxDistance` edits; default: half its length, at least 2). */
export function closest(name: string, known: Iterable<string>, maxDistance?: number): string | undefined {
  const wanted = name.toUpperCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(wanted, candidate.toUpperCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== undefined && bestDistance <= (maxDistance ?? Math.max(2, Math.floor(wanted.length / 2))) ? best : undefined;
}

export function didYouMean(name: string, known: Iterable<string>): string {
  const hit = closest(name, known);
  return hit ? ` (did you mean ${hit}?)` : '';
}
