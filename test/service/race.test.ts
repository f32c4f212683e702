// Quotas and the CMA reserve hold when calls race: 32 Allocate calls sent at once, over 32
// connections from 4 processes (GLib's GDBus, asynchronous calls), for quotas that fit k buffers:
// exactly k are granted and the rest refused, round after round.

import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import type { AllocatorService } from '../../src/service/server.js';
import { ERRORS } from '../../src/service/interface.js';
import { startBus, startService, type TestBus } from './harness.js';

const PROCESSES = 4;
const CONNECTIONS = 8;
const ROUNDS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A client process: CONNECTIONS connections; on "go" each sends one Allocate at once (async), and
 * the process prints what came back; on "free" it closes every fd it got; on "exit" it leaves.
 */
const CLIENT = `
import json, os, sys
from gi.repository import Gio, GLib
address, request, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
flags = Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION
conns = [Gio.DBusConnection.new_for_address_sync(address, flags, None, None) for _ in range(n)]
held = []
print('ready', flush=True)
for line in sys.stdin:
    word = line.strip()
    if word == 'go':
        loop = GLib.MainLoop()
        out = []
        def done(conn, res, _):
            try:
                _, fds = conn.call_with_unix_fd_list_finish(res)
                held.extend(fds.steal_fds())
                out.append('granted')
            except GLib.Error as e:
                out.append(Gio.DBusError.get_remote_error(e) or e.message)
            if len(out) == n:
                loop.quit()
        for c in conns:
            c.call_with_unix_fd_list('org.udalloc.Allocator1', '/org/udalloc/Allocator1', 'org.udalloc.Allocator1', 'Allocate', GLib.Variant('(sa{sv})', (request, {})), GLib.VariantType('(sah)'), Gio.DBusCallFlags.NONE, 60000, None, None, done, None)
        loop.run()
        print(json.dumps(out), flush=True)
    elif word == 'free':
        for fd in held:
            os.close(fd)
        held.clear()
        print('freed', flush=True)
    elif word == 'exit':
        break
`;

interface Client {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: AsyncIterator<string>;
}

async function startClient(bus: TestBus, request: object, ids: { uid: number; gid: number }): Promise<Client> {
  const child = spawn('/usr/bin/python3', ['-c', CLIENT, bus.address, JSON.stringify(request), String(CONNECTIONS)], { uid: ids.uid, gid: ids.gid });
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  assert.strictEqual(first.value, 'ready', `client did not start: ${err}`);
  return { child, lines };
}

async function ask(clients: readonly Client[], word: string): Promise<string[]> {
  for (const c of clients) c.child.stdin.write(`${word}\n`);
  return Promise.all(clients.map(async (c) => (await c.lines.next()).value as string));
}

/** Waits until the service has released every charge (the clients closed their fds). */
async function drained(service: AllocatorService): Promise<void> {
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    service.ledger.refresh();
    if (service.ledger.size === 0 && service.ledger.pending === 0) return;
    await sleep(20);
  }
  assert.fail(`${service.ledger.size} grant(s) still charged`);
}

/**
 * ROUNDS rounds: every client sends its calls at once; the grants must be exactly `granted` in
 * all, per uid when `perUid` says so, and every other answer `refusal`.
 */
async function race(service: AllocatorService, clients: readonly Client[], expected: { granted: number; refusal: string; perUid?: ReadonlyMap<number, number>; uids?: readonly number[] }): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    const answers = (await ask(clients, 'go')).map((line) => JSON.parse(line) as string[]);
    const all = answers.flat();
    assert.strictEqual(all.length, PROCESSES * CONNECTIONS);
    const granted = all.filter((a) => a === 'granted').length;
    assert.strictEqual(granted, expected.granted, `round ${round}: ${granted} granted, ${expected.granted} fit: ${JSON.stringify(answers)}`);
    assert.ok(all.every((a) => a === 'granted' || a === expected.refusal), `round ${round}: ${JSON.stringify(answers)}`);
    if (expected.perUid) {
      for (const [uid, n] of expected.perUid) {
        const mine = answers.filter((_, i) => expected.uids![i] === uid).flat().filter((a) => a === 'granted').length;
        assert.strictEqual(mine, n, `round ${round}: uid ${uid} got ${mine}`);
      }
    }
    assert.deepStrictEqual(await ask(clients, 'free'), clients.map(() => 'freed'));
    await drained(service);
  }
}

// 1920x1080 NV12 for two devices behind IOMMUs: 3342336 bytes each in the system heap (CMA, the
// next ranked heap, is held to 2 MiB: no such buffer fits there); for the display (no IOMMU) in
// CMA, 4096x4096 XRGB8888: 64 MiB each.
const SYSTEM_BUFFER = { devices: ['camera:write', 'gpu:read'], width: 1920, height: 1080, formats: ['NV12'], count: 1 };
const CMA_BUFFER = { devices: ['display:read'], width: 4096, height: 4096, formats: ['XRGB8888'], count: 1 };

for (const scenario of [
  { name: 'one user with a quota for 2 buffers: exactly 2 of 32 calls granted, 30 QuotaExceeded', policy: 'users: { root: { system: 8MiB, cma: 2MiB } }', request: SYSTEM_BUFFER, ids: [{ uid: 0, gid: 0 }], expected: { granted: 2, refusal: ERRORS.QuotaExceeded } },
  {
    name: 'two users of one group with its quota (2 buffers each): exactly 2 each, the rest QuotaExceeded',
    policy: 'groups: { video: { system: 8MiB, cma: 2MiB } }\ndefault: { system: 0, cma: 0 }',
    request: SYSTEM_BUFFER,
    ids: [{ uid: 0, gid: 44 }, { uid: 65534, gid: 44 }],
    expected: { granted: 4, refusal: ERRORS.QuotaExceeded, perUid: new Map([[0, 2], [65534, 2]]) },
  },
  { name: 'the CMA reserve (64 MiB of 256): exactly 3 buffers of 64 MiB granted, 29 ReserveKept', policy: 'cmaReserve: 64MiB', request: CMA_BUFFER, ids: [{ uid: 0, gid: 0 }], expected: { granted: 3, refusal: ERRORS.ReserveKept } },
]) {
  describe(`racing Allocate calls: ${scenario.name}`, () => {
    let bus: TestBus;
    let service: AllocatorService;
    let clients: Client[];
    before(async () => {
      bus = await startBus();
      service = await startService(bus, scenario.policy);
      // The processes alternate between the users given.
      const ids = Array.from({ length: PROCESSES }, (_, i) => scenario.ids[i % scenario.ids.length]!);
      clients = await Promise.all(ids.map((id) => startClient(bus, scenario.request, id)));
      (scenario.expected as { uids?: number[] }).uids = ids.map((id) => id.uid);
    });
    after(async () => {
      for (const c of clients ?? []) c.child.stdin.end('exit\n');
      await Promise.all((clients ?? []).map((c) => new Promise((r) => (c.child.exitCode !== null ? r(null) : c.child.once('exit', r)))));
      await service?.stop();
      await bus?.stop();
    });
    it(`${ROUNDS} rounds of ${PROCESSES * CONNECTIONS} calls at once`, { timeout: 120_000 }, async () => {
      await race(service, clients, scenario.expected);
    });
  });
}
