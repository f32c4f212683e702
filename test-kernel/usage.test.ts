// Runs inside the QEMU guest: `udalloc usage` on the real kernel. Two processes share one buffer
// (its fd passed to a child process over a Unix socket, SCM_RIGHTS), another
// buffer is only mapped (its fd closed); usage finds both, every holder, and totals equal to what
// the test allocated.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DmaHeapBackend } from '../src/kernel/dma-heap/backend.js';
import { scanUsage } from '../src/service/usage.js';

const MiB = 2 ** 20;
// usocket (the D-Bus service's fd-passing socket) is CommonJS without types.
const { UServer } = createRequire(import.meta.url)('usocket') as { UServer: new () => { listen(path: string): void; on(event: 'connection', fn: (socket: { write(chunk: { data: Buffer; fds: number[] }): void }) => void): void; close(): void } };

describe('real kernel: who holds which dma-buf (udalloc usage)', () => {
  it('a buffer shared by two processes is counted once with both holders; a mapped-only buffer is found by its mapping', async () => {
    const backend = new DmaHeapBackend();
    const shared = backend.allocate('system', 1 * MiB);
    backend.setName(shared, 'shared-a');
    const mappedFd = backend.allocate('reserved', 2 * MiB);
    backend.setName(mappedFd, 'mapped-b');
    const mapping = backend.map(mappedFd);
    backend.close(mappedFd);
    // The buffer goes to the other process over a Unix socket (SCM_RIGHTS, through usocket): the
    // child connects, receives the fd, says so and keeps it (it reads only once connected: usocket
    // asserts on a read before that).
    const path = join(mkdtempSync(join(tmpdir(), 'udalloc-usage-')), 'sock');
    const server = new UServer();
    server.listen(path);
    server.on('connection', (socket: { write(chunk: { data: Buffer; fds: number[] }): void }) => socket.write({ data: Buffer.from('x'), fds: [shared] }));
    const child = spawn(process.execPath, ['-e', `const { USocket } = require('usocket'); const s = new USocket({ path: ${JSON.stringify(path)} }); s.on('fds', (fds) => { globalThis.held = fds; process.stdout.write('ready ' + fds.length + '\\n'); }); s.once('connected', () => s.on('readable', () => s.read())); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      assert.match(String(await once(child.stdout!, 'data')), /^ready 1/);
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
      server.close();
      mapping.unmap();
      backend.close(shared);
      backend.dispose();
    }
  });
});
