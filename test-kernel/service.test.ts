// Runs inside the QEMU guest: `udalloc serve` on the real kernel's dma-buf heaps over a private
// dbus-daemon. Clients receive real dma-buf fds (fdinfo names the exporting heap), map and write
// them; the service charges what they hold and stops when they let go; a smaller load run (4
// clients x 100 cycles) leaks no fd and leaves no charge.

import assert from 'node:assert/strict';
import { existsSync, fstatSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { connect } from '../src/service/client.js';
import { parsePolicy } from '../src/service/policy.js';
import { AllocatorService, openServiceAllocator } from '../src/service/server.js';
import { fdLinks, openFds, startBus } from '../test/service/harness.js';

const exporterOf = (fd: number) => /^exp_name:\s*(\S+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('real kernel: the D-Bus service hands out dma-bufs', () => {
  it('the initramfs has dbus-daemon (a missing one is a failure, not a skipped suite)', () => {
    assert.ok(existsSync('/usr/bin/dbus-daemon'), 'no /usr/bin/dbus-daemon in this initramfs: the host harness copies it from the host, which needs Debian\'s dbus-daemon package');
  });

  it('system-heap and CMA buffers arrive as dma-buf fds of the planned size, charged while held; 4 clients x 100 cycles leak nothing', { timeout: 300_000 }, async () => {
    const bus = await startBus();
    const fdsBefore = openFds();
    const service = await AllocatorService.start({ bus: bus.address, allocator: openServiceAllocator('test-kernel/qemu-platform.yaml', 'dma-heap'), policy: parsePolicy('default: { cma: 16MiB }', 'guest policy'), graceMs: 200, scanIntervalMs: 60_000 });
    try {
      const udalloc = await connect({ bus: bus.address });
      const inCma = await udalloc.allocate(await udalloc.negotiate({ devices: ['display'], width: 640, height: 480, count: 2, cpu: 'readwrite' }));
      const inSystem = await udalloc.allocate(await udalloc.negotiate({ devices: ['encoder'], width: 640, height: 480, count: 1, cpu: 'readwrite' }));
      assert.deepStrictEqual(inCma.map((b) => exporterOf(b.fd)), ['reserved', 'reserved']);
      assert.deepStrictEqual(inSystem.map((b) => exporterOf(b.fd)), ['system']);
      for (const b of [...inCma, ...inSystem]) {
        assert.strictEqual(fstatSync(b.fd).size, b.size);
        const view = b.map('readwrite');
        view.bytes[0] = 0x42;
        view.bytes[b.size - 1] = 0x24;
        view.end();
        const back = b.map('read');
        assert.deepStrictEqual([back.bytes[0], back.bytes[b.size - 1]], [0x42, 0x24]);
        back.end();
      }
      const usage = (await udalloc.usage()) as { kinds: Record<string, { charged: number }>; buffers: Array<{ inode: number }> };
      assert.strictEqual(usage.kinds['cma']!.charged, inCma[0]!.size * 2);
      assert.deepStrictEqual(usage.buffers.map((b) => b.inode).sort(), [...inCma, ...inSystem].map((b) => fstatSync(b.fd).ino).sort());
      // The service holds no copy: the kernel's CMA use is what the client holds.
      for (const b of [...inCma, ...inSystem]) b.close();
      await sleep(300);
      assert.deepStrictEqual(((await udalloc.usage()) as { buffers: unknown[] }).buffers, []);
      udalloc.close();
      // From here on the service holds its bus connection, its inotify fd and the heaps' device
      // fds (opened at the first allocation): the load run must leave exactly these.
      for (let i = 0; i < 40 && openFds() !== fdsBefore + 4; i++) await sleep(50);
      const fdsBeforeLoad = openFds();

      const clients = await Promise.all(Array.from({ length: 4 }, () => connect({ bus: bus.address })));
      await Promise.all(
        clients.map(async (c) => {
          const plan = await c.negotiate({ devices: ['display'], width: 256, height: 256, count: 1 });
          for (let i = 0; i < 100; i++) (await c.allocate(plan)).forEach((b) => b.close());
        }),
      );
      for (const c of clients) c.close();
      await sleep(300);
      service.ledger.refresh();
      assert.strictEqual(service.ledger.size, 0);
      for (let i = 0; i < 40 && openFds() !== fdsBeforeLoad; i++) await sleep(50);
      assert.strictEqual(openFds(), fdsBeforeLoad, `the service kept no buffer fd: ${fdLinks().join(', ')}`);
      assert.strictEqual(fdsBeforeLoad, fdsBefore + 4, `bus connection, inotify, /dev/dma_heap/system and reserved: ${fdLinks().join(', ')}`);
    } finally {
      await service.stop();
      await bus.stop();
    }
  });
});
