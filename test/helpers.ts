// Small test helpers over node:test and node:assert.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';

/** One test per case; the title is formatted with the case's values (%s, %d, %j). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- case tables mix types per column
export function each(cases: readonly (readonly unknown[])[], title: string, fn: (...args: any[]) => unknown): void {
  for (const c of cases) {
    it(format(title, ...c), async () => {
      await fn(...c);
    });
  }
}

/** Every field of `expected` equals (deeply) the same field of `actual`; other fields are ignored. */
export function assertMatches(actual: unknown, expected: Record<string, unknown>): void {
  assert.ok(actual !== null && typeof actual === 'object', `expected an object, got ${String(actual)}`);
  for (const [key, value] of Object.entries(expected)) assert.deepStrictEqual((actual as Record<string, unknown>)[key], value, `field ${key}`);
}

const made: string[] = [];

/**
 * A fresh directory under the system's temporary directory, removed when this test file's process
 * exits (passed or failed), so that a run leaves nothing behind.
 */
export function testDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (made.length === 0) process.once('exit', () => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
  made.push(dir);
  return dir;
}
