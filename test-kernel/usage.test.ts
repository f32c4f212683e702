// Runs inside the QEMU guest: `udalloc usage` on the real kernel. Two processes share one buffer
// (the fd handed to a child process, which then holds its own fd on the same dma-buf), another
// buffer is only mapped (its fd closed); usage finds both, every holder, and totals equal to what
// the test allocated.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { DmaHeapBackend } from '../src/kernel/dma-heap/backend.js';
import { scanUsage } from '../src/service/usage.js';

const MiB = 2 ** 20;

describe('real kernel: who holds which dma-buf (udalloc usage)', () => {
  it('a buffer shared by two processes is counted once with both holders; a mapped-only buffer is found by its mapping', async () => {
    const backend = new DmaHeapBackend();
    const shared = backend.allocate('system', 1 * MiB);
    backend.setName(shared, 'shared-a');
    const mappedFd = backend.allocate('reserved', 2 * MiB);
    backend.setName(mappedFd, 'mapped-b');
    const mapping = backend.map(mappedFd);
    backend.close(mappedFd);
    const child = spawn(process.execPath, ['-e', 'process.stdout.write("ready\\n"); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'inherit', shared] });
    try {
      await once(child.stdout!, 'data');
      const u = scanUsage('/');
      const a = u.buffers.find((b) => b.name === 'shared-a')!;
      const b = u.buffers.find((x) => x.name === 'mapped-b')!;
      assert.ok(a && b, JSON.stringify(u.buffers));
      assert.deepStrictEqual(a.holders.map((h) => [h.pid, h.fds > 0]).sort(), [[process.pid, true], [child.pid!, true]].sort());
      assert.deepStrictEqual([a.size, a.exporter], [1 * MiB, 'system']);
      assert.deepStrictEqual([b.size, b.exporter, b.holders.map((h) => [h.pid, h.fds, h.mapped])], [2 * MiB, 'reserved', [[process.pid, 0, true]]]);
      assert.deepStrictEqual(u.total, { buffers: 2, bytes: 3 * MiB });
      const me = u.processes.find((p) => p.pid === process.pid)!;
      assert.deepStrictEqual([me.bytes, me.proportional], [3 * MiB, 2.5 * MiB]);
      assert.deepStrictEqual(scanUsage('/', child.pid).buffers.map((x) => x.name), ['shared-a']);
    } finally {
      child.kill();
      await once(child, 'exit');
      mapping.unmap();
      backend.close(shared);
      backend.dispose();
    }
  });
});
