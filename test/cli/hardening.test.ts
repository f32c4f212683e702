// Inputs that must never hurt: device files, FIFOs, directories, binary and oversized files, and
// unwritable outputs each get one line on stderr and exit 2, before any work is done; with --json,
// stdout still carries exactly one JSON object. A fuzz test throws random argv at every command.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { testDir } from '../helpers.js';
import { dtbPath } from '../platform/dtbs.js';

const CLI = 'dist/src/cli/main.js';
// A memory ceiling far below what reading /dev/zero whole would take: exhaustion would show as a crash.
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['--max-old-space-size=200', CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
};

const dir = testDir('udalloc-hard-');
const fifo = join(dir, 'fifo');
spawnSync('mkfifo', [fifo]);
const elf = join(dir, 'elf.yaml');
writeFileSync(elf, readFileSync(process.execPath).subarray(0, 4096));
const huge = join(dir, 'huge.yaml');
closeSync(openSync(huge, 'w'));
truncateSync(huge, 64 * 2 ** 20); // sparse: costs no disk
const empty = join(dir, 'empty.jsonl');
writeFileSync(empty, '');
const sub = join(dir, 'a-directory');
mkdirSync(sub);

function oneLine(r: { code: number | null; err: string }, pattern: RegExp): void {
  assert.strictEqual(r.code, 2, r.err);
  const lines = r.err.trim().split('\n').filter((l) => !l.startsWith('udalloc: using the built-in example board'));
  assert.strictEqual(lines.length, 1, r.err);
  assert.match(lines[0]!, pattern);
}

describe('file inputs', () => {
  it('a device file is refused before it is read (no 24 GB of /dev/zero, no bad_alloc from /dev/urandom)', () => {
    oneLine(run('discover', '--dtb', '/dev/zero'), /^udalloc discover: device tree blob \/dev\/zero is a character device, expected a regular file$/);
    oneLine(run('devices', '--platform', '/dev/urandom'), /^udalloc devices: platform profile \/dev\/urandom is a character device, expected a regular file$/);
    oneLine(run('simulate', '--platform', 'boards/example.yaml', '--trace', '/dev/zero'), /trace \/dev\/zero is a character device/);
    oneLine(run('negotiate', '--platform', 'boards/example.yaml', '--request', '/dev/zero'), /request \/dev\/zero is a character device/);
  });

  it('FIFOs and directories are named as such, and nothing waits for a writer', () => {
    oneLine(run('devices', '--platform', fifo), /platform profile .*fifo is a FIFO, expected a regular file/);
    oneLine(run('discover', '--dtb', fifo), /is a FIFO/);
    oneLine(run('devices', '--platform', sub), /platform profile .*a-directory is a directory, expected a regular file/);
  });

  it('oversized and binary files say their limit or that they are not text', () => {
    oneLine(run('devices', '--platform', huge), new RegExp(`platform profile ${huge} is 67108864 bytes, more than the 4 MiB a platform profile may have`));
    oneLine(run('devices', '--platform', elf), /platform profile .*elf\.yaml is not a text file \(a NUL byte at offset \d+\); expected YAML, JSON or JSON Lines/);
    const notDtb = join(dir, 'not.dtb');
    copyFileSync('boards/example.yaml', notDtb);
    oneLine(run('discover', '--dtb', notDtb), /offset 0: magic 0x.* is not 0xd00dfeed: not a flattened device tree/);
  });

  it('a device tree is read by its header: a totalsize beyond the file is refused before the rest is read', () => {
    const lying = join(dir, 'lying.dtb');
    const header = Buffer.alloc(40);
    header.writeUInt32BE(0xd00dfeed, 0);
    header.writeUInt32BE(0x7fffffff, 4);
    writeFileSync(lying, header);
    oneLine(run('discover', '--dtb', lying), /its header says 2147483647 bytes, the file has 40/);
  });
});

