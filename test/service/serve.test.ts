// The D-Bus service end to end on a private dbus-daemon and the simulated kernel: a Node client
// (connect()), a Python client through GLib's GDBus that nobody here wrote, named errors, policy
// and quotas, charges that end when no process holds a buffer, and the introspection data.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fstatSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { connect, ServiceError } from '../../src/service/client.js';
import { BUS_NAME, INTERFACE, INTROSPECTION_XML, OBJECT_PATH } from '../../src/service/interface.js';
import { dbus } from '../../src/service/bus.js';
import type { AllocatorService } from '../../src/service/server.js';
import { openFds, startBus, startService, type TestBus } from './harness.js';
import { loadPlatform, makeRequest } from '../../src/constraints/load.js';
import { negotiate } from '../../src/solver/negotiate.js';
import { explainChoices } from '../../src/solver/explain-choices.js';
import { allocatesOnEmptyHeaps } from '../../src/kernel/sim/fix-check.js';
import { clientText, opaqueView } from '../../src/service/opaque-heaps.js';
import { SimKernel } from '../../src/kernel/sim/kernel.js';

const execFileAsync = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const MiB = 2 ** 20;
const REQUEST = { devices: ['camera:write', 'display:read'], width: 640, height: 480, count: 2, cpu: 'readwrite' as const };

/** Waits out the grace of fds in flight, then asks for usage (which rescans). */
const settle = (ms = 80) => new Promise((r) => setTimeout(r, ms));

