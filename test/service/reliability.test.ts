// The service under load and abuse, on a private dbus-daemon and the simulated kernel: 32 clients x
// 1,000 allocate/release cycles; a client killed mid-call, one that exits holding its buffers, one
// that floods; malformed calls and a fuzz of thousands; a user outside the policy. After each: the
// service still answers, its fd count is what it was, and charges end.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, fstatSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { connect, type ServiceAllocator } from '../../src/service/client.js';
import { connectBus, dbus, type Bus } from '../../src/service/bus.js';
import { ERRORS } from '../../src/service/interface.js';
import type { AllocatorService } from '../../src/service/server.js';
import { fdLinks, openFds, startBus, startService, type TestBus } from './harness.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLIENT_MODULE = join(ROOT, 'dist/src/service/client.js');
const SMALL = { devices: ['camera:write', 'display:read'], width: 64, height: 64, count: 1, cpu: 'readwrite' as const };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw call on the service object: the reply's error name, or 'ok' (fds received are closed). */
async function rawCall(bus: Bus, member: string, signature: string, body: unknown[]): Promise<string> {
  try {
    const reply = await bus.call(new dbus.Message({ destination: 'org.udalloc.Allocator1', path: '/org/udalloc/Allocator1', interface: 'org.udalloc.Allocator1', member, signature, body }));
    if (reply?.signature === 'sah') for (const fd of reply.body[1] as number[]) closeSync(fd);
    return 'ok';
  } catch (err) {
    return err instanceof dbus.DBusError ? err.type : `not a D-Bus error: ${String(err)}`;
  }
}

/** Runs a Node client in its own process; resolves with its stdout once it printed `until` (or exited). */
function childClient(code: string, address: string, until?: string): { ready: Promise<string>; exited: Promise<number | null>; kill: () => void } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import { connect } from ${JSON.stringify(CLIENT_MODULE)};\nconst address = ${JSON.stringify(address)};\n${code}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const ready = new Promise<string>((resolve) => {
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (until && out.includes(until)) resolve(out);
    });
    void exited.then(() => resolve(out));
  });
  return { ready, exited, kill: () => child.kill('SIGKILL') };
}

/** Waits until the service holds no grant (it rescans as asked), or fails after `ms`. */
async function drained(service: AllocatorService, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    service.ledger.refresh();
    if (service.ledger.size === 0) return;
    await sleep(50);
  }
  assert.fail(`${service.ledger.size} grant(s) still charged after ${ms} ms: ${JSON.stringify(service.ledger.grants().map((g) => ({ ino: g.file.ino, caller: g.caller.connection, sentAt: g.sentAt })))}`);
}

/** Waits (up to 2 s) for this process's fd count to come back to `expected` as sockets finish closing. */
async function fdsSettle(expected: number): Promise<void> {
  for (let i = 0; i < 40 && openFds() !== expected; i++) await sleep(50);
  assert.strictEqual(openFds(), expected, fdLinks().join(', '));
}

const cmaUsed = (service: AllocatorService) => service.allocator.stats().heaps.find((h) => h.heap.describe().kind === 'cma')!.used;

