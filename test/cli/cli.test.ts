// The command line as scripts use it: exit codes, one JSON object, errors on stderr.

import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { each, assertMatches, testDir } from '../helpers.js';

const CLI = 'dist/src/cli/main.js';
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('udalloc negotiate', () => {
  it('prints exactly one JSON object for a plan and exits 0', () => {
    const r = run('negotiate', '--platform', 'boards/example.yaml', '--request', 'examples/camera-display.yaml', '--json');
    assert.strictEqual(r.code, 0);
    const json = JSON.parse(r.out);
    assertMatches(json.plan, { heap: 'linux,cma', format: 'NV12', modifier: 'LINEAR', size: 3342336 });
    assert.deepStrictEqual(json.plan.planes, [
      { offset: 0, pitch: 2048, size: 2228224 },
      { offset: 2228224, pitch: 2048, size: 1114112 },
    ]);
    assert.strictEqual(Array.isArray(json.alternatives), true);
  });

  it('takes the request as flags', () => {
    const r = run('negotiate', '--platform', 'boards/example.yaml', '--devices', 'camera,encoder', '--size', '1280x720', '--format', 'NV12', '--cpu', 'write', '--count', '2', '--json');
    assert.strictEqual(r.code, 0);
    assertMatches(JSON.parse(r.out).plan, { heap: 'system', count: 2 });
  });

  it('exits 3 with the conflict object when nothing fits', () => {
    const r = run('negotiate', '--platform', 'boards/example.yaml', '--devices', 'camera,display', '--size', '1920x1080', '--format', 'XRGB8888', '--json');
    assert.strictEqual(r.code, 3);
    const json = JSON.parse(r.out);
    assert.deepStrictEqual(json.conflict.atoms, [{ request: true, constraint: 'formats', value: ['XRGB8888'], source: '--format on the command line', changeable: true }]);
    // A program can apply a fix: each carries its changes as data, and the plans they lead to.
    assert.deepStrictEqual(json.conflict.fixes[0].changes, [{ target: 'request', field: 'formats', value: ['XRGB8888', 'NV12'] }]);
    assert.strictEqual(json.conflict.fixes[0].fix, 'accept NV12 in the request (both camera and display take it): --format XRGB8888,NV12');
    assert.strictEqual(json.conflict.fixes[0].plans[0].format, 'NV12');
    const applied = run('negotiate', '--platform', 'boards/example.yaml', '--devices', 'camera,display', '--size', '1920x1080', '--format', json.conflict.fixes[0].changes[0].value.join(','), '--json');
    assert.strictEqual(applied.code, 0);
  });

  it('prints a readable explanation without --json', () => {
    const r = run('negotiate', '--platform', 'boards/example.yaml', '--devices', 'camera,display', '--size', '3840x2160', '--format', 'NV12', '--count', '40');
    assert.strictEqual(r.code, 3);
    assert.ok((r.out).includes('heap linux,cma capacity = 256 MiB    (boards/example.yaml:6 heaps[1])'), `expected to contain ${'heap linux,cma capacity = 256 MiB    (boards/example.yaml:6 heaps[1])'}`);
    assert.ok(r.out.includes('  - grow linux,cma from 256 MiB to 480 MiB (the buffers take 503177216 bytes: 40 x 12443648, each placed on a 1 MiB boundary as the kernel aligns them, rounded up to whole 2 MiB pageblocks as CMA areas are)'), r.out);
  });

  each([
    [['--platform', 'boards/example.yaml', '--devices', 'camra', '--size', '64x64', '--format', 'NV12'], /devices\[0\] = "camra": no device of that name .*did you mean camera/],
    [['--platform', 'boards/example.yaml', '--devices', 'camera', '--size', '64by64', '--format', 'NV12'], /--size "64by64": expected WIDTHxHEIGHT/],
    [['--platform', 'boards/example.yaml', '--devices', 'camera', '--size', '64x64', '--format', 'NV12', '--count=-3'], /--count "-3": must be a positive whole number/],
    // Written as a user would: the dash-led value reads as an option; the message says how to pass it.
    [['--platform', 'boards/example.yaml', '--devices', 'camera', '--size', '64x64', '--format', 'NV12', '--count', '-3'], /^udalloc negotiate: --count: its value starts with "-", which reads as another option; write --count=VALUE/],
    [['--platform', 'rpi4', '--devices', 'hvs', '--size', '64x64'], /platform "rpi4": no such file, and no shipped board of that name \(did you mean raspberry-pi-4\?\)/],
    [['--platform', 'raspbery-pi-4', '--devices', 'hvs', '--size', '64x64'], /\(did you mean raspberry-pi-4\?\)/],
    [['--platform', 'boards/nope.yaml'], /cannot read platform profile boards\/nope\.yaml: no such file \(ENOENT\); expected a platform profile file/],
    // "-" reads standard input: here empty, which is no profile.
    [['--platform', '-', '--devices', 'camera', '--size', '64x64'], /^udalloc negotiate: stdin: profile field heaps is missing/],
    [['--devices', 'camera', '--format', 'NV12'], /using the built-in example board \(boards\/example\.yaml\)\n.*request flags: request field width is missing \(set it with --size/s],
    [['--platform', 'boards/example.yaml', '--bogus'], /Unknown option '--bogus'/],
  ], 'bad input %j exits 2 naming the problem', (args, message) => {
    const r = run('negotiate', ...args);
    assert.strictEqual(r.code, 2);
    assert.match(r.err, message);
    assert.strictEqual(r.out, '');
  });

  it('"-" reads a request or a profile from standard input', () => {
    const request = spawnSync(process.execPath, [CLI, 'negotiate', '--platform', 'example', '--request', '-'], { encoding: 'utf8', input: 'width: 64\nheight: 64\ndevices: [camera, display]\nformats: [NV12]\n' });
    assert.strictEqual(request.status, 0, request.stderr);
    assert.match(request.stdout, /^plan: NV12 LINEAR in linux,cma/);
    const profile = spawnSync(process.execPath, [CLI, 'devices', '--platform', '-'], { encoding: 'utf8', input: readFileSync('boards/example.yaml', 'utf8') });
    assert.strictEqual(profile.status, 0, profile.stderr);
    assert.match(profile.stdout, /^ {4}iommu: stdin:\d+ devices\[0\]\.iommu$/m);
  });

  it('unknown commands exit 2 with usage', () => {
    const r = run('negotaite');
    assert.strictEqual(r.code, 2);
    assert.match(r.err, /unknown command "negotaite"/);
  });
});

describe('udalloc explain', () => {
  it('prints the negotiation, then every format and heap with its verdict (text and --json)', () => {
    const r = run('explain', '--platform', 'boards/example.yaml', '--devices', 'camera,display', '--size', '1920x1080', '--format', 'NV12,XRGB8888');
    assert.strictEqual(r.code, 0);
    assert.match(r.out, /^plan: NV12 LINEAR in linux,cma/);
    assert.match(r.out, /\n {2}XRGB8888 {2}no: camera does not list XRGB8888\n/);
    assert.match(r.out, /\n {2}system {5}no: display: no IOMMU, heap system not contiguous\n/);
    const j = run('explain', '--platform', 'boards/example.yaml', '--devices', 'decoder:write,gpu:write', '--size', '64x64', '--format', 'NV12', '--json');
    assert.strictEqual(j.code, 3);
    const json = JSON.parse(j.out);
    assert.strictEqual(json.conflict.atoms[0].constraint, 'access');
    assert.deepStrictEqual(json.choices.formats, [{ format: 'NV12', verdict: 'excluded', reasons: ['gpu can only read NV12, the request has it write'] }]);
  });
});

describe('udalloc heaps', () => {
  it('lists the simulated heaps with range, capacity and use (--json)', () => {
    const r = run('heaps', '--platform', 'boards/example.yaml', '--json');
    assert.strictEqual(r.code, 0);
    const json = JSON.parse(r.out);
    assert.strictEqual(json.backend, 'sim');
    assert.match(json.reason, /simulated kernel/);
    assert.deepStrictEqual(json.heaps.map((h: { name: string }) => h.name), ['system', 'linux,cma', 'vpu-carve', 'secure']);
    assertMatches(json.heaps[1], { kind: 'cma', base: 0x38000000, end: 0x48000000, capacity: 268435456, used: 0, largestFree: 268435456 });
  });

  it('defaults to the built-in example board and says so on stderr', () => {
    const r = run('heaps');
    assert.strictEqual(r.code, 0);
    assert.match(r.err, /no platform given; using the built-in example board/);
    assert.match(r.out, /linux,cma\s+cma\s+0x38000000-0x48000000\s+256 MiB\s+0 B\s+256 MiB/);
  });

  it('says plainly when the requested backend has no heaps (this machine has no /dev/dma_heap)', () => {
    assert.strictEqual(existsSync('/dev/dma_heap'), false, 'this test describes a machine without dma-buf heaps; the QEMU suite covers one with them');
    const r = run('heaps', '--backend', 'dma-heap');
    assert.strictEqual(r.code, 0);
    assert.match(r.out, /^dma-buf heaps in \/dev\/dma_heap \(requested\): none\n/);
    assert.match(r.out, /this backend has no heaps at all: nothing can be allocated through it \(--backend sim simulates the profile's heaps\)\n$/);
  });
});

describe('udalloc alloc', () => {
  it('allocates, reports buffers and heap use, then releases (--json)', () => {
    const r = run('alloc', '--platform', 'boards/example.yaml', '--request', 'examples/camera-display.yaml', '--name', 'cam', '--json');
    assert.strictEqual(r.code, 0, r.err);
    const json = JSON.parse(r.out);
    assertMatches(json.plan, { heap: 'linux,cma', format: 'NV12', size: 3342336, count: 3 });
    assert.deepStrictEqual(json.buffers.map((b: { fd: number; physAddr: number; name: string }) => [b.fd, b.physAddr, b.name]), [
      [3, 0x38000000, 'cam-0'],
      [4, 0x38400000, 'cam-1'], // 816 pages, next 1 MiB-aligned run (order capped at 8)
      [5, 0x38800000, 'cam-2'],
    ]);
    assertMatches(json.heaps[1], { name: 'linux,cma', used: 3 * 3342336 });
    assert.deepStrictEqual(json.fallbacks, []);
  });

  it('touches the buffers from the CPU when the request asks, with sync around access', () => {
    const r = run('alloc', '--devices', 'camera,encoder', '--size', '1280x720', '--format', 'NV12', '--cpu', 'readwrite', '--count', '2');
    assert.strictEqual(r.code, 0, r.err);
    assert.match(r.out, /fd 3  system  1384448 bytes  cpu write\+read back: ok/);
    assert.match(r.out, /released 2 buffer\(s\); no buffer of ours is left in any heap/);
    // Write-only is written, never read back; read-only reads the zeroed pages.
    assert.match(run('alloc', '--devices', 'camera,encoder', '--size', '64x64', '--format', 'NV12', '--cpu', 'write').out, /cpu write: ok/);
    assert.match(run('alloc', '--devices', 'camera,encoder', '--size', '64x64', '--format', 'NV12', '--cpu', 'read').out, /cpu read: zero-filled/);
  });

  it('a conflict exits 3 with the explanation on stderr', () => {
    const r = run('alloc', '--devices', 'drm-protected', '--size', '64x64', '--format', 'NV12', '--protected', '--cpu', 'write');
    assert.strictEqual(r.code, 3);
    assert.match(r.err, /no plan satisfies every device/);
  });

  it('--hold keeps the buffers until SIGINT, then releases them', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [CLI, 'alloc', '--platform', 'boards/example.yaml', '--request', 'examples/camera-display.yaml', '--hold'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('press Ctrl-C to release')) resolve();
      });
    });
    assert.doesNotMatch(out, /released/);
    child.kill('SIGINT');
    // 'close' comes after the stdout pipe has drained, unlike 'exit'.
    const code = await new Promise<number | null>((resolve) => child.on('close', (c: number | null) => resolve(c)));
    assert.strictEqual(code, 0);
    assert.match(out, /released 3 buffer\(s\)/);
  });
});

