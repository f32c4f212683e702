// ION programs on a kernel without ION: `udalloc ion-map` (ids, types, the heap the solver or the
// type picks, what is left out and why), and native/ion answering a legacy program written against
// the ION uAPI, preloaded and through the drop-in libion: the heap query, ION's errnos, the
// negative control, a missing or corrupt map; and, with the service on a private bus and the
// simulated kernel, allocations charged to the program's user. Allocations from real dma-buf heaps
// (exporters, the CMA bitmap) are acted on in the QEMU suite (test-kernel/ion.test.ts).

import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { testDir } from '../helpers.js';
import { startBus, startService, type TestBus } from '../service/harness.js';
import type { AllocatorService } from '../../src/service/server.js';
import { connect } from '../../src/service/client.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli/main.js');
const SHIM = join(ROOT, 'native/build/ion/libudalloc-ion.so');
const LIBION_DIR = join(ROOT, 'native/build/ion');

/** The legacy client, built here against the ION uAPI (and against libion): no udalloc code in it. */
function clients(): { uapi: string; libion: string } {
  const dir = join(ROOT, 'native/build/ion-test');
  mkdirSync(dir, { recursive: true });
  const source = join(ROOT, 'test-kernel/ion/ion-client.c');
  const uapi = join(dir, 'ion-client');
  const libion = join(dir, 'ion-libion-client');
  execFileSync('cc', ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-o', uapi, source]);
  execFileSync('cc', ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-DUSE_LIBION', '-o', libion, source, `-L${LIBION_DIR}`, '-lion']);
  return { uapi, libion };
}

function ionMap(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, 'ion-map', ...args], { encoding: 'utf8' });
}

function run(client: string, args: string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(client, args, { encoding: 'utf8', input: '\n\n', env: { PATH: process.env['PATH']!, ...env } });
}

