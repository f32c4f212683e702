// The real-kernel suite: boots Linux 6.12 (dma-buf heaps, CMA, udmabuf) in QEMU and runs
// test-kernel/guest.test.ts there against the real ioctls; passes only if every guest test passes.
// Then it acts on a sizing answer: boots with the cma= that `udalloc size` recommends and replays
// the workload through the real CMA heap (no failure), and with one step less (failures where the
// simulator says).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadPlatform } from '../../src/constraints/load.js';
import { replay } from '../../src/sim/replay.js';
import { generateScenario } from '../../src/sim/scenarios.js';
import { sizePools } from '../../src/sim/sizing.js';
import { formatTrace, traceFromEvents } from '../../src/sim/trace.js';
import { bootGuest, buildInitramfs } from './qemu-harness.js';

const PROJECT = fileURLToPath(new URL('../../../', import.meta.url));
const MiB = 2 ** 20;
/** cma= sizes are rounded up by the kernel to a pageblock (2 MiB here): the smallest step that changes the area. */
const STEP = 2 * MiB;

/** The titles of every describe() and it() in test-kernel/*.test.ts, as the spec reporter prints them. */
function guestTestNames(): string[] {
  const dir = `${PROJECT}test-kernel`;
  const names: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.test.ts'))) {
    const source = readFileSync(`${dir}/${file}`, 'utf8');
    for (const m of source.matchAll(/\b(?:describe|it)\(\s*(['"])((?:\\.|(?!\1).)*)\1/g)) names.push(m[2]!.replace(/\\(.)/g, '$1'));
  }
  return names;
}

/** The legacy ION programs the guest runs (test-kernel/ion.test.ts): against the uAPI, and against libion. */
function buildIonClients(): void {
  const dir = `${PROJECT}native/build/ion-test`;
  mkdirSync(dir, { recursive: true });
  const source = `${PROJECT}test-kernel/ion/ion-client.c`;
  execFileSync('cc', ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-o', `${dir}/ion-client`, source]);
  execFileSync('cc', ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-DUSE_LIBION', '-o', `${dir}/ion-libion-client`, source, `-L${PROJECT}native/build/ion`, '-lion']);
}

describe('real kernel in QEMU', () => {
  it('the guest suite passes on real dma-buf heaps, CMA and udmabuf', { timeout: 900_000 }, async () => {
    buildIonClients();
    const initramfs = buildInitramfs(PROJECT, 'node --test --test-reporter=spec dist/test-kernel/');
    const run = await bootGuest(initramfs);
    const guest = run.output.slice(Math.max(0, run.output.indexOf('UDALLOC-GUEST-START')));
    assert.ok(run.exitCode !== undefined, `the guest never reported an exit code:\n${run.output.slice(-4000)}`);
    assert.strictEqual(run.exitCode, 0, `guest tests failed:\n${guest}`);
    assert.match(guest, /ℹ pass [1-9]/);
    assert.match(guest, /ℹ fail 0/);
    // Every suite and test of test-kernel/ ran and passed, by name: a skipped suite still prints
    // "skipped 0" in Node 20, so the count alone cannot tell.
    const names = guestTestNames();
    // (The guest's reporter colours its lines: compare the text without the escapes.)
    const plain = guest.replace(/\x1b\[[0-9;]*m/g, '');
    assert.ok(names.length > 15, `${names.length} guest tests and suites found in test-kernel/`);
    for (const name of names) assert.ok(plain.includes(`✔ ${name} (`), `guest ran and passed "${name}":\n${plain}`);
    assert.match(guest, /ℹ skipped 0/);
    if (process.env['UDALLOC_SHOW_GUEST']) process.stdout.write(guest);
  });

  it('the CMA size `udalloc size` recommends serves the workload on the real kernel; 2 MiB less fails where the simulator says', { timeout: 900_000 }, async () => {
    const platformFile = 'test-kernel/qemu-platform.yaml';
    const platform = loadPlatform(`${PROJECT}${platformFile}`);
    const spec = 'compositor:outputDevices=gpu:write+display:read,clientDevices=gpu,windows=30,seconds=300,windowSeconds=60';
    const g = generateScenario(spec, 1);
    const trace = traceFromEvents(g.events, platform, g.name);
    const sized = sizePools(platform, [trace], { policy: 'first-fit' }).pools.find((p) => p.name === 'reserved')!;
    // What `udalloc size` tells the user to boot with, and the next size the kernel can have below it.
    const enough = Math.ceil(sized.size / STEP) * STEP;
    const short = enough - STEP;
    const simulated = (size: number) => replay(platform, trace, { sizes: new Map([['reserved', size]]), planUnbounded: true, fallback: false, samples: 1 }).failures.map((f) => f.line);
    const simShort = simulated(short);
    assert.deepStrictEqual(simulated(enough), []);
    assert.ok(simShort.length > 0, `the simulator should fail at ${short}`);

    const initramfs = buildInitramfs(PROJECT, 'node dist/test-kernel/replay-trace.js test-kernel/qemu-platform.yaml workload.jsonl', { 'workload.jsonl': formatTrace(g.events) });
    const onKernel = async (size: number) => {
      const run = await bootGuest(initramfs, 600_000, `${size / MiB}M`);
      const line = /UDALLOC-REPLAY (.*)/.exec(run.output)?.[1];
      assert.ok(line, `cma=${size / MiB}M: the guest replay printed no result:\n${run.output.slice(-4000)}`);
      return JSON.parse(line) as { events: number; failures: Array<{ line: number; heap: string; reason: string }> };
    };
    const atEnough = await onKernel(enough);
    assert.strictEqual(atEnough.events, trace.events.length);
    assert.deepStrictEqual(atEnough.failures, [], `cma=${enough / MiB}M (udalloc size said ${sized.size} bytes) failed on the real kernel`);
    const atShort = await onKernel(short);
    assert.ok(atShort.failures.length > 0, `cma=${short / MiB}M should fail`);
    assert.deepStrictEqual(atShort.failures.map((f) => f.line), simShort, 'the kernel fails the same requests as the simulator');
    assert.match(atShort.failures[0]!.reason, /reserved: ENOMEM/);
  });
});