describe('udalloc simulate and size', () => {
  it('a scenario whose roles the board lacks gets a device assignment that was tried, and the suggestion runs', () => {
    for (const board of ['rockpro64-rk3399', 'x86-laptop-tgl']) {
      const r = run('size', '--platform', `boards/${board}.yaml`, '--scenario', 'compositor', '--policy', 'first-fit');
      assert.strictEqual(r.code, 2);
      const suggested = /this works here: --scenario "([^"]+)"/.exec(r.err)?.[1];
      assert.ok(suggested, r.err);
      const again = run('size', '--platform', `boards/${board}.yaml`, '--scenario', suggested, '--policy', 'first-fit', '--json');
      assert.strictEqual(again.code, 0, again.err);
      assert.strictEqual(JSON.parse(again.out).workloads[0], 'compositor (seed 1)');
    }
    assert.match(run('size', '--platform', 'boards/rockpro64-rk3399.yaml', '--scenario', 'compositor').err, /this works here: --scenario "compositor:outputDevices=mali:write\+vop-big:read,clientDevices=mali"/);
  });

  it('simulate --json reports per heap peaks and fragmentation samples', () => {
    const r = run('simulate', '--platform', 'boards/example.yaml', '--scenario', 'video-decode:clips=10', '--json');
    assert.strictEqual(r.code, 0, r.err);
    const [report] = JSON.parse(r.out).reports;
    assert.strictEqual(report.trace, 'video-decode (seed 1)');
    assert.strictEqual(report.events, 20);
    const cma = report.heaps.find((h: { name: string }) => h.name === 'linux,cma');
    assert.ok(cma.allocations === 10 && cma.peakLive > 0 && cma.highWater >= cma.peakUsed);
    assert.ok(cma.samples.length > 1 && cma.samples.every((s: { free: number; largestFree: number }) => s.largestFree <= s.free));
  });

  it('size advises a CMA area the kernel accepts: cma= and the reserved-memory node size in whole 2 MiB pageblocks', () => {
    const r = run('size', '--scenario', 'compositor');
    assert.strictEqual(r.code, 0, r.err);
    const bytes = Number(/MIN \(first-fit\).*\n\s+linux,cma\s+cma\s+\S+ \S+\s+\S+ \S+\s+(\d+)/.exec(r.out)?.[1]);
    const [, mib, node] = /boot with cma=(\d+)M \(or size the linux,cma reserved-memory node to (0x[0-9a-f]+)/.exec(r.out) ?? [];
    assert.ok(bytes > 0 && mib && node, r.out);
    // kernel/dma/contiguous.c rmem_cma_setup refuses a region whose size is not pageblock-aligned.
    assert.strictEqual(Number(node) % 2 ** 21, 0);
    assert.ok(Number(node) >= bytes && Number(node) - bytes < 2 ** 21);
    assert.strictEqual(Number(node), Number(mib) * 2 ** 20);
  });

  it('size gives no pool size while some requests have no plan at any size: it names them and why, and exits 3; --allow-unserved sizes the rest', () => {
    const args = ['size', '--platform', 'imx8mp-evk', '--scenario', 'video-decode:devices=vpu-g2:write+lcdif3:read,clips=5', '--policy', 'first-fit'];
    const r = run(...args);
    assert.strictEqual(r.code, 3, r.err);
    assert.match(r.out, /^no pool size serves these workloads: \d+ request\(s\) have no plan at any pool size:$/m);
    assert.match(r.out, /for vpu-g2:write\+lcdif3:read: no plan: give lcdif3 its own buffer and copy into it/);
    assert.doesNotMatch(r.out, /cma=/);
    const json = JSON.parse(run(...args, '--json').out) as { served: boolean };
    assert.strictEqual(json.served, false);
    const allowed = run(...args, '--allow-unserved');
    assert.strictEqual(allowed.code, 0, allowed.err);
    assert.match(allowed.out, /^warning: \d+ request\(s\) have no plan at any pool size and are left out of the sizes \(--allow-unserved\):$/m);
  });

  it('size gives no cma= for a pool larger than the range it must lie in, says why, and exits 3', () => {
    const r = run('size', '--platform', 'raspberry-pi-4', '--scenario', 'photo-burst:previewDevices=isp:write+hvs:read,stillDevices=isp:write+hvs:read,still=7680x4320,burstLength=40,encodeSeconds=2', '--policy', 'first-fit');
    assert.strictEqual(r.code, 3, r.err);
    assert.match(r.out, /warning: linux,cma needs [\d.]+ GiB \(first-fit\) but must sit below 0x40000000, and no pool that large fits there: hvs \(30-bit DMA\).* reach only below it, so split the workload/);
    assert.doesNotMatch(r.out, /cma=/);
  });

  it('size --json gives a pool size per policy with its ratio to peak live bytes', () => {
    const r = run('size', '--scenario', 'camera-record:seconds=60,sessions=3,snapshots=2', '--json');
    assert.strictEqual(r.code, 0, r.err);
    const json = JSON.parse(r.out);
    assert.deepStrictEqual(json.results.map((x: { policy: string }) => x.policy), ['first-fit', 'best-fit']);
    const cma = json.results[0].pools.find((p: { name: string }) => p.name === 'linux,cma');
    // The preview ring: 4 x 3342336-byte NV12 buffers, each aligned to 1 MiB: 3 x 4 MiB + 3342336.
    assert.deepStrictEqual([cma.size, cma.failsAt, cma.peakLive], [3 * 4194304 + 3342336, 3 * 4194304 + 3342336 - 4096, 4 * 3342336]);
  });

  it('a malformed trace exits 2 naming the line and field', async () => {
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const file = join(testDir('udalloc-trace-'), 'bad.jsonl');
    writeFileSync(file, '{"t":0,"op":"alloc","id":"a","request":{"width":64,"height":64,"formats":["NV12"],"devices":["camera"]}}\n{"t":1,"op":"free","id":"z"}\n');
    const r = run('simulate', '--trace', file);
    assert.strictEqual(r.code, 2);
    assert.match(r.err, /bad\.jsonl:2: field id = "z": never allocated/);
  });

  it('without a workload, says what to give', () => {
    const r = run('size');
    assert.strictEqual(r.code, 2);
    assert.match(r.err, /give a workload: --trace FILE or --scenario NAME \(camera-record, video-decode, compositor, photo-burst\)/);
  });

  it('alloc --record and negotiate --record append what happened: sets, frees, and requests that failed', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const file = join(testDir('udalloc-rec-'), 'rec.jsonl');
    assert.strictEqual(run('alloc', '--request', 'examples/camera-display.yaml', '--record', file).code, 0);
    // Two negotiations hold nothing: each is asked for and let go, never 24 buffers live.
    for (let i = 0; i < 2; i++) assert.strictEqual(run('negotiate', '--devices', 'camera,display', '--size', '1920x1080', '--format', 'NV12', '--count', '12', '--record', file).code, 0);
    // A conflict is recorded too, so the pool it needs can be sized.
    assert.strictEqual(run('negotiate', '--devices', 'camera,display', '--size', '3840x2160', '--format', 'NV12', '--count', '40', '--record', file).code, 3);
    const events = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepStrictEqual(events.map((e) => `${e.op}${e.op === 'alloc' ? ` x${e.request.count}` : ''}`), ['alloc x3', 'free', 'alloc x12', 'free', 'alloc x12', 'free', 'alloc x40', 'free']);
    const r = run('simulate', '--trace', file, '--json');
    // The 40 x 4K request fails, so the pools do not hold the workload: exit 3.
    assert.strictEqual(r.code, 3, r.err);
    const report = JSON.parse(r.out).reports[0];
    assert.strictEqual(report.failures.length, 1, 'only the 40 x 4K request fails, as it did');
    assert.strictEqual(report.heaps.find((h: { name: string }) => h.name === 'linux,cma').peakLive, 12 * 3342336);
    // And size answers for it: the pool that would have served the failing request.
    const sized = JSON.parse(run('size', '--trace', file, '--policy', 'first-fit', '--json').out);
    assert.strictEqual(sized.results[0].pools.find((p: { name: string }) => p.name === 'linux,cma').size, 39 * 12 * 2 ** 20 + 12443648);
  });
});

