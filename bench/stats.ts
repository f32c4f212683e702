// What the benchmarks report of repeated measurements on a shared, noisy machine.

/** The middle value (the upper middle of an even count). */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** ns per call of `f`: the median of `loops` loops of `calls` calls, after a warm-up of as many calls. */
export function timePerCall(f: () => void, calls: number, loops = 7): number {
  for (let i = 0; i < calls; i++) f();
  return median(
    Array.from({ length: loops }, () => {
      const t = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) f();
      return Number(process.hrtime.bigint() - t) / calls;
    }),
  );
}