describe('outputs', () => {
  it('unwritable outputs are refused before the work, in one line', () => {
    oneLine(run('negotiate', '--platform', 'boards/example.yaml', '--request', 'examples/camera-display.yaml', '--record', sub), /--record .*a-directory: cannot write: it is a directory/);
    const r = run('alloc', '--platform', 'boards/example.yaml', '--request', 'examples/camera-display.yaml', '--record', '/nonexistent/r.jsonl');
    oneLine(r, /--record \/nonexistent\/r\.jsonl: cannot write: its directory \/nonexistent does not exist/);
    assert.strictEqual(r.out, '', 'nothing was allocated or printed before the check');
    oneLine(run('discover', '--dtb', `${process.env['HOME']}/.cache/udalloc/dtbs/broadcom/bcm2711-rpi-4-b.dtb`, '--write-profile', '/nonexistent/x.yaml'), /--write-profile \/nonexistent\/x\.yaml: cannot write/);
    oneLine(run('discover', '--sysfs', sub, '--write-profile', sub), /--write-profile .*: cannot write: it is a directory/);
    oneLine(run('simulate', '--platform', 'boards/example.yaml', '--scenario', 'compositor', '--html', sub), /--html .*: cannot write: it is a directory/);
  });

  it('discover --sysfs of a path that is not a system root is an error, not an empty platform', () => {
    oneLine(run('discover', '--sysfs', '/nonexistent'), /--sysfs \/nonexistent: not a directory/);
    oneLine(run('discover', '--sysfs', sub), /has no sys\/, proc\/ or dev\/ in it/);
  });
});