describe('udalloc devices', () => {
  it('lists each device with its constraints and sources (--json and text)', () => {
    const r = run('devices', '--platform', 'boards/raspberry-pi-4.yaml', '--json');
    assert.strictEqual(r.code, 0, r.err);
    const hvs = JSON.parse(r.out).devices.find((d: { name: string }) => d.name === 'hvs');
    assertMatches(hvs, { iommu: false, dmaBits: 30, heaps: null });
    assert.deepStrictEqual(hvs.formats[0], { format: 'XRGB8888', access: 'read', modifierAccess: {}, modifiers: ['LINEAR', 'BROADCOM_VC4_T_TILED'], pitchAlign: 1, heightAlign: 1, widthAlign: 1, offsetAlign: 1, maxWidth: 7680, maxHeight: 7680, maxPitch: 65535 });
    assert.strictEqual(hvs.sources.dmaBits, 'boards/raspberry-pi-4.yaml:29 devices[0].dmaBits');
    const text = run('devices', '--platform', 'boards/raspberry-pi-4.yaml');
    assert.match(text.out, /^hvs: no IOMMU: contiguous, below 2\^30\n {4}iommu: boards\/raspberry-pi-4\.yaml:28 devices\[0\]\.iommu/);
    assert.doesNotMatch(text.out, /default:/);
  });
});

