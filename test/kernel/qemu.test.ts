// The real-kernel suite: boots Linux 6.12 (dma-buf heaps, CMA, udmabuf) in QEMU and runs
// test-kernel/guest.test.ts there against the real ioctls; passes only if every guest test passes.
// Then it acts on a sizing answer: boots with the cma= that `udalloc size` recommends and replays
// the workload through the real CMA heap (no failure), and with one step less (failures where the
// simulator says).

import assert from 'node:assert/strict';
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

describe('real kernel in QEMU', () => {
  it('the guest suite passes on real dma-buf heaps, CMA and udmabuf', { timeout: 900_000 }, async () => {
    const initramfs = buildInitramfs(PROJECT, 'node --test --test-reporter=spec dist/test-kernel/');
    const run = await bootGuest(initramfs);
    const guest = run.output.slice(Math.max(0, run.output.indexOf('UDALLOC-GUEST-START')));
    assert.ok(run.exitCode !== undefined, `the guest never reported an exit code:\n${run.output.slice(-4000)}`);
    assert.strictEqual(run.exitCode, 0, `guest tests failed:\n${guest}`);
    assert.match(guest, /ℹ pass [1-9]/);
    assert.match(guest, /ℹ fail 0/);
    // The real-driver tests ran (vivid and vkms are in the test kernel), none skipped.
    for (const name of ['the card scans out XRGB8888 linear', 'a plan from discovery alone allocates in CMA', 'system-heap pages (scattered) are refused by the dma-contig vivid', 'a captured frame, imported by vkms with the plan\'s pitch and scanned out, comes back through writeback', 'the dma-contig vivid needs contiguous memory', 'a buffer shared by two processes is counted once with both holders']) assert.ok(guest.includes(`✔ ${name}`), `guest ran "${name}"`);
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
