// The command line as scripts use it: exit codes, one JSON object, errors on stderr.

import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { each, assertMatches } from '../helpers.js';

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
    assert.deepStrictEqual(json.conflict.atoms, [{ request: true, constraint: 'formats', value: ['XRGB8888'], source: '--format formats' }]);
    assert.deepStrictEqual(json.conflict.fixes, ['accept NV12 in the request: every device can share it']);
  });

  it('prints a readable explanation without --json', () => {
    const r = run('negotiate', '--platform', 'boards/example.yaml', '--devices', 'camera,display', '--size', '3840x2160', '--format', 'NV12', '--count', '40');
    assert.strictEqual(r.code, 3);
    assert.ok((r.out).includes('heap linux,cma capacity = 256 MiB    (boards/example.yaml:6 heaps[1])'), `expected to contain ${'heap linux,cma capacity = 256 MiB    (boards/example.yaml:6 heaps[1])'}`);
    assert.ok((r.out).includes('linux,cma needs 218.69 MiB more'), `expected to contain ${'linux,cma needs 218.69 MiB more'}`);
  });

  each([
    [['--platform', 'boards/example.yaml', '--devices', 'camra', '--size', '64x64', '--format', 'NV12'], /devices\[0\] = "camra": no device of that name .*did you mean camera/],
    [['--platform', 'boards/example.yaml', '--devices', 'camera', '--size', '64by64', '--format', 'NV12'], /--size "64by64": expected WIDTHxHEIGHT/],
    [['--platform', 'boards/example.yaml', '--devices', 'camera', '--size', '64x64', '--format', 'NV12', '--count=-3'], /--count "-3": must be a positive whole number/],
    [['--platform', 'boards/nope.yaml'], /cannot read platform profile boards\/nope\.yaml: ENOENT/],
    [['--devices', 'camera'], /--platform FILE is required/],
    [['--platform', 'boards/example.yaml', '--bogus'], /Unknown option '--bogus'/],
  ], 'bad input %j exits 2 naming the problem', (args, message) => {
    const r = run('negotiate', ...args);
    assert.strictEqual(r.code, 2);
    assert.match(r.err, message);
    assert.strictEqual(r.out, '');
  });

  it('unknown commands exit 2 with usage', () => {
    const r = run('negotaite');
    assert.strictEqual(r.code, 2);
    assert.match(r.err, /unknown command "negotaite"/);
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
