// Runs inside the QEMU guest on Linux 6.12, which has no ION: legacy ION programs (test-kernel/ion/
// ion-client.c, written against the ION uAPI, and the same against libion; built by the host and
// linked to no udalloc code) run through native/ion on the real dma-buf heaps. Each queries the
// heaps, allocates from the system id and the DMA (CMA) id, maps, writes and reads back; fdinfo
// names the dma-buf heap that exported each fd; the CMA bitmap shows the pages while held and
// frees them on close; ION's errnos; ENOENT without the shim; through the service, the charge in
// `udalloc usage --service` for the program's user.

import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parsePolicy } from '../src/service/policy.js';
import { AllocatorService, openServiceAllocator } from '../src/service/server.js';
import { startBus } from '../test/service/harness.js';

const CLI = 'dist/src/cli/main.js';
const SHIM = '/udalloc/native/build/ion/libudalloc-ion.so';
const LIBION_DIR = '/udalloc/native/build/ion';
const UAPI_CLIENT = '/udalloc/native/build/ion-test/ion-client';
const LIBION_CLIENT = '/udalloc/native/build/ion-test/ion-libion-client';
const MAP = '/tmp/ion-map';

/** Pages of the CMA area's debugfs bitmap in use (u32 words, least significant bit first). */
function cmaPagesInUse(area = 'reserved'): number {
  const words = readFileSync(`/sys/kernel/debug/cma/${area}/bitmap`, 'utf8').trim().split(/\s+/).map(Number);
  let n = 0;
  for (const w of words) for (let b = 0; b < 32; b++) n += (w >>> b) & 1;
  return n;
}

interface Held {
  readonly out: () => string;
  readonly err: () => string;
  until(text: string): Promise<void>;
  next(): void;
  exit(): Promise<number | null>;
}

/** Starts a client; it holds its buffers after HOLDING until next(), and exits after the second next(). */
function start(client: string, args: readonly string[], env: Record<string, string>): Held {
  const child = spawn(client, args, { env: { PATH: '/bin', UDALLOC_ION_MAP: MAP, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((res) => child.once('exit', res));
  // Whatever the test's outcome, the client does not outlive it holding buffers.
  process.once('exit', () => child.exitCode === null && child.kill('SIGKILL'));
  // A client that already exited (the negative control) closed its stdin: nothing more to say to it.
  child.stdin.on('error', () => {});
  return {
    out: () => out,
    err: () => err,
    async until(text) {
      for (let i = 0; i < 400 && !out.includes(text) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(out.includes(text), `${client}: "${text}" never came:\n${out}\n${err}`);
    },
    next: () => child.stdin.write('\n'),
    exit: async () => {
      child.stdin.end('\n');
      return exited;
    },
  };
}

describe('real kernel: ION programs on dma-buf heaps (native/ion)', () => {
  it('udalloc ion-map from discovery: the system id on the system heap, the DMA id on the cma= area; what the machine lacks is left out', () => {
    const out = execFileSync('node', [CLI, 'ion-map', '--output', MAP], { encoding: 'utf8' });
    assert.match(out, /id 0 \(system, ion_system_heap\) -> \/dev\/dma_heap\/system/);
    assert.match(out, /id 4 \(dma, ion_cma_heap\) -> \/dev\/dma_heap\/reserved: ION_HEAP_TYPE_DMA: the default CMA area/);
    assert.match(out, /left out: id 2 \(carveout\): this machine has no carveout heap/);
  });

  it('without the shim the program finds no /dev/ion (ENOENT)', async () => {
    const bare = start(UAPI_CLIENT, ['0'], {});
    assert.strictEqual(await bare.exit(), 10);
    assert.strictEqual(bare.out().trim(), 'open /dev/ion: ENOENT');
  });

  for (const [how, client, env] of [
    ['the ION uAPI under LD_PRELOAD', UAPI_CLIENT, { LD_PRELOAD: SHIM }],
    ['Android\'s libion API, linked to the drop-in libion', LIBION_CLIENT, { LD_LIBRARY_PATH: LIBION_DIR }],
  ] as const) {
    it(`${how}: heaps queried, 1 MiB from the system and the DMA id mapped and read back, exported by the dma-buf heaps; the CMA pages held, then freed; ION's errnos`, async () => {
      const before = cmaPagesInUse();
      const p = start(client, ['0', '4'], env);
      await p.until('HOLDING');
      const out = p.out();
      assert.match(out, /^heap 0 0 ion_system_heap\nheap 4 4 ion_cma_heap\n/, out);
      assert.match(out, /^alloc 0: fd \d+ size 1048576 pattern ok exporter system$/m, out);
      assert.match(out, /^alloc 4: fd \d+ size 1048576 pattern ok exporter reserved$/m, out);
      assert.match(out, /^errors mask0=ENODEV unknown=ENODEV len0=EINVAL huge=ENOMEM$/m, out);
      // The DMA id's megabyte is in the CMA area while the program holds it...
      assert.strictEqual(cmaPagesInUse() - before, 256);
      p.next();
      await p.until('CLOSED');
      // ... and free again once it closes it.
      assert.strictEqual(cmaPagesInUse(), before);
      assert.strictEqual(await p.exit(), 0, p.err());
    });
  }

  it('through the udalloc service (the map says so): the legacy program\'s buffer is charged to its user in `udalloc usage --service`, and the charge ends when it closes', { timeout: 120_000 }, async () => {
    const bus = await startBus();
    const service = await AllocatorService.start({ bus: bus.address, allocator: openServiceAllocator(undefined, 'dma-heap'), policy: parsePolicy('', 'guest policy'), graceMs: 200, scanIntervalMs: 60_000 });
    try {
      // The DMA id's buffers are for the camera (the dma-contig vivid: no IOMMU, so CMA).
      // (Asynchronously: the service answers in this process.)
      const run = async (args: string[]) => (await promisify(execFile)('node', [CLI, ...args], { encoding: 'utf8' })).stdout;
      const written = await run(['ion-map', '--heap', '4:dma:ion_cma_heap=video0:write', '--service', bus.address, '--output', MAP]);
      assert.match(written, /through the udalloc service on /);
      assert.match(readFileSync(MAP, 'utf8'), /^heap 4 dma ion_cma_heap \/dev\/dma_heap\/reserved service \w+ \d+ \d+ video0:write /m);
      const before = cmaPagesInUse();
      const p = start(UAPI_CLIENT, ['4'], { LD_PRELOAD: SHIM });
      await p.until('HOLDING');
      assert.match(p.out(), /^alloc 4: fd \d+ size \d+ pattern ok exporter reserved$/m, `${p.out()}\n${p.err()}`);
      const usage = async () => JSON.parse(await run(['usage', '--service', bus.address, '--json'])) as { kinds: Record<string, { charged: number }>; caller: { uid: number } };
      const held = await usage();
      assert.strictEqual(held.caller.uid, 0);
      assert.ok(held.kinds['cma']!.charged >= 2 ** 20, JSON.stringify(held));
      assert.ok(cmaPagesInUse() - before >= 256);
      p.next();
      await p.until('CLOSED');
      await new Promise((r) => setTimeout(r, 400));
      assert.strictEqual((await usage()).kinds['cma']!.charged, 0);
      assert.strictEqual(await p.exit(), 0, p.err());
    } finally {
      await service.stop();
      await bus.stop();
    }
  });
});
