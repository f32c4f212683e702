// Error classes shared by every layer. The CLI maps them to exit codes:
// InputError -> 2 (bad input, message names the field), anything else -> 1 (internal).

/** Bad input: a malformed profile, request or flag. `field` is the path of the offending value. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly field?: string,
    readonly value?: unknown,
    readonly source?: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/** Renders a value for an error message: short, and unambiguous about its type. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    const s = JSON.stringify(value);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(value);
  }
}