describe('udalloc serve on a private bus (simulated kernel)', () => {
  let bus: TestBus;
  let service: AllocatorService;
  before(async () => {
    bus = await startBus();
    service = await startService(bus, 'default: { cma: 8MiB }\nreach: { secure: [video] }\n');
  });
  after(async () => {
    await service.stop();
    await bus.stop();
  });

  it('connect(): negotiate, allocate, map and write the fds, charges while held, none once closed', async () => {
    const fdsBefore = openFds();
    const udalloc = await connect({ bus: bus.address });
    const plan = await udalloc.negotiate(REQUEST);
    assert.strictEqual(plan.format, 'NV12');
    assert.strictEqual(plan.heap.describe().kind, 'cma');
    const buffers = await udalloc.allocate(plan, { name: 'preview' });
    assert.strictEqual(buffers.length, 2);
    for (const b of buffers) {
      // A real fd of the planned size: on the simulated kernel, the sealed memfd standing for the dma-buf.
      assert.strictEqual(fstatSync(b.fd).size, plan.size);
      // Named by its handle (heap #2), never the heap's name, and by the charge it carries.
      assert.match(readlinkSync(`/proc/self/fd/${b.fd}`), /^\/memfd:udalloc:heap#2 ud:0:cma:preview-\d/);
      const view = b.map('readwrite');
      const bytes = view.bytes;
      bytes[0] = 0x5a;
      bytes[plan.size - 1] = 0xa5;
      view.end();
      const again = b.map('read');
      assert.deepStrictEqual([again.bytes[0], again.bytes[plan.size - 1]], [0x5a, 0xa5]);
      again.end();
    }
    const usage = (await udalloc.usage()) as { buffers: Array<{ inode: number; size: number; yours: boolean }>; kinds: Record<string, { charged: number; quota: number }> };
    assert.deepStrictEqual(usage.buffers.map((b) => b.inode).sort(), buffers.map((b) => fstatSync(b.fd).ino).sort());
    assert.ok(usage.buffers.every((b) => b.yours));
    assert.strictEqual(usage.kinds['cma']!.charged, 2 * plan.size);
    assert.strictEqual(usage.kinds['cma']!.quota, 8 * MiB);
    assert.strictEqual(service.allocator.stats().heaps.find((h) => h.heap.describe().kind === 'cma')!.buffers, 2);
    for (const b of buffers) b.close();
    await settle();
    const after = (await udalloc.usage()) as { buffers: unknown[]; kinds: Record<string, { charged: number }> };
    assert.deepStrictEqual(after.buffers, []);
    assert.strictEqual(after.kinds['cma']!.charged, 0);
    // The simulated heap space is back too.
    assert.strictEqual(service.allocator.stats().heaps.find((h) => h.heap.describe().kind === 'cma')!.used, 0);
    udalloc.close();
    await settle(20);
    assert.strictEqual(openFds(), fdsBefore);
  });

  it('a buffer passed to another process stays charged while that process holds it', async () => {
    const udalloc = await connect({ bus: bus.address });
    const [buffer] = await udalloc.allocate(await udalloc.negotiate({ ...REQUEST, count: 1 }));
    // A child inherits a dup of the fd (fd 3) and keeps it for a while after this process closes its own.
    const child = (await import('node:child_process')).spawn('sleep', ['0.6'], { stdio: ['ignore', 'ignore', 'ignore', buffer!.fd] });
    await settle(50);
    buffer!.close();
    await settle();
    const held = (await udalloc.usage()) as { buffers: unknown[] };
    assert.strictEqual(held.buffers.length, 1, 'the child still holds it');
    await new Promise((r) => child.once('exit', r));
    await settle();
    assert.deepStrictEqual(((await udalloc.usage()) as { buffers: unknown[] }).buffers, []);
    udalloc.close();
  });

  // Debian's python3 (apt-get install python3-gi), not one a version manager put first on PATH.
  it('a Python GDBus client receives the fds, checks them with fstat and fdinfo, mmaps, writes and reads back', async () => {
    const script = `
import json, mmap, os, sys
from gi.repository import Gio, GLib
conn = Gio.DBusConnection.new_for_address_sync(sys.argv[1], Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
def call(method, args, reply_type):
    return conn.call_with_unix_fd_list_sync('org.udalloc.Allocator1', '/org/udalloc/Allocator1', 'org.udalloc.Allocator1', method, args, GLib.VariantType(reply_type), Gio.DBusCallFlags.NONE, -1, None, None)
request = json.dumps({"devices": ["camera:write", "display:read"], "width": 1280, "height": 720, "count": 3, "cpu": "readwrite"})
reply, fd_list = call('Allocate', GLib.Variant('(sa{sv})', (request, {})), '(sah)')
plan_text, handles = reply.unpack()
plan = json.loads(plan_text)
fds = fd_list.steal_fds()
out = []
for h in handles:
    fd = fds[h]
    info = dict(l.split(':', 1) for l in open('/proc/self/fdinfo/%d' % fd).read().splitlines() if ':' in l)
    m = mmap.mmap(fd, plan['size'])
    m[0:5] = b'hello'
    m[plan['size'] - 5:] = b'world'
    back = (m[0:5] + m[plan['size'] - 5:]).decode()
    m.close()
    out.append({'size': os.fstat(fd).st_size, 'link': os.readlink('/proc/self/fd/%d' % fd), 'exporter': info.get('exp_name', '').strip(), 'back': back})
errors = []
for text in ['{not json', '{"devices": ["camera"], "width": -4, "height": 2}', '{"devices": ["camera:write", "display:read"], "width": 3840, "height": 2160, "count": 40, "formats": ["NV12"]}']:
    try:
        call('Negotiate', GLib.Variant('(s)', (text,)), '(s)')
        errors.append(None)
    except GLib.Error as e:
        name = Gio.DBusError.get_remote_error(e)
        Gio.DBusError.strip_remote_error(e)
        errors.append({'name': name, 'message': e.message})
print(json.dumps({'plan': plan, 'buffers': out, 'errors': errors}))
`;
    const run = await execFileAsync('/usr/bin/python3', ['-c', script, bus.address], { encoding: 'utf8' });
    const result = JSON.parse(run.stdout) as { plan: { size: number; count: number }; buffers: Array<{ size: number; link: string; exporter: string; back: string }>; errors: Array<{ name: string; message: string } | null> };
    assert.strictEqual(result.buffers.length, 3);
    for (const b of result.buffers) {
      assert.strictEqual(b.size, result.plan.size);
      assert.match(b.link, /^\/memfd:udalloc:/);
      assert.strictEqual(b.exporter, '', 'a memfd has no dma-buf exporter');
      assert.strictEqual(b.back, 'helloworld');
    }
    assert.deepStrictEqual(result.errors.map((e) => e?.name), ['org.udalloc.Allocator1.Error.BadRequest', 'org.udalloc.Allocator1.Error.BadRequest', 'org.udalloc.Allocator1.Error.Conflict']);
    assert.match(result.errors[0]!.message, /request from root/);
    assert.match(result.errors[1]!.message, /width/);
    assert.match(result.errors[2]!.message, /fixes/);
  });

  it('40 buffers: one Allocate call carries at most 16 fds and says so; connect().allocate() asks in parts and gets all 40 in one layout', async () => {
    const udalloc = await connect({ bus: bus.address });
    const fields = { ...REQUEST, width: 64, height: 64, count: 40 };
    // The bare call: refused with the limit named, and nothing charged.
    await assert.rejects(
      () => udalloc.bus.call(new dbus.Message({ destination: BUS_NAME, path: OBJECT_PATH, interface: INTERFACE, member: 'Allocate', signature: 'sa{sv}', body: [JSON.stringify(fields), {}] })),
      (err: unknown) => {
        const text = (err as { text?: string }).text ?? '';
        assert.match(text, /^count 40: one Allocate call hands out at most 16 buffers \(a D-Bus message carries at most 16 fds\); ask for 16 or fewer per call/);
        assert.deepStrictEqual(JSON.parse(text.slice(text.lastIndexOf('details: ') + 9)), { field: 'count', value: 40, limit: 16 });
        return true;
      },
    );
    const plan = await udalloc.negotiate(fields);
    const buffers = await udalloc.allocate(plan, { name: 'many' });
    try {
      assert.strictEqual(buffers.length, 40);
      assert.strictEqual(buffers.used.count, 40);
      assert.strictEqual(new Set(buffers.map((b) => fstatSync(b.fd).ino)).size, 40, 'forty distinct buffers');
      for (const b of buffers) assert.strictEqual(fstatSync(b.fd).size, plan.size);
      assert.deepStrictEqual([udalloc.stats().buffers.find((r) => r.fd === buffers[0]!.fd)?.name, udalloc.stats().buffers.find((r) => r.fd === buffers[39]!.fd)?.name], ['many-0', 'many-39']);
      const usage = (await udalloc.usage()) as { kinds: Record<string, { charged: number }> };
      assert.strictEqual(usage.kinds[plan.heap.describe().kind]!.charged, 40 * plan.size);
    } finally {
      for (const b of buffers) b.close();
      udalloc.close();
    }
  });

  it('quota exceeded is a named error with the quota, the charge, the ask and the buffers that hold it', async () => {
    const udalloc = await connect({ bus: bus.address });
    const first = await udalloc.allocate(await udalloc.negotiate({ ...REQUEST, width: 1920, height: 1080, count: 2 }));
    const asked = first.used.size * 2;
    await assert.rejects(
      async () => udalloc.allocate(await udalloc.negotiate({ ...REQUEST, width: 1920, height: 1080, count: 2 })),
      (err: unknown) => {
        assert.ok(err instanceof ServiceError);
        assert.strictEqual(err.error, 'QuotaExceeded');
        assert.match(err.message, /quota is 8 MiB \(test policy default\.cma\)/);
        assert.strictEqual(err.details['quota'], 8 * MiB);
        assert.strictEqual(err.details['charged'], asked);
        assert.strictEqual(err.details['asked'], asked);
        assert.deepStrictEqual((err.details['held'] as Array<{ inode: number }>).map((h) => h.inode).sort(), first.map((b) => fstatSync(b.fd).ino).sort());
        return true;
      },
    );
    // Once the first buffers are gone, the same request is admitted.
    for (const b of first) b.close();
    await settle();
    const second = await udalloc.allocate(await udalloc.negotiate({ ...REQUEST, width: 1920, height: 1080, count: 2 }));
    assert.strictEqual(second.length, 2);
    udalloc.close();
  });

  it('policy: a heap kind reserved to a group is PolicyDenied for others, with the groups named', async () => {
    const udalloc = await connect({ bus: bus.address });
    const heaps = udalloc.heaps();
    assert.ok(heaps.some((h) => h.describe().kind === 'secure'));
    await assert.rejects(
      async () => udalloc.allocate(await udalloc.negotiate({ devices: ['drm-protected'], width: 1920, height: 1080, protected: true })),
      (err: unknown) => err instanceof ServiceError && err.error === 'PolicyDenied' && /secure heaps are for members of video/.test(err.message) && /root \(uid 0\)/.test(err.message),
    );
    udalloc.close();
  });

  it('a conflict is a Conflict error whose details carry the atoms and the verified fixes', async () => {
    const udalloc = await connect({ bus: bus.address });
    await assert.rejects(
      () => udalloc.negotiate({ devices: ['camera:write', 'display:read'], width: 3840, height: 2160, count: 40, formats: ['NV12'] }),
      (err: unknown) => {
        assert.ok(err instanceof ServiceError);
        assert.strictEqual(err.error, 'Conflict');
        const fixes = err.details['fixes'] as Array<{ changes: Array<{ field: string; value: number }> }>;
        assert.ok(fixes.some((f) => f.changes.some((c) => c.field === 'count' && c.value === 21)));
        // The atoms: the pools, the count and the size the request asked for, with the display's hardware fact.
        const atoms = err.details['core'] as Array<{ device?: string; heap?: string; constraint: string; changeable: boolean }>;
        assert.deepStrictEqual(atoms.map((a) => `${a.device ?? a.heap ?? 'request'}.${a.constraint}${a.changeable ? '' : ' (hardware)'}`).sort(), ['display.iommu (hardware)', 'heap #2.capacity', 'heap #3.capacity', 'request.count', 'request.size']);
        return true;
      },
    );
    // Explain answers what the library answers on the same board: the same fixes and the same
    // verdict for every format and heap (the service's own reasons named by the caller, not the files).
    const fields = { devices: ['camera:write', 'display:read'], width: 3840, height: 2160, count: 40, formats: ['NV12'] };
    const explained = (await udalloc.explain(fields)) as { conflict: { fixes: Array<{ fix: string; changes: unknown }> }; choices: unknown };
    // Clients know heaps by handle: the library's answer on the board as the service shows it
    // (heap #N for each heap), and no heap's name anywhere in what the service sent.
    const real = loadPlatform(join(ROOT, 'boards/example.yaml'));
    const board = opaqueView(real, new SimKernel(real.heaps)).platform;
    const sent = JSON.stringify(explained);
    for (const h of real.heaps.filter((x) => x.name !== x.kind)) assert.ok(!sent.includes(h.name), `the service's Explain names heap ${h.name}`);
    const request = makeRequest(board, fields);
    const local = negotiate(board, request, { check: allocatesOnEmptyHeaps });
    if (local.ok) throw new Error('the library plans what the service calls a conflict');
    const asSent = <T>(value: T): T => JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' ? clientText(v) : v))) as T;
    assert.deepStrictEqual(explained.conflict.fixes.map((f) => [f.fix, f.changes]), asSent(local.conflict.fixes.map((f) => [f.text, f.changes])));
    assert.ok(explained.conflict.fixes.length >= 3);
    assert.deepStrictEqual(explained.choices, asSent(explainChoices(board, request, local)));
    udalloc.close();
  });

  it('two users send the same conflicting request text: each conflict names only its own caller', { timeout: 60_000 }, async () => {
    // 16 x 4096x4096 NV12 for a display without an IOMMU: no contiguous pool holds them. Each asks
    // Negotiate and Allocate (Allocate judges against capacity, where conflicts are kept), root first.
    const text = JSON.stringify({ devices: ['camera:write', 'display:read'], width: 4096, height: 4096, count: 16, formats: ['NV12'] });
    const script = `
import json, sys
from gi.repository import Gio, GLib
conn = Gio.DBusConnection.new_for_address_sync(sys.argv[1], Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
out = []
for method, args, reply in [('Negotiate', GLib.Variant('(s)', (sys.argv[2],)), '(s)'), ('Allocate', GLib.Variant('(sa{sv})', (sys.argv[2], {})), '(sah)')]:
    try:
        conn.call_with_unix_fd_list_sync('org.udalloc.Allocator1', '/org/udalloc/Allocator1', 'org.udalloc.Allocator1', method, args, GLib.VariantType(reply), Gio.DBusCallFlags.NONE, -1, None, None)
        out.append({'error': None})
    except GLib.Error as e:
        name = Gio.DBusError.get_remote_error(e)
        Gio.DBusError.strip_remote_error(e)
        out.append({'error': name, 'details': json.loads(e.message.split('details: ', 1)[1])})
print(json.dumps(out))
`;
    const { spawn } = await import('node:child_process');
    const ask = async (uid: number): Promise<Array<{ error: string; details: Record<string, unknown> }>> => {
      const child = spawn('/usr/bin/python3', ['-c', script, bus.address, text], { uid, gid: uid, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      assert.strictEqual(await new Promise((r) => child.once('exit', r)), 0, err);
      return JSON.parse(out) as Array<{ error: string; details: Record<string, unknown> }>;
    };
    const sourcesOf = (details: Record<string, unknown>) => [...(details['core'] as Array<{ source: string }>), ...(details['atoms'] as Array<{ source: string }>)].map((a) => a.source).filter((s) => s.startsWith('request from'));
    for (const [who, uid] of [['root', 0], ['nobody', 65534]] as const) {
      const answers = await ask(uid);
      assert.deepStrictEqual(answers.map((r) => r.error), ['org.udalloc.Allocator1.Error.Conflict', 'org.udalloc.Allocator1.Error.Conflict'], who);
      for (const answer of answers) {
        const sources = sourcesOf(answer.details);
        assert.ok(sources.length > 0 && sources.every((s) => s.startsWith(`request from ${who} (`)), `${who}: ${JSON.stringify(sources)}`);
      }
    }
  });

  it('the CLI with --service: heaps, negotiate, alloc, and exit codes for conflict (3), bad input (2) and a refusal (5)', { timeout: 60_000 }, async () => {
    const cli = (...args: string[]) =>
      execFileAsync(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), ...args], { encoding: 'utf8' }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
    const heaps = await cli('heaps', '--service', bus.address);
    assert.strictEqual(heaps.code, 0, heaps.stderr);
    assert.match(heaps.stdout, /^heap #2 +cma +256 MiB +free +[\d.]+ MiB +contiguous$/m);
    assert.match(heaps.stdout, /^heap #3 +carveout .*\(the policy keeps you out\)$/m);
    const plan = await cli('negotiate', '--service', bus.address, '--devices', 'camera:write,display:read', '--size', '640x480', '--json');
    assert.strictEqual(plan.code, 0, plan.stderr);
    assert.strictEqual((JSON.parse(plan.stdout) as { plan: { format: string } }).plan.format, 'NV12');
    const alloc = await cli('alloc', '--service', bus.address, '--devices', 'camera:write,display:read', '--size', '640x480', '--count', '2', '--json');
    assert.strictEqual(alloc.code, 0, alloc.stderr);
    assert.strictEqual((JSON.parse(alloc.stdout) as { buffers: unknown[] }).buffers.length, 2);
    // One JSON shape for a plan: the service's negotiate and alloc, and the local ones on the same
    // board, have the same fields and values; only the heap differs (a handle there, a name here).
    const flags = ['--devices', 'camera:write,display:read', '--size', '640x480', '--count', '2', '--json'];
    const shapes = await Promise.all([
      cli('negotiate', '--service', bus.address, ...flags),
      cli('alloc', '--service', bus.address, ...flags),
      cli('negotiate', '--platform', 'boards/example.yaml', ...flags),
      cli('alloc', '--platform', 'boards/example.yaml', '--backend', 'sim', ...flags),
    ]);
    const planOf = (r: { code: number; stdout: string; stderr: string }) => {
      assert.strictEqual(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { plan: Record<string, unknown> }).plan;
    };
    const [serviceNegotiated, serviceAllocated, negotiated, allocated] = shapes.map(planOf) as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    assert.deepStrictEqual(Object.keys(negotiated), ['heap', 'heapKind', 'format', 'fourcc', 'modifier', 'modifierValue', 'width', 'height', 'size', 'count', 'alignment', 'cpu', 'planes']);
    assert.deepStrictEqual(negotiated, { ...allocated });
    assert.deepStrictEqual(serviceNegotiated, serviceAllocated);
    assert.deepStrictEqual({ ...serviceNegotiated, heap: negotiated['heap'] }, negotiated);
    assert.strictEqual(typeof serviceNegotiated['heap'], 'number');
    assert.strictEqual(negotiated['heap'], 'linux,cma');
    assert.strictEqual(negotiated['fourcc'], 0x3231564e);
    const touched = await cli('alloc', '--service', bus.address, '--devices', 'camera:write,display:read', '--size', '640x480', '--cpu', 'readwrite', '--name', 'cam');
    assert.strictEqual(touched.code, 0, touched.stderr);
    assert.match(touched.stdout, /^  fd \d+ .* cam-0  write\+read back: ok$/m);
    const charges = await cli('usage', '--service', bus.address);
    assert.strictEqual(charges.code, 0, charges.stderr);
    assert.match(charges.stdout, /^root \(uid 0\) as the service sees you:\n  system +charged/);
    assert.match(charges.stdout, /^  cma +charged +[\d.]+ \w*B  quota 8 MiB$/m);
    const explained = await cli('explain', '--service', bus.address, '--devices', 'camera:write,display:read', '--size', '640x480');
    assert.strictEqual(explained.code, 0, explained.stderr);
    assert.match(explained.stdout, /^plan: NV12 LINEAR in \[heap #2\] \(cma\)/);
    assert.match(explained.stdout, /^formats the request accepts:$/m);
    const conflict = await cli('negotiate', '--service', bus.address, '--devices', 'camera:write,display:read', '--size', '3840x2160', '--count', '40', '--format', 'NV12');
    assert.strictEqual(conflict.code, 3);
    assert.match(conflict.stderr, /^udalloc negotiate: conflict: no plan satisfies every device/);
    assert.doesNotMatch(conflict.stderr, /Conflict: conflict/);
    const bad = await cli('negotiate', '--service', bus.address, '--devices', 'toaster', '--size', '64x64');
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /toaster/);
    const refused = await cli('alloc', '--service', bus.address, '--devices', 'camera:write,display:read', '--size', '3840x2160', '--count', '2', '--format', 'NV12');
    assert.strictEqual(refused.code, 5, refused.stderr);
    assert.match(refused.stderr, /QuotaExceeded: .*the quota is 8 MiB/);
  });

  it('introspection answers the documented XML, and packaging/ holds the same file', async () => {
    // Asynchronously: the service runs in this process and must answer while gdbus waits.
    const xml = await execFileAsync('gdbus', ['introspect', '--address', bus.address, '--dest', 'org.udalloc.Allocator1', '--object-path', '/org/udalloc/Allocator1', '--xml'], { encoding: 'utf8' }).then((r) => r.stdout);
    for (const m of ['Negotiate', 'Explain', 'Allocate', 'AllocatePipeline', 'ListHeaps', 'GetUsage']) assert.match(xml, new RegExp(`<method name="${m}">`));
    assert.match(xml, /<arg type="ah" name="fds" direction="out"\/>|<arg name="fds" type="ah" direction="out"\/>/);
    assert.strictEqual(readFileSync(join(ROOT, 'packaging/org.udalloc.Allocator1.xml'), 'utf8'), INTROSPECTION_XML);
  });
});

describe('packaging/: the bus policy file on a bus with the system bus\'s default policy', () => {
  it('root owns the name and serves; another user may call it but not own the name; the example policy loads', { timeout: 60_000 }, async () => {
    const bus = await startBus({ systemPolicyWith: join(ROOT, 'packaging') });
    try {
      const service = await startService(bus, readFileSync(join(ROOT, 'packaging/policy.example.yaml'), 'utf8'));
      try {
        const script = `
import json, sys
from gi.repository import Gio, GLib
conn = Gio.DBusConnection.new_for_address_sync(sys.argv[1], Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
heaps = conn.call_sync('org.udalloc.Allocator1', '/org/udalloc/Allocator1', 'org.udalloc.Allocator1', 'ListHeaps', None, GLib.VariantType('(aa{sv})'), Gio.DBusCallFlags.NONE, -1, None).unpack()[0]
try:
    conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'RequestName', GLib.Variant('(su)', ('org.udalloc.Allocator1', 4)), GLib.VariantType('(u)'), Gio.DBusCallFlags.NONE, -1, None)
    own = 'granted'
except GLib.Error as e:
    own = Gio.DBusError.get_remote_error(e)
print(json.dumps({'kinds': sorted(h['kind'] for h in heaps), 'reachable': {h['kind']: h['reachable'] for h in heaps}, 'own': own}))
`;
        const { spawn } = await import('node:child_process');
        const child = spawn('/usr/bin/python3', ['-c', script, bus.address], { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (b: Buffer) => (out += b.toString()));
        child.stderr.on('data', (b: Buffer) => (err += b.toString()));
        assert.strictEqual(await new Promise((r) => child.once('exit', r)), 0, err);
        const result = JSON.parse(out) as { kinds: string[]; reachable: Record<string, boolean>; own: string };
        assert.deepStrictEqual(result.kinds, ['carveout', 'cma', 'secure', 'system']);
        // policy.example.yaml: carveouts for video, secure for drm; nobody is in neither.
        assert.deepStrictEqual(result.reachable, { system: true, cma: true, carveout: false, secure: false });
        assert.strictEqual(result.own, 'org.freedesktop.DBus.Error.AccessDenied');
      } finally {
        await service.stop();
      }
    } finally {
      await bus.stop();
    }
  });
});
