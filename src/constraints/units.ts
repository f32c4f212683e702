// Byte sizes and addresses as people write them in profiles: 4096, 0x38000000, 256MiB, 4G.
// Suffixes are binary (K = KiB = 1024), as the kernel's memparse() reads "cma=256M".

const SIZE_PATTERN = /^(0x[0-9a-f]+|\d+)\s*([kmgt](?:ib)?|b)?$/i;
const MULTIPLIER: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** Parses a size or address; returns an error message instead of throwing so schemas can report it. */
export function parseByteCount(input: unknown): { value: number } | { error: string } {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return { error: 'must be a finite number of bytes' };
    if (!Number.isInteger(input)) return { error: 'must be a whole number of bytes' };
    if (input < 0) return { error: 'must not be negative' };
    if (!Number.isSafeInteger(input)) return { error: 'is larger than 2^53 bytes' };
    return { value: input };
  }
  if (typeof input !== 'string') return { error: 'must be a number of bytes or a string such as "256MiB" or "0x1000"' };
  const text = input.trim();
  const m = SIZE_PATTERN.exec(text);
  if (!m) {
    const hint = /\d\s*[kmgt]b$/i.test(text) ? ' (write KiB, MiB or GiB: sizes are binary)' : '';
    return { error: `is not a size: use bytes, hex (0x...), or a K/KiB, M/MiB, G/GiB, T/TiB suffix${hint}` };
  }
  const digits = m[1]!;
  const unit = (m[2] ?? '').toLowerCase().replace('ib', '');
  const base = BigInt(digits); // BigInt() reads both decimal and 0x-prefixed hex
  const bytes = base * BigInt(MULTIPLIER[unit]!);
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) return { error: 'is larger than 2^53 bytes' };
  return { value: Number(bytes) };
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** Human form of a byte count: exact when it is a whole number of a unit, else two decimals. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'unbounded';
  let unit = 0;
  let value = bytes;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(2);
  return `${text} ${UNITS[unit]}`;
}

export function formatAddress(address: number): string {
  return `0x${address.toString(16)}`;
}
