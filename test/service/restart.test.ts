// A service killed with SIGKILL while clients hold buffers, and started again, loses no charge:
// each buffer's name carries the uid and heap kind it was charged to (src/service/charge-tag.ts),
// and the new service charges every one still held again. A client over its quota is still
// refused; once the holders close, the charges end. The service runs as `udalloc serve` in its
// own process, as a user would start it; the kill is the signal a crash or an OOM kill sends.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { connect, ServiceError } from '../../src/service/client.js';
import { chargeTag, parseChargeTag } from '../../src/service/charge-tag.js';
import { startBus, type TestBus } from './harness.js';
import { testDir } from '../helpers.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const REQUEST = { devices: ['camera:write', 'display:read'], width: 1920, height: 1080, count: 2, cpu: 'readwrite' as const };

function serve(bus: TestBus, policy: string): ChildProcess {
  return spawn(process.execPath, [CLI, 'serve', '--bus', bus.address, '--platform', 'example', '--backend', 'sim', '--policy', policy, '--quiet'], { stdio: 'ignore' });
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

describe('charge tags', () => {
  it('carry uid and kind in a dma-buf name (under 32 bytes with the caller\'s name) and read back from fd links; anything else is no tag', () => {
    const tag = chargeTag(4294967294, 'system-contig', 'a-very-long-name-for-a-buffer-0');
    assert.ok(Buffer.byteLength(tag) <= 31, tag);
    assert.deepStrictEqual(parseChargeTag(tag), { uid: 4294967294, kind: 'system-contig' });
    assert.deepStrictEqual(parseChargeTag(`udalloc:linux,cma ${chargeTag(1000, 'cma', 'preview-0')} (deleted)`), { uid: 1000, kind: 'cma' });
    assert.deepStrictEqual(parseChargeTag(chargeTag(0, 'cma')), { uid: 0, kind: 'cma' });
    for (const text of ['preview-0', 'udalloc:linux,cma', 'ud:x:cma', 'ud:1000:unknown-kind', 'bud:1:cma']) assert.strictEqual(parseChargeTag(text), undefined, text);
  });
});

describe('the service stopped and started again as an administrator does (kill -9, SIGTERM, SIGINT)', () => {
  let bus: TestBus;
  let policy: string;
  before(async () => {
    bus = await startBus();
    policy = join(testDir('udalloc-restart-'), 'policy.yaml');
    // One 1080p NV12 pair (2 x 3 MiB) fits the quota; a second pair does not.
    writeFileSync(policy, 'default: { cma: 8MiB }\n');
  });
  after(async () => {
    await bus.stop();
  });

  it('charges every buffer still held again: the holder is still refused over its quota; the charges end when it lets go', { timeout: 60_000 }, async () => {
    const services: ChildProcess[] = [serve(bus, policy)];
    const client = await connect({ bus: bus.address, waitMs: 10_000 });
    try {
      const plan = await client.negotiate(REQUEST);
      const held = await client.allocate(plan, { name: 'preview' });
      const inodes = held.map((b) => fstatSync(b.fd).ino).sort();
      services[0]!.kill('SIGKILL');
      await exited(services[0]!);
      // The same client, on the same bus connection, asks the new service (the name moves to it).
      services.push(serve(bus, policy));
      type Usage = { kinds: Record<string, { charged: number }>; buffers: Array<{ inode: number; size: number }> };
      let usage: Usage | undefined;
      for (let i = 0; i < 100 && !usage; i++) {
        try {
          usage = (await client.usage()) as Usage;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert.ok(usage, 'the restarted service answers');
      assert.strictEqual(usage.kinds['cma']!.charged, 2 * plan.size, 'both buffers are charged again');
      assert.deepStrictEqual(usage.buffers.map((b) => b.inode).sort(), inodes);
      // Over the quota: refused, naming the buffers that hold it.
      await assert.rejects(
        async () => client.allocate(await client.negotiate(REQUEST)),
        (err: unknown) => err instanceof ServiceError && err.error === 'QuotaExceeded' && (err.details['held'] as Array<{ inode: number }>).map((h) => h.inode).sort().join() === inodes.join(),
      );
      // The holder lets go: the charges end and the same request is granted.
      for (const b of held) b.close();
      const after = (await client.usage()) as Usage;
      assert.strictEqual(after.kinds['cma']?.charged ?? 0, 0);
      const again = await client.allocate(await client.negotiate(REQUEST));
      assert.strictEqual(again.length, 2);
    } finally {
      client.close();
      for (const s of services) s.kill('SIGKILL');
      await Promise.all(services.map(exited));
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}, as a shell or systemd sends it, stops the service cleanly: exit 0, the name free for the next one`, { timeout: 60_000 }, async () => {
      const service = serve(bus, policy);
      const client = await connect({ bus: bus.address, waitMs: 10_000 });
      try {
        const held = await client.allocate(await client.negotiate({ ...REQUEST, count: 1 }));
        const code = new Promise<number | null>((resolve) => service.once('exit', (c) => resolve(c)));
        service.kill(signal);
        assert.strictEqual(await code, 0, `udalloc serve exits 0 on ${signal}`);
        held.forEach((b) => b.close());
        // The next service owns the name at once (the old one released it).
        const next = serve(bus, policy);
        try {
          const again = await connect({ bus: bus.address, waitMs: 10_000 });
          assert.ok((await again.heapList()).length > 0);
          again.close();
        } finally {
          next.kill('SIGKILL');
          await exited(next);
        }
      } finally {
        client.close();
        service.kill('SIGKILL');
        await exited(service);
      }
    });
  }
});