describe('udalloc discover', () => {
  it('--dtb --json prints the heaps and devices with their sources', async () => {
    const { dtbPath } = await import('../platform/dtbs.js');
    const r = run('discover', '--dtb', dtbPath('broadcom/bcm2711-rpi-4-b.dtb'), '--json');
    assert.strictEqual(r.code, 0, r.err);
    const json = JSON.parse(r.out);
    // RAM the firmware fills in at boot is unknown: null, as README says of every unknown value.
    assertMatches(json.heaps[0], { name: 'system', kind: 'system', size: null });
    assertMatches(json.heaps[1], { name: 'linux,cma', kind: 'cma', base: null, size: 67108864, limit: 1073741824 });
    // The TXP writeback engine (vc4_txp.c, found by its driver), then the HVS.
    assertMatches(json.devices[0], { name: 'txp@7e004000', kind: 'writeback', compatible: 'brcm,bcm2835-txp', iommu: false, dmaBits: 30, heaps: null });
    assertMatches(json.devices[1], { name: 'hvs@7e400000', kind: 'display', compatible: 'brcm,bcm2711-hvs', iommu: false, dmaBits: 30, heaps: null });
    assert.match(json.devices[1].source, /\/soc\/hvs@7e400000$/);
    assert.match(json.devices[1].sources.kind, /"brcm,bcm2711-hvs" is matched by drivers\/gpu\/drm\/vc4\/vc4_hvs\.c \(Linux 6\.12: a display/);
  });

  it('--sysfs ROOT reads a fake machine: heaps from /dev/dma_heap and meminfo, cards from /sys/class/drm', async () => {
    const { mkdirSync, writeFileSync, symlinkSync } = await import('node:fs');
    const { join } = await import('node:path');
    const root = testDir('udalloc-sysfs-');
    for (const d of ['dev/dma_heap', 'proc', 'sys/class/drm/card0/device/iommu_group']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, 'dev/dma_heap/system'), '');
    writeFileSync(join(root, 'proc/meminfo'), 'MemTotal: 8388608 kB\n');
    symlinkSync('../../bus/pci/drivers/amdgpu', join(root, 'sys/class/drm/card0/device/driver'));
    const r = run('discover', '--sysfs', root, '--json');
    assert.strictEqual(r.code, 0, r.err);
    const json = JSON.parse(r.out);
    assert.deepStrictEqual(json.heaps.map((h: { name: string; size: number }) => [h.name, h.size]), [['system', 8 * 2 ** 30]]);
    assert.deepStrictEqual(json.devices.map((d: { name: string; compatible: string; iommu: boolean }) => [d.name, d.compatible, d.iommu]), [['card0', 'amdgpu', true]]);
  });

  it('a corrupt .dtb exits 2 with the offset and problem', async () => {
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const file = join(testDir('udalloc-dtb-'), 'bad.dtb');
    writeFileSync(file, Buffer.from('d00dfeed00000010', 'hex'));
    const r = run('discover', '--dtb', file);
    assert.strictEqual(r.code, 2);
    assert.match(r.err, /bad\.dtb: offset 0: 8 bytes is too short for a device tree header/);
  });
});

describe('udalloc formats', () => {
  it('lists at least 40 formats and the common modifiers with real codes', () => {
    const r = run('formats', '--json');
    assert.strictEqual(r.code, 0);
    const json = JSON.parse(r.out);
    assert.ok(json.formats.length >= 40);
    assert.strictEqual(json.formats.find((f: { name: string }) => f.name === 'NV12').fourcc, '0x3231564e');
    assert.strictEqual(json.modifiers.find((m: { short: string }) => m.short === 'BROADCOM_SAND128').value, '0x0700000000000004');
  });
});
