// What the benchmarks report of repeated measurements on a shared, noisy machine.

/** The middle value (the upper middle of an even count). */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
