// A buffer dropped without close() is closed by the FinalizationRegistry, with a warning naming it.
// Runs in a child process because it needs --expose-gc to force the collection.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../../src/index.js', import.meta.url));

const script = `
import { openSync } from ${JSON.stringify(entry)};
const dev = openSync({ platform: 'boards/example.yaml', backend: 'sim' });
const warnings = [];
process.on('warning', (w) => warnings.push(w.code + ' ' + w.message));
(function leak() {
  dev.allocateSync(dev.negotiate({ width: 640, height: 480, formats: ['NV12'], devices: ['camera', 'display'], count: 2 }), { name: 'preview' });
})();
// A synchronous burst longer than the nursery: short-lived buffers closed at once (never watched),
// one dropped open in the middle of it.
const shape = dev.negotiate({ width: 64, height: 64, formats: ['NV12'], devices: ['camera'] });
for (let i = 0; i < 1000; i++) {
  const bufs = dev.allocateSync(shape, { owner: 'burst' });
  if (i !== 500) bufs[0].close();
}
const kept = dev.allocateSync(dev.negotiate({ width: 64, height: 64, formats: ['NV12'], devices: ['camera'] }));
const before = dev.backend.openFds();
for (let i = 0; i < 10 && dev.backend.openFds().length > 1; i++) {
  globalThis.gc();
  await new Promise((r) => setTimeout(r, 20));
}
await new Promise((r) => setImmediate(r));
console.log(JSON.stringify({ before, after: dev.backend.openFds(), live: dev.stats().buffers.map((b) => b.fd), warnings, keptFd: kept[0].fd }));
`;

describe('leak safety', () => {
  it('garbage-collected open buffers are closed, with a warning; held ones are untouched', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    const result = JSON.parse(out) as { before: number[]; after: number[]; live: number[]; warnings: string[]; keptFd: number };
    assert.deepStrictEqual(result.before, [3, 4, 5, 6]);
    assert.deepStrictEqual(result.after, [6]);
    assert.deepStrictEqual(result.live, [6]);
    assert.strictEqual(result.keptFd, 6);
    assert.strictEqual(result.warnings.length, 3);
    const leaked = result.warnings.map((w) => {
      const m = /^UDALLOC_LEAKED_BUFFER udalloc: (?:buffer "([\w-]+)", )?DmaBuffer\(fd (\d), NV12 LINEAR (\d+x\d+), .*owner ([\w+]+)\) was garbage-collected while open; closing fd \2/.exec(w);
      assert.ok(m, w);
      return `${m[2]} ${m[3]} ${m[4]}${m[1] ? ` ${m[1]}` : ''}`;
    });
    // A named buffer is named in the warning, so the leak can be found in the code that made it.
    assert.deepStrictEqual(leaked.sort(), ['3 640x480 camera+display preview-0', '4 640x480 camera+display preview-1', '5 64x64 burst']);
  });
});
