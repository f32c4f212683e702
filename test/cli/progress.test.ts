// The progress bar draws only on a terminal and erases itself when done.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressBar } from '../../src/cli/progress.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { stream: { isTTY, columns: 80, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream, writes };
}

describe('progress bar', () => {
  it('draws on a TTY, ends at 100% and clears the line', () => {
    const { stream, writes } = fakeStream(true);
    const bar = progressBar(true, stream);
    bar.update(0, 10, 'replaying');
    bar.update(10, 10, 'replaying');
    bar.done();
    assert.match(writes[0]!, /^\r\[ {30}\]   0% replaying$/);
    assert.match(writes[1]!, /^\r\[#{30}\] 100% replaying$/);
    assert.strictEqual(writes[2], '\r\x1b[K');
  });

  it('is silent when disabled (--json) or when stderr is not a terminal', () => {
    for (const [enabled, tty] of [[false, true], [true, false]] as const) {
      const { stream, writes } = fakeStream(tty);
      const bar = progressBar(enabled, stream);
      bar.update(5, 10);
      bar.done();
      assert.deepStrictEqual(writes, []);
    }
  });
});
