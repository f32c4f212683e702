// The real-kernel suite: boots Linux 6.12 (dma-buf heaps, CMA, udmabuf) in QEMU and runs
// test-kernel/guest.test.ts there against the real ioctls; passes only if every guest test passes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bootGuest, buildInitramfs } from './qemu-harness.js';

const PROJECT = fileURLToPath(new URL('../../../', import.meta.url));

describe('real kernel in QEMU', () => {
  it('the guest suite passes on real dma-buf heaps, CMA and udmabuf', { timeout: 900_000 }, async () => {
    const initramfs = buildInitramfs(PROJECT, 'node --test --test-reporter=spec dist/test-kernel/');
    const run = await bootGuest(initramfs);
    const guest = run.output.slice(Math.max(0, run.output.indexOf('UDALLOC-GUEST-START')));
    assert.ok(run.exitCode !== undefined, `the guest never reported an exit code:\n${run.output.slice(-4000)}`);
    assert.strictEqual(run.exitCode, 0, `guest tests failed:\n${guest}`);
    assert.match(guest, /ℹ pass [1-9]/);
    assert.match(guest, /ℹ fail 0/);
  });
});