describe('udalloc ion-map', () => {
  it('the default ids on the Pi 4: system and DMA kept with their dma-buf heaps; system-contig and carveout left out with why', () => {
    const r = ionMap(['--platform', 'raspberry-pi-4', '--output', '-']);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /^heap 0 system ion_system_heap \/dev\/dma_heap\/system direct /m);
    assert.match(r.stdout, /^heap 4 dma ion_cma_heap \/dev\/dma_heap\/linux,cma direct .*the default CMA area/m);
    assert.match(r.stdout, /^# left out: id 1 \(system_contig, ion_system_contig_heap\): this machine has no heap of contiguous system pages/m);
    assert.match(r.stdout, /^# left out: id 2 \(carveout, ion_carveout_heap\): this machine has no carveout heap/m);
  });

  it('an id with devices takes the heap the solver picks for them: a display without an IOMMU gets CMA even for a "system" id; --json says the same', () => {
    const r = ionMap(['--platform', 'example', '--heap', '0:system:ion_system=gpu:write,display:read', '--heap', '5:system:gfx=gpu:write', '--json']);
    assert.strictEqual(r.status, 0, r.stderr);
    const map = JSON.parse(r.stdout) as { heaps: Array<{ id: number; dmaHeap: string; kind: string; request?: { format: string; width: number; rowBytes: number } }> };
    const display = map.heaps.find((h) => h.id === 0)!;
    assert.deepStrictEqual([display.dmaHeap, display.kind, display.request], ['/dev/dma_heap/linux,cma', 'cma', { format: 'XRGB8888', width: 1024, rowBytes: 4096 }]);
    // The GPU alone is behind an IOMMU: the system heap.
    assert.strictEqual(map.heaps.find((h) => h.id === 5)!.dmaHeap, '/dev/dma_heap/system');
    // A contiguous ION type never gets scattered pages, whatever the devices could take.
    const dma = JSON.parse(ionMap(['--platform', 'example', '--heap', '4:dma=gpu:write', '--json']).stdout) as { heaps: Array<{ kind: string }> };
    assert.deepStrictEqual(dma.heaps.map((h) => h.kind), ['cma']);
  });

  it('writes the file it is told to, or $UDALLOC_ION_MAP; bad --heap and unwritable paths are one line and exit 2', () => {
    const dir = testDir('udalloc-ion-map-');
    const file = join(dir, 'ion-map');
    const r = spawnSync(process.execPath, [CLI, 'ion-map', '--platform', 'raspberry-pi-4'], { encoding: 'utf8', env: { ...process.env, UDALLOC_ION_MAP: file } });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^wrote ${file}: 2 ION heap\\(s\\)`));
    assert.ok(existsSync(file));
    for (const [args, message] of [
      [['--heap', '40:system'], /--heap 40:system: id 40: ION heap ids are 0 to 31/],
      [['--heap', '3:dmaa'], /type "dmaa": the ION types are .* \(did you mean dma\?\)/],
      [['--heap', '3:dma=camra:write'], /device "camra": no device of that name .*did you mean camera\?/],
      [['--heap', '3:dma=camera'], /say what the device does with the buffer: camera:read, camera:write or camera:readwrite/],
      [['--heap', '3:dma', '--heap', '3:system'], /id 3 is given twice/],
      [['--output', join(dir, 'no/such/dir/map')], /--output .*: cannot write: its directory .* does not exist/],
    ] as const) {
      const bad = ionMap(['--platform', 'example', ...args]);
      assert.strictEqual(bad.status, 2, `${args.join(' ')}: ${bad.stdout}${bad.stderr}`);
      assert.strictEqual(bad.stderr.trim().split('\n').length, 1, bad.stderr);
      assert.match(bad.stderr, message);
    }
  });
});

describe('native/ion: a legacy ION program on a kernel without /dev/ion', () => {
  let uapi: string;
  let libion: string;
  let map: string;
  before(() => {
    ({ uapi, libion } = clients());
    map = join(testDir('udalloc-ion-'), 'ion-map');
    const r = ionMap(['--platform', 'raspberry-pi-4', '--output', map]);
    assert.strictEqual(r.status, 0, r.stderr);
  });

  it('without the shim: ENOENT (the negative control); with it, or with the drop-in libion: the map\'s heaps and ION\'s errnos', () => {
    const bare = run(uapi, ['0'], { UDALLOC_ION_MAP: map });
    assert.deepStrictEqual([bare.status, bare.stdout.trim()], [10, 'open /dev/ion: ENOENT']);
    for (const [how, client, env] of [
      ['LD_PRELOAD', uapi, { LD_PRELOAD: SHIM }],
      ['libion', libion, { LD_LIBRARY_PATH: LIBION_DIR }],
    ] as const) {
      const r = run(client, [], { UDALLOC_ION_MAP: map, ...env });
      assert.strictEqual(r.status, 0, `${how}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /^heap 0 0 ion_system_heap\nheap 4 4 ion_cma_heap\n/, how);
      // No heap in the mask, a heap the map does not have: ENODEV; length 0: EINVAL; more than memory: ENOMEM.
      assert.match(r.stdout, /^errors mask0=ENODEV unknown=ENODEV len0=EINVAL huge=ENOMEM$/m, how);
      assert.match(r.stdout, /CLOSED/);
    }
  });

  it('no map: ENOENT and one line saying where the map was looked for; a corrupt map: the line it stops at', () => {
    const missing = run(uapi, [], { UDALLOC_ION_MAP: '/nonexistent/ion-map', LD_PRELOAD: SHIM });
    assert.strictEqual(missing.status, 10);
    assert.strictEqual(missing.stdout.trim(), 'open /dev/ion: ENOENT');
    assert.strictEqual(missing.stderr.trim(), 'udalloc ion: /nonexistent/ion-map: No such file or directory (write it with `udalloc ion-map`, or set UDALLOC_ION_MAP)');
    const corrupt = join(testDir('udalloc-ion-'), 'ion-map');
    writeFileSync(corrupt, 'heap 0 system ion_system_heap /dev/dma_heap/system direct\nheap 99 dma x /dev/dma_heap/reserved direct\n');
    const bad = run(uapi, [], { UDALLOC_ION_MAP: corrupt, LD_PRELOAD: SHIM });
    assert.strictEqual(bad.status, 10);
    assert.match(bad.stderr, /line 2: not a line of the ION map \(rewrite it with `udalloc ion-map`\)/);
  });

  it('ioctls on other fds pass through to the kernel untouched', () => {
    // The uAPI client's own fdinfo reads and mmap go to the kernel; a plain program keeps working preloaded.
    const r = spawnSync('cat', ['/proc/self/status'], { encoding: 'utf8', env: { PATH: process.env['PATH']!, LD_PRELOAD: SHIM, UDALLOC_ION_MAP: map } });
    assert.strictEqual(r.status, 0);
    assert.match(r.stdout, /^Name:\s+cat/m);
    const tty = spawnSync('stty', ['size'], { encoding: 'utf8', env: { PATH: process.env['PATH']!, LD_PRELOAD: SHIM } });
    assert.match(tty.stderr, /Inappropriate ioctl|not a tty/i);
  });
});

