// `size` and `simulate` count the same way: at the recommended size of each pool every request is
// held by the heap it prefers, and 2 MiB below it some request is not (SHORT), on every shipped
// scenario. Acted on through the replay simulate runs, with the pool set to each size.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlatform } from '../../src/constraints/load.js';
import { replay } from '../../src/sim/replay.js';
import { SCENARIOS } from '../../src/sim/scenarios.js';
import { sizePools } from '../../src/sim/sizing.js';
import { loadWorkloads } from '../../src/cli/workload-options.js';
import { testDir } from '../helpers.js';
import { cmaAreaSize } from '../../src/constraints/heap-kinds/index.js';

const MiB = 2 ** 20;
const board = loadPlatform('boards/example.yaml');

describe('size and simulate share one meaning of "too small"', () => {
  for (const { name } of SCENARIOS) {
    it(`${name}: simulate holds the workload at the size size recommends, and is short 2 MiB below`, () => {
      const [trace] = loadWorkloads({ scenario: [name] }, board) as [ReturnType<typeof loadWorkloads>[number]];
      const sized = sizePools(board, [trace]);
      assert.deepStrictEqual(sized.unplannable, []);
      const pools = sized.pools.filter((p) => p.size > 2 * MiB);
      assert.ok(pools.length > 0, `${name}: some pool is sized`);
      for (const pool of pools) {
        const at = new Map(sized.pools.map((p) => [p.name, p.size]));
        const held = replay(board, trace, { sizes: at });
        assert.deepStrictEqual([held.failures.length, held.short], [0, 0], `${name}: ${pool.name} at ${pool.size}`);
        const below = replay(board, trace, { sizes: new Map([...at, [pool.name, pool.size - 2 * MiB]]) });
        assert.ok(below.heaps.find((h) => h.name === pool.name)!.short > 0, `${name}: ${pool.name} at ${pool.size - 2 * MiB} is not short`);
      }
    });
  }

  it('the CLI: simulate exits 0 at the recommended size and 3, naming the pool, 2 MiB below', () => {
    const dir = testDir('udalloc-short-');
    const run = (profile: string) => spawnSync(process.execPath, ['dist/src/cli/main.js', 'simulate', '--platform', profile, '--trace', 'examples/camera-session.jsonl'], { encoding: 'utf8' });
    const sized = JSON.parse(spawnSync(process.execPath, ['dist/src/cli/main.js', 'size', '--platform', 'boards/example.yaml', '--trace', 'examples/camera-session.jsonl', '--json'], { encoding: 'utf8' }).stdout) as { results: Array<{ pools: Array<{ name: string; size: number }> }> };
    // What to boot with: the size in whole pageblocks, as `size` prints it for cma=.
    const size = cmaAreaSize(sized.results[0]!.pools.find((p) => p.name === 'linux,cma')!.size);
    const yaml = readFileSync('boards/example.yaml', 'utf8');
    const text = (bytes: number) => {
      const file = join(dir, `example-${bytes}.yaml`);
      // The profile as a user would edit it: the CMA line's size, in bytes.
      const edited = yaml.replace(/(name: "linux,cma",.*size: )256MiB/, `$1${bytes}`);
      assert.notStrictEqual(edited, yaml);
      writeFileSync(file, edited);
      return run(file);
    };
    const ok = text(size);
    assert.strictEqual(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /0 failure\(s\), 0 fallback\(s\), 0 request\(s\) not held by the heap they prefer/);
    const short = text(size - 2 * MiB);
    assert.strictEqual(short.status, 3, short.stdout + short.stderr);
    assert.match(short.stdout, /too small for this workload .*: linux,cma \(1\)/);
  });
});

