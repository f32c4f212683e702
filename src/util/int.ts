// Exact integer arithmetic for sizes and addresses. Every result is checked to stay a safe
// integer (< 2^53): a buffer or address beyond that is an input error, never a rounded number.

export class OverflowError extends RangeError {
  constructor(readonly what: string, readonly value: number) {
    super(`${what} is ${value > Number.MAX_SAFE_INTEGER ? 'larger than 2^53 bytes' : `not a valid size (${value})`}`);
    this.name = 'OverflowError';
  }
}

export function checked(what: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new OverflowError(what, value);
  return value;
}

export function gcd(a: number, b: number): number {
  while (b !== 0) {
    const r = a % b;
    a = b;
    b = r;
  }
  return a;
}

/** Least common multiple of positive integers; alignments merge this way. */
export function lcm(a: number, b: number): number {
  return checked('alignment (least common multiple)', (a / gcd(a, b)) * b);
}

export function lcmAll(values: Iterable<number>): number {
  let acc = 1;
  for (const v of values) acc = lcm(acc, v);
  return acc;
}

/** Rounds value up to a multiple of align (any positive integer, not only powers of two). */
export function alignUp(value: number, align: number, what = 'size'): number {
  const rem = value % align;
  return checked(what, rem === 0 ? value : value + (align - rem));
}

export function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}

/** 2^0 .. 2^53, for exponents in hot paths: `2 ** n` with a variable n costs V8 ~50 ns a call here. */
const POWERS_OF_TWO: readonly number[] = Array.from({ length: 54 }, (_, i) => 2 ** i);

/** 2^n for an integer n in 0..53 (beyond: computed). */
export function pow2(n: number): number {
  return POWERS_OF_TWO[n] ?? 2 ** n;
}

/** Linux get_order(): the smallest order such that PAGE_SIZE << order >= size. */
export function getOrder(size: number, pageSize = 4096): number {
  const pages = Math.ceil(size / pageSize);
  if (pages <= 1) return 0;
  // ceil(log2(pages)) without floating point: the bit length of pages - 1.
  if (pages <= 4294967296) return 32 - Math.clz32(pages - 1);
  let order = 32;
  while (pow2(order) < pages) order++;
  return order;
}