describe('the service under load and abuse (simulated kernel)', () => {
  let bus: TestBus;
  let service: AllocatorService;
  let fdsBefore: number;
  before(async () => {
    bus = await startBus();
    fdsBefore = openFds();
    service = await startService(bus, 'users: { root: { cma: 64MiB, system: 1GiB } }\ndefault: { system: 0, cma: 0, carveout: 0, secure: 0 }\n', 100);
  });
  after(async () => {
    await service.stop();
    await bus.stop();
  });

  it('32 concurrent clients x 1,000 allocate/release cycles: every held buffer charged to its holder, none at the end, no fd leaked', { timeout: 600_000 }, async () => {
    const clients: ServiceAllocator[] = await Promise.all(Array.from({ length: 32 }, () => connect({ bus: bus.address })));
    await Promise.all(
      clients.map(async (udalloc, c) => {
        const plan = await udalloc.negotiate(SMALL);
        for (let cycle = 0; cycle < 1000; cycle++) {
          const [buffer] = await udalloc.allocate(plan);
          if (cycle % 125 === c % 125) {
            // While it holds the buffer, the service charges it to this connection (and says so).
            const usage = (await udalloc.usage()) as { caller: { connection: string }; buffers: Array<{ inode: number; yours: boolean }> };
            const mine = usage.buffers.find((b) => b.inode === fstatSync(buffer!.fd).ino);
            assert.ok(mine?.yours, `client ${c} cycle ${cycle}: its buffer is charged to ${usage.caller.connection}`);
          }
          buffer!.close();
        }
      }),
    );
    for (const c of clients) c.close();
    await drained(service);
    assert.strictEqual(cmaUsed(service), 0, 'the simulated heap space is back');
    // The service kept no buffer fd: only its bus connection and its inotify fd (+2) are left (client
    // sockets close asynchronously).
    await fdsSettle(fdsBefore + 2);
  });

  it('a client killed mid-call, one that exits holding buffers, one that floods: the service answers on, charges end', { timeout: 120_000 }, async () => {
    // Killed between sending Allocate and reading the reply.
    const killed = childClient(`const u = await connect({ bus: address }); const p = await u.negotiate(${JSON.stringify(SMALL)}); u.allocate(p); console.log('sent');`, bus.address, 'sent');
    await killed.ready;
    killed.kill();
    await killed.exited;
    // Exits without closing three buffers (its fds close with the process).
    const leaver = childClient(`const u = await connect({ bus: address }); const b = await u.allocate(await u.negotiate(${JSON.stringify({ ...SMALL, count: 3 })})); console.log('held ' + b.length); process.exit(0);`, bus.address);
    assert.match(await leaver.ready, /held 3/);
    // Floods: 3,000 calls without waiting for any reply, then is killed.
    const flood = childClient(`const u = await connect({ bus: address }); const p = await u.negotiate(${JSON.stringify(SMALL)}); for (let i = 0; i < 3000; i++) u.allocate(p).then((b) => b.forEach((x) => x.close()), () => {}); console.log('flooded'); setTimeout(() => {}, 60000);`, bus.address, 'flooded');
    await flood.ready;
    await sleep(300);
    flood.kill();
    await flood.exited;
    // The service still answers a new client at once, and every charge ends.
    const udalloc = await connect({ bus: bus.address });
    assert.strictEqual((await udalloc.negotiate(SMALL)).format, 'NV12');
    udalloc.close();
    await drained(service);
    assert.strictEqual(cmaUsed(service), 0);
    await fdsSettle(fdsBefore + 2);
  });

  it('malformed calls get named errors and the service stays up', async () => {
    const bus2 = await connectBus(bus.address);
    const devices = Array.from({ length: 10_000 }, (_, i) => `camera${i}:write`);
    const cases: Array<[string, string, unknown[], string]> = [
      ['Allocate', 's', ['{}'], ERRORS.InvalidArgs],
      ['Negotiate', 'i', [42], ERRORS.InvalidArgs],
      ['Negotiate', 'ss', ['{}', '{}'], ERRORS.InvalidArgs],
      ['Negotiate', 's', ['{"devices": ['], ERRORS.BadRequest],
      ['Negotiate', 's', ['\u0001\u0002 garbage *alias'], ERRORS.BadRequest],
      ['Negotiate', 's', ['[1, 2, 3]'], ERRORS.BadRequest],
      ['Negotiate', 's', [JSON.stringify({ ...SMALL, width: 1e12, height: 1e12 })], ERRORS.BadRequest],
      ['Negotiate', 's', [JSON.stringify({ ...SMALL, count: 1e9 })], ERRORS.BadRequest],
      ['Allocate', 'sa{sv}', [JSON.stringify({ ...SMALL, count: 100 }), {}], ERRORS.BadRequest],
      ['Negotiate', 's', [JSON.stringify({ ...SMALL, devices })], ERRORS.BadRequest],
      ['Negotiate', 's', [JSON.stringify({ ...SMALL, colour: 'blue' })], ERRORS.BadRequest],
      ['Negotiate', 's', ['x'.repeat(200_000)], ERRORS.BadRequest],
      ['Allocate', 'sa{sv}', [JSON.stringify(SMALL), { size: new dbus.Variant('u', 7) }], ERRORS.BadRequest],
      ['Allocate', 'sa{sv}', [JSON.stringify(SMALL), { name: new dbus.Variant('u', 7) }], ERRORS.BadRequest],
      ['Allocate', 'sa{sv}', [JSON.stringify(SMALL), { name: new dbus.Variant('s', 'n'.repeat(64)) }], ERRORS.BadRequest],
      ['Explode', '', [], ERRORS.UnknownMethod],
      ['__proto__', '', [], ERRORS.UnknownMethod],
    ];
    for (const [member, signature, body, expected] of cases) assert.strictEqual(await rawCall(bus2, member, signature, body), expected, `${member}(${signature}) ${JSON.stringify(body).slice(0, 80)}`);
    bus2.disconnect();
    await fdsSettle(fdsBefore + 2);
  });

  it('fds sent to the service are closed, never kept', async () => {
    const bus2 = await connectBus(bus.address);
    const before = openFds();
    const { openSync } = await import('node:fs');
    for (let i = 0; i < 50; i++) {
      const fd = openSync('/dev/null', 'r');
      assert.strictEqual(await rawCall(bus2, 'Negotiate', 'h', [fd]), ERRORS.InvalidArgs);
      closeSync(fd);
    }
    await sleep(50);
    assert.strictEqual(openFds(), before);
    bus2.disconnect();
  });

  it('a fuzz of 3,000 calls (random members, signatures and request texts): each a success or a named error, never internal', { timeout: 300_000 }, async () => {
    const bus2 = await connectBus(bus.address);
    const known = new Set<string>(Object.values(ERRORS).filter((e) => e !== ERRORS.Internal));
    const field = fc.oneof(fc.constantFrom('devices', 'width', 'height', 'count', 'formats', 'cpu', 'protected'), fc.string());
    const value = fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.oneof(fc.string(), fc.constantFrom('camera:write', 'display:read', 'gpu', 'NV12', 'XRGB8888')), { maxLength: 4 }), fc.constantFrom(64, 1920, 2 ** 53, -1, 0));
    const requestText = fc.oneof(fc.dictionary(field, value, { maxKeys: 7 }).map((o) => JSON.stringify({ ...SMALL, ...o })), fc.json(), fc.string());
    const call = fc.oneof(
      fc.tuple(fc.constantFrom('Negotiate', 'Explain'), requestText).map(([m, t]) => [m, 's', [t]] as const),
      requestText.map((t) => ['Allocate', 'sa{sv}', [t, {}]] as const),
      fc.tuple(fc.constantFrom('ListHeaps', 'GetUsage', 'Negotiate', 'Nope'), fc.constantFrom('', 'u', 'as')).map(([m, s]) => [m, s, s === '' ? [] : s === 'u' ? [7] : [['a']]] as const),
    );
    const calls = fc.sample(call, { numRuns: 3000, seed: 15 });
    const outcomes = new Map<string, number>();
    for (let i = 0; i < calls.length; i += 100) {
      const batch = await Promise.all(calls.slice(i, i + 100).map(([m, s, b]) => rawCall(bus2, m, s, [...b])));
      batch.forEach((outcome, j) => {
        assert.ok(outcome === 'ok' || known.has(outcome), `call ${i + j} ${JSON.stringify(calls[i + j]).slice(0, 200)} -> ${outcome}`);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      });
    }
    // The fuzz reached the service's answers, not only its argument checks.
    for (const o of ['ok', ERRORS.BadRequest, ERRORS.InvalidArgs]) assert.ok((outcomes.get(o) ?? 0) > 0, `${o}: ${JSON.stringify([...outcomes])}`);
    bus2.disconnect();
    await drained(service);
    await fdsSettle(fdsBefore + 2);
  });

  it('a user outside the policy gets nothing: no buffer, no fd, and no sight of other clients\' buffers', { timeout: 60_000 }, async () => {
    const root = await connect({ bus: bus.address });
    const held = await root.allocate(await root.negotiate(SMALL));
    const script = `
import json, os, sys
from gi.repository import Gio, GLib
conn = Gio.DBusConnection.new_for_address_sync(sys.argv[1], Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
def call(method, args, reply_type):
    return conn.call_with_unix_fd_list_sync('org.udalloc.Allocator1', '/org/udalloc/Allocator1', 'org.udalloc.Allocator1', method, args, GLib.VariantType(reply_type), Gio.DBusCallFlags.NONE, -1, None, None)
result = {'uid': os.getuid()}
try:
    call('Allocate', GLib.Variant('(sa{sv})', (sys.argv[2], {})), '(sah)')
    result['allocate'] = 'ok'
except GLib.Error as e:
    result['allocate'] = Gio.DBusError.get_remote_error(e)
    Gio.DBusError.strip_remote_error(e)
    result['message'] = e.message.split('\\n')[0]
usage, _ = call('GetUsage', None, '(s)')
result['usage'] = json.loads(usage.unpack()[0])
result['buffers_held'] = [l for l in (os.readlink('/proc/self/fd/' + f) for f in os.listdir('/proc/self/fd') if os.path.exists('/proc/self/fd/' + f)) if 'memfd:udalloc' in l or 'dmabuf' in l]
print(json.dumps(result))
`;
    const child = spawn('/usr/bin/python3', ['-c', script, bus.address, JSON.stringify(SMALL)], { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    assert.strictEqual(await new Promise((r) => child.once('exit', r)), 0, err);
    const result = JSON.parse(out) as { uid: number; allocate: string; message: string; usage: { caller: { uid: number }; buffers: unknown[] }; buffers_held: string[] };
    assert.strictEqual(result.uid, 65534);
    assert.strictEqual(result.allocate, ERRORS.QuotaExceeded);
    assert.match(result.message, /nobody \(uid 65534\) holds 0 B in cma heaps .* the quota is 0 B \(test policy default\.cma\)/);
    assert.strictEqual(result.usage.caller.uid, 65534, 'the service knows the caller from the bus, not from anything it sent');
    assert.deepStrictEqual(result.usage.buffers, [], 'root\'s buffer is not shown to nobody');
    assert.deepStrictEqual(result.buffers_held, [], 'no buffer fd reached it');
    for (const b of held) b.close();
    root.close();
    await drained(service);
  });
});