describe('backends that are not there', () => {
  it('--backend ion without /dev/ion, and udmabuf without /dev/udmabuf, are one line and exit 2', () => {
    assert.strictEqual(existsSync('/dev/ion'), false, 'this test describes a machine without ION');
    oneLine(run('heaps', '--platform', 'example', '--backend', 'ion'), /^udalloc heaps: backend ion: \/dev\/ion does not exist \(ION was removed from Linux in 5\.11; use --backend sim/);
    assert.strictEqual(existsSync('/dev/udmabuf'), false, 'this test describes a machine without udmabuf');
    oneLine(run('alloc', '--platform', 'example', '--devices', 'camera', '--size', '64x64', '--backend', 'udmabuf'), /backend udmabuf: \/dev\/udmabuf does not exist/);
  });
});

describe('flags that do not go together or name nothing', () => {
  it('discover --cma without --dtb, --probe with --dtb, usage --pid of no process: one line, exit 2', () => {
    oneLine(run('discover', '--cma', '64M'), /--cma SIZE goes with --dtb FILE/);
    oneLine(run('discover', '--dtb', dtbPath('broadcom/bcm2711-rpi-4-b.dtb'), '--cma', '64'), /--cma 64: 64 bytes is less than one 2 MiB pageblock, the least a CMA area has; give a unit \(64M, as the kernel's cma= reads it\)/);
    oneLine(run('discover', '--dtb', 'x.dtb', '--probe'), /--probe imports test buffers into this machine's devices: it cannot go with --dtb or --sysfs/);
    oneLine(run('usage', '--pid', '999999999'), /--pid 999999999: no such process/);
  });
});

describe('empty workloads', () => {
  it('an empty trace is sized with a warning, not silently', () => {
    const r = run('size', '--platform', 'example', '--trace', empty);
    assert.strictEqual(r.code, 0);
    assert.match(r.err, /warning: .*empty\.jsonl has no events; there is nothing to replay or size/);
  });
});

describe('--json always prints one object', () => {
  it('on a conflict, a kernel refusal and bad input', () => {
    const conflict = run('alloc', '--platform', 'boards/example.yaml', '--devices', 'camera,display', '--size', '3840x2160', '--format', 'NV12', '--count', '40', '--json');
    assert.strictEqual(conflict.code, 3);
    assert.ok(JSON.parse(conflict.out).conflict.fixes.length > 0);
    const bad = run('alloc', '--platform', 'boards/example.yaml', '--devices', 'camra', '--json');
    assert.strictEqual(bad.code, 2);
    assert.strictEqual(JSON.parse(bad.out).error.kind, 'input');
    const flag = run('heaps', '--bogus', '--json');
    assert.strictEqual(flag.code, 2);
    assert.match(JSON.parse(flag.out).error.message, /Unknown option '--bogus'/);
  });
});

describe('first-hour help', () => {
  it('--version, and "did you mean" for commands and flags', () => {
    const v = run('--version');
    assert.strictEqual(v.code, 0);
    assert.strictEqual(v.out.trim(), `udalloc ${JSON.parse(readFileSync('package.json', 'utf8')).version}`);
    assert.match(run('negotiat').err, /unknown command "negotiat" \(did you mean negotiate\?\)/);
    assert.match(run('negotiate', '--formt', 'NV12').err, /Unknown option '--formt' \(did you mean --format\?\)/);
  });
});

describe('fuzzing the command line', () => {
  const commands = ['negotiate', 'explain', 'alloc', 'heaps', 'devices', 'simulate', 'size', 'discover', 'formats'];
  const files = ['/dev/zero', '/dev/null', '/dev/urandom', fifo, sub, elf, huge, empty, 'boards/example.yaml', 'examples/camera-display.yaml', 'examples/camera-session.jsonl', '/nonexistent', ''];
  const values = ['NV12', 'XRGB8888,NV12', '0x3231564e', '1920x1080', '0x0', '-1', '99999999999999999999', '3', 'camera,display', 'camera:write,display:read', 'gpu', 'none', 'write', 'compositor', 'video-decode:clips=2', 'first-fit', 'all', 'sim', 'ion', 'dma-heap', 'x'.repeat(300), '%s', '1e400'];
  const flags = ['--platform', '--request', '--devices', '--size', '--format', '--cpu', '--count', '--trace', '--scenario', '--seed', '--policy', '--backend', '--dtb', '--sysfs', '--name', '--alternatives', '--record', '--html', '--write-profile'];
  const argArb = fc.oneof(
    fc.tuple(fc.constantFrom(...flags), fc.constantFrom(...files, ...values)).map(([f, v]) => [f, v]),
    fc.constantFrom(['--json'], ['--protected'], ['--hold'], ['--bogus'], ['-h']),
  );
  it('exits 0, 2, 3 or 4 only: never an internal error, a crash or a stack trace', () => {
    fc.assert(
      fc.property(fc.constantFrom(...commands), fc.array(argArb, { maxLength: 5 }), (command, parts) => {
        const args = parts.flat().filter((a) => !(a === '--record' || a === '--html' || a === '--write-profile'));
        // Output flags get a path inside the scratch directory, or one that cannot be written.
        for (const [i, p] of parts.entries()) if (p[0] === '--record' || p[0] === '--html' || p[0] === '--write-profile') args.push(p[0], i % 2 === 0 ? join(dir, `out-${i}`) : sub);
        if (args.includes('--hold')) return; // --hold waits for Ctrl-C by design
        const r = run(command, ...args);
        assert.ok([0, 2, 3, 4].includes(r.code ?? -1), `${command} ${args.join(' ')}: exit ${r.code} ${r.signal ?? ''}\n${r.err.slice(0, 2000)}`);
        assert.doesNotMatch(r.err, /internal error|\n\s+at /, `${command} ${args.join(' ')}`);
        if (args.includes('--json') && r.code !== 0 && !args.includes('-h')) assert.doesNotThrow(() => JSON.parse(r.out), `${command} ${args.join(' ')}: stdout is not one JSON object: ${r.out.slice(0, 200)}`);
      }),
      { numRuns: 60, seed: 1129 },
    );
  });
});