describe('native/ion through the udalloc service: legacy programs charged like everyone else', () => {
  let bus: TestBus;
  let service: AllocatorService;
  before(async () => {
    bus = await startBus();
    service = await startService(bus, 'default: { cma: 2MiB }\n');
  });
  after(async () => {
    await service.stop();
    await bus.stop();
  });

  it('a "service" id allocates with the Allocate call: the buffer maps and holds the pattern, the charge shows for the program\'s user until it closes; over the quota is ENOMEM', async () => {
    const { uapi } = clients();
    const map = join(testDir('udalloc-ion-'), 'ion-map');
    const r = ionMap(['--platform', 'example', '--heap', '4:dma:ion_cma_heap=gpu:write,display:read', '--service', bus.address, '--output', map]);
    assert.strictEqual(r.status, 0, r.stderr);
    const child = spawn(uapi, ['4', '4', '4'], { env: { PATH: process.env['PATH']!, LD_PRELOAD: SHIM, UDALLOC_ION_MAP: map }, stdio: ['pipe', 'pipe', 'pipe'] });
    // A failed assertion must not leave the client holding charged buffers for the next run's service to adopt.
    after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const until = async (text: string) => {
      for (let i = 0; i < 200 && !out.includes(text); i++) await new Promise((res) => setTimeout(res, 50));
      assert.ok(out.includes(text), `${text} never came:\n${out}\n${err}`);
    };
    await until('HOLDING');
    // Two 1 MiB buffers fit the 2 MiB quota; the third is refused, as ION reports it.
    const lines = out.split('\n').filter((l) => l.startsWith('alloc 4'));
    assert.strictEqual(lines.filter((l) => / pattern ok /.test(l)).length, 2, out);
    assert.ok(lines.some((l) => l === 'alloc 4: ENOMEM'), out);
    // stderr is another pipe: its line may come after stdout's HOLDING.
    for (let i = 0; i < 100 && !/refused heap id 4/.test(err); i++) await new Promise((res) => setTimeout(res, 20));
    assert.match(err, /the udalloc service refused heap id 4: .*quota/);
    const udalloc = await connect({ bus: bus.address });
    // What `udalloc usage --service` shows the program's user (asynchronously: the service answers in this process).
    const cli = await promisify(execFile)(process.execPath, [CLI, 'usage', '--service', bus.address], { encoding: 'utf8' });
    assert.match(cli.stdout, /^\w+ \(uid \d+\) as the service sees you:\n.*cma +charged +2 MiB +quota 2 MiB/ms);
    const usage = (await udalloc.usage()) as { kinds: Record<string, { charged: number }>; buffers: Array<{ pid?: number }> };
    assert.strictEqual(usage.kinds['cma']!.charged, 2 * 2 ** 20);
    child.stdin.write('\n');
    await until('CLOSED');
    await new Promise((res) => setTimeout(res, 150));
    const released = (await udalloc.usage()) as { kinds: Record<string, { charged: number }> };
    assert.strictEqual(released.kinds['cma']!.charged, 0);
    child.stdin.end('\n');
    await new Promise((res) => child.once('exit', res));
    udalloc.close();
  });
});
