// The README's example sessions are real: every ```text block that starts with "$ npx udalloc ..."
// is run, and its output must match the block. A line "..." stands for any number of lines, and
// "..." inside a line for any text (the README elides long paths and repeated planes that way).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface Session {
  readonly line: number;
  readonly args: string[];
  readonly expected: string[];
}

function sessions(readme: string): Session[] {
  const lines = readme.split('\n');
  const out: Session[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```text' || !lines[i + 1]?.startsWith('$ npx udalloc ')) continue;
    const end = lines.indexOf('```', i + 1);
    const command = lines[i + 1]!.slice('$ npx udalloc '.length);
    // The README's commands use plain words and ~ only: no quoting to interpret.
    const args = command.split(/\s+/).map((a) => a.replace(/^~\//, `${homedir()}/`));
    out.push({ line: i + 2, args, expected: lines.slice(i + 2, end) });
  }
  return out;
}

function lineMatcher(expected: string): RegExp {
  return new RegExp(`^${expected.split('...').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** Matches output lines against expected lines, where a "..." line absorbs zero or more lines. */
function matches(expected: readonly string[], actual: readonly string[]): boolean {
  const memo = new Map<string, boolean>();
  const go = (e: number, a: number): boolean => {
    const key = `${e},${a}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (e === expected.length) result = a === actual.length;
    else if (expected[e]!.trim() === '...') result = go(e + 1, a) || (a < actual.length && go(e, a + 1));
    else result = a < actual.length && lineMatcher(expected[e]!).test(actual[a]!) && go(e + 1, a + 1);
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

describe('README example sessions', () => {
  const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
  const all = sessions(readme);

  it('finds the sessions (the README keeps its examples)', () => {
    assert.ok(all.length >= 8, `${all.length} sessions`);
  });

  for (const s of all) {
    it(`README.md:${s.line} udalloc ${s.args.join(' ')}`, () => {
      const r = spawnSync(process.execPath, [CLI, ...s.args], { encoding: 'utf8', cwd: fileURLToPath(new URL('../../../', import.meta.url)) });
      const actual = r.stdout.replace(/\n$/, '').split('\n');
      assert.ok(matches(s.expected, actual), `output differs from README.md:${s.line}\n--- README\n${s.expected.join('\n')}\n--- actual\n${actual.join('\n')}\n--- stderr\n${r.stderr}`);
    });
  }

  it('the matcher really compares: a changed line fails, elisions absorb lines', () => {
    assert.ok(matches(['a', '...', 'd'], ['a', 'b', 'c', 'd']));
    assert.ok(matches(['a ... z'], ['a 123 z']));
    assert.ok(!matches(['a', 'b'], ['a', 'c']));
    assert.ok(!matches(['a', '...'], ['b']));
  });
});
