// Small test helpers over node:test and node:assert.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { format } from 'node:util';

/** One test per case; the title is formatted with the case's values (%s, %d, %j). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- case tables mix types per column
export function each(cases: readonly (readonly unknown[])[], title: string, fn: (...args: any[]) => unknown): void {
  for (const c of cases) {
    it(format(title, ...c), () => {
      fn(...c);
    });
  }
}

/** Every field of `expected` equals (deeply) the same field of `actual`; other fields are ignored. */
export function assertMatches(actual: unknown, expected: Record<string, unknown>): void {
  assert.ok(actual !== null && typeof actual === 'object', `expected an object, got ${String(actual)}`);
  for (const [key, value] of Object.entries(expected)) assert.deepStrictEqual((actual as Record<string, unknown>)[key], value, `field ${key}`);
}
