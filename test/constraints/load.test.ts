// Profiles and requests from untrusted text: every error names the field, its value and the line.

import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { each } from '../helpers.js';
import { InputError } from '../../src/errors.js';
import { loadPlatform, makeRequest, parsePlatform, parseRequest } from '../../src/constraints/load.js';
import { flagOf, requestFromCommandLine } from '../../src/cli/request-flags.js';
import { negotiate } from '../../src/solver/negotiate.js';
import { parseByteCount } from '../../src/constraints/units.js';

const example = readFileSync('boards/example.yaml', 'utf8');
const platform = loadPlatform('boards/example.yaml');

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

const minimal = (heap: string, device = '{ name: d, formats: { NV12: {} } }') => `heaps:\n  - ${heap}\ndevices:\n  - ${device}\n`;

describe('sizes and addresses', () => {
  each([
    [4096, 4096],
    ['256MiB', 256 * 2 ** 20],
    ['4GiB', 4 * 2 ** 30],
    ['4G', 4 * 2 ** 30],
    ['64K', 65536],
    ['0x38000000', 0x38000000],
    [' 12 KiB ', 12288],
  ], '%s -> %d', (input, bytes) => assert.deepStrictEqual(parseByteCount(input), { value: bytes }));

  each([
    [-1, /negative/],
    [Number.NaN, /finite/],
    [1.5, /whole/],
    [2 ** 60, /2\^53/],
    ['256MB', /KiB, MiB or GiB/],
    ['lots', /not a size/],
    ['99999999999T', /2\^53/],
    [true, /number of bytes/],
  ], '%s is rejected', (input, message) => {
    const r = parseByteCount(input);
    assert.match('error' in r ? r.error : '(no error)', message);
  });
});

describe('platform profiles', () => {
  it('reads the example board with sources pointing at lines', () => {
    assert.deepStrictEqual(platform.heaps.map((h) => [h.name, h.kind, h.size]), [
      ['system', 'system', 4 * 2 ** 30],
      ['linux,cma', 'cma', 256 * 2 ** 20],
      ['vpu-carve', 'carveout', 64 * 2 ** 20],
      ['secure', 'secure', 32 * 2 ** 20],
    ]);
    const display = platform.devices.find((d) => d.name === 'display')!;
    assert.strictEqual(display.sources['dmaBits'], 'boards/example.yaml:12 devices[0].dmaBits');
    assert.strictEqual(platform.heaps[1]!.end, 0x38000000 + 256 * 2 ** 20);
    assert.deepStrictEqual([...display.formats.values()].map((r) => r.access), ['read', 'read']);
    assert.strictEqual(platform.devices.find((d) => d.name === 'drm-protected')!.formats.get('NV12')!.access, 'readwrite');
  });

  it('malformed YAML names the line', () => {
    const e = inputError(() => parsePlatform('heaps:\n  - { name: system\ndevices: []\n', 'bad.yaml'));
    assert.match(e.message, /^bad\.yaml:\d+: not valid YAML or JSON/);
  });

  it('a misspelt field names its own line, says what it may have meant, and comes before what it leaves missing', () => {
    const e = inputError(() => parsePlatform('heaps:\n  - { name: system, kind: system, size: 1GiB }\ndevices:\n  - name: d\n    iomu: true\n    formats: { NV12: { pitchAlgn: 64 } }\n', 'typo.yaml'));
    const lines = e.message.split('\n');
    assert.ok(lines.some((l) => l.startsWith('typo.yaml:5: profile field devices[0].iomu: unknown (did you mean iommu?)')), e.message);
    assert.ok(lines.some((l) => l.startsWith('typo.yaml:6: profile field devices[0].formats.NV12.pitchAlgn: unknown (did you mean pitchAlign?)')), e.message);
    const r = inputError(() => parseRequest('devices: [camera]\nwidth: 640\nhieght: 480\n', parsePlatform(example, 'ex.yaml'), 'req.yaml'));
    assert.match(r.message, /^req\.yaml:3: request field hieght: unknown \(did you mean height\?\); the fields here are width, height/);
    assert.strictEqual(r.field, 'hieght');
  });

  it('a wrong type names the field path, value and line', () => {
    const text = example.replace('dmaBits: 32           #', 'dmaBits: "lots"       #');
    const e = inputError(() => parsePlatform(text, 'ex.yaml'));
    assert.ok((e.message).includes('ex.yaml:12: profile field devices[0].dmaBits = "lots"'), `expected to contain ${'ex.yaml:12: profile field devices[0].dmaBits = "lots"'}`);
    assert.strictEqual(e.field, 'devices[0].dmaBits');
  });

  each([
    ['negative size', minimal('{ name: s, kind: system, size: -4096 }'), /heaps\[0\]\.size = -4096: must not be negative/],
    ['NaN size', minimal('{ name: s, kind: system, size: .nan }'), /heaps\[0\]\.size = NaN: must be a finite number of bytes/],
    ['huge size', minimal('{ name: s, kind: system, size: 99999999PiB }'), /heaps\[0\]\.size = "99999999PiB": is not a size/],
    ['zero size', minimal('{ name: s, kind: cma, size: 0 }'), /heaps\[0\]\.size = 0: must be greater than 0/],
    ['unknown heap kind', minimal('{ name: s, kind: ion, size: 4096 }'), /heaps\[0\]\.kind = "ion"/],
    ['unknown field', minimal('{ name: s, kind: system, size: 4096, colour: red }'), /heaps\[0\].*colour/],
    ['no heaps', 'heaps: []\ndevices:\n  - { name: d, formats: { NV12: {} } }\n', /heaps = \[\]: must list at least one heap/],
    ['no devices', 'heaps:\n  - { name: s, kind: system, size: 4096 }\ndevices: []\n', /devices = \[\]: must list at least one device/],
    ['no formats', minimal('{ name: s, kind: system, size: 4096 }', '{ name: d, formats: {} }'), /devices\[0\]\.formats = \{\}: must list at least one format/],
    ['unknown format', minimal('{ name: s, kind: system, size: 4096 }', '{ name: d, formats: { NV2: {} } }'), /devices\[0\]\.formats\.NV2 = "NV2": unknown format \(did you mean NV12\?\)/],
    ['unknown modifier', minimal('{ name: s, kind: system, size: 4096 }', '{ name: d, formats: { NV12: { modifiers: [LINAER] } } }'), /unknown modifier \(did you mean LINEAR\?\)/],
    ['modifier for the wrong format', minimal('{ name: s, kind: system, size: 4096 }', '{ name: d, formats: { NV12: { modifiers: [AFBC_16x16] } } }'), /not defined for NV12/],
    ['unknown heap link', minimal('{ name: cma0, kind: cma, size: 2MiB }', '{ name: d, heaps: [cma], formats: { NV12: {} } }'), /devices\[0\]\.heaps\[0\] = "cma": no heap of that name in this platform \(did you mean cma0\?\)/],
    ['duplicate device', 'heaps:\n  - { name: s, kind: system, size: 4096 }\ndevices:\n  - { name: d, formats: { NV12: {} } }\n  - { name: d, formats: { NV12: {} } }\n', /two devices are named d/],
    ['dmaBits out of range', minimal('{ name: s, kind: system, size: 4096 }', '{ name: d, dmaBits: 99, formats: { NV12: {} } }'), /dmaBits = 99/],
    ['a mappable secure heap', minimal('{ name: s, kind: secure, size: 4096, cpuAccess: true }'), /cannot be CPU-mappable/],
    ['a pool of a bare number of bytes that is no whole number of pages', minimal('{ name: s, kind: carveout, base: 0x40000000, size: 256 }'), /heaps\[0\]\.size = 256: not a whole number of pages \(4096 bytes\): did you forget a unit \(256MiB\)\?/],
    ['a pool larger than the range it must lie in', minimal('{ name: s, kind: cma, size: 2GiB, limit: 0x40000000 }'), /heaps\[0\]\.size = 2147483648: a pool of 2147483648 bytes cannot lie below its limit 0x40000000/],
    ['a pool off a page boundary', minimal('{ name: s, kind: carveout, base: 0x40000800, size: 1MiB }'), /heaps\[0\]\.base = 1073743872: not page aligned \(4096 bytes\)/],
    ['a CMA area that is not whole pageblocks', minimal('{ name: s, kind: cma, size: 3MiB }'), /heaps\[0\]\.size = 3145728: a CMA area is whole pageblocks \(2 MiB\); Linux refuses .*incorrect alignment of CMA region.* rounds cma= up to 4 MiB/],
    ['a CMA area off a pageblock', minimal('{ name: s, kind: cma, base: 0x40001000, size: 4MiB }'), /heaps\[0\]\.base = 1073745920: a CMA area starts on a whole pageblock \(2 MiB\); Linux refuses one at 0x40001000 /],
    ['an alignment that is no power of two', minimal('{ name: s, kind: system, size: 4096 }', '{ name: d, alignment: 3000, formats: { NV12: {} } }'), /devices\[0\]\.alignment = 3000: a physical base alignment is a power of two/],
    ['a heap alignment that is no power of two', minimal('{ name: s, kind: carveout, base: 0x40000000, size: 1MiB, maxAlign: 12288 }'), /heaps\[0\]\.maxAlign = 12288: a physical base alignment is a power of two/],
    ['base + size beyond 2^53', minimal('{ name: s, kind: cma, base: 0x1fffffffffffff, size: 1GiB }'), /beyond 2\^53/],
    ['unknown access', minimal('{ name: s, kind: system, size: 4096 }', '{ name: d, formats: { NV12: { access: scanout } } }'), /p\.yaml:4: profile field devices\[0\]\.formats\.NV12\.access = "scanout": .*"read"/],
    ['modifierAccess for a modifier not listed', minimal('{ name: s, kind: system, size: 4096 }', '{ name: d, formats: { NV12: { modifiers: [LINEAR], modifierAccess: { Y_TILED: read } } } }'), /devices\[0\]\.formats\.NV12\.modifierAccess\.Y_TILED = "Y_TILED": not one of this format's modifiers \(LINEAR\)/],
    ['modifierAccess wider than the format', minimal('{ name: s, kind: system, size: 4096 }', '{ name: d, formats: { NV12: { access: read, modifiers: [LINEAR], modifierAccess: { LINEAR: write } } } }'), /modifierAccess\.LINEAR = "write": cannot widen the format's access \(read\)/],
    ['a top-level list', '- 1\n- 2\n', /must be a mapping/],
  ], '%s', (_, text, message) => {
    assert.match(inputError(() => parsePlatform(text, 'p.yaml')).message, message);
  });

  it('JSON profiles work too', () => {
    const p = parsePlatform(JSON.stringify({ heaps: [{ name: 's', kind: 'system', size: '1GiB' }], devices: [{ name: 'd', iommu: true, formats: { NV12: null } }] }), 'p.json');
    assert.deepStrictEqual(p.devices[0]!.formats.get('NV12')!.modifiers.map((m) => m.name), ['DRM_FORMAT_MOD_LINEAR']);
  });

  it('a missing file is an input error naming it', () => {
    assert.match(inputError(() => loadPlatform('/nonexistent/board.yaml')).message, /cannot read platform profile \/nonexistent\/board\.yaml: no such file \(ENOENT\); expected a platform profile file/);
  });
});

describe('requests', () => {
  const req = (text: string) => parseRequest(text, platform, 'r.yaml');

  it('reads the example request with defaults', () => {
    const r = req(readFileSync('examples/camera-display.yaml', 'utf8'));
    assert.deepStrictEqual([r.width, r.height, r.formats.map((f) => f.name), r.devices, r.cpu, r.protected, r.count], [1920, 1080, ['NV12', 'XRGB8888'], ['camera', 'display'], 'none', false, 3]);
    assert.deepStrictEqual([...r.access], [['camera', 'write'], ['display', 'read']]);
    assert.strictEqual(parseRequest('width: 2\nheight: 2\nformats: [nv12]\ndevices: [camera]\n', platform).cpu, 'none');
  });

  each([
    ['unknown device', 'width: 64\nheight: 64\nformats: [NV12]\ndevices: [camra]\n', /devices\[0\] = "camra": no device of that name in platform example-board \(did you mean camera\?\)/],
    ['unknown format', 'width: 64\nheight: 64\nformats: [NV13]\ndevices: [camera]\n', /formats\[0\] = "NV13": unknown format \(did you mean NV12\?\)/],
    ['empty formats', 'width: 64\nheight: 64\nformats: []\ndevices: [camera]\n', /formats = \[\]: must list at least one format/],
    ['empty devices', 'width: 64\nheight: 64\nformats: [NV12]\ndevices: []\n', /devices = \[\]: must list at least one device/],
    ['negative width', 'width: -1\nheight: 64\nformats: [NV12]\ndevices: [camera]\n', /r\.yaml:1: request field width = -1: must be at least 1/],
    ['NaN height', 'width: 64\nheight: .nan\nformats: [NV12]\ndevices: [camera]\n', /height/],
    ['absurd width', 'width: 100000000\nheight: 64\nformats: [NV12]\ndevices: [camera]\n', /width = 100000000: is larger than 1048576 pixels/],
    ['bad cpu', 'width: 64\nheight: 64\nformats: [NV12]\ndevices: [camera]\ncpu: all\n', /cpu = "all"/],
    ['duplicate device', 'width: 64\nheight: 64\nformats: [NV12]\ndevices: [camera, camera]\n', /devices\[1\] = "camera": listed twice/],
    ['count 0', 'width: 64\nheight: 64\nformats: [NV12]\ndevices: [camera]\ncount: 0\n', /count = 0: must be at least 1/],
    ['unknown access', 'width: 64\nheight: 64\nformats: [NV12]\ndevices: ["camera:stream"]\n', /devices\[0\] = "camera:stream": "stream" is not a way to use a buffer; a device entry is NAME, NAME:read, NAME:write, NAME:readwrite or NAME:ROLE with a role of scanout/],
    ['misspelt access', 'width: 64\nheight: 64\nformats: [NV12]\ndevices: ["camera:wirte"]\n', /devices\[0\] = "camera:wirte": "wirte" is not a way to use a buffer \(did you mean camera:write\?\);/],
    ['a kind of device by its common name', 'width: 64\nheight: 64\nformats: [NV12]\ndevices: [uvc0]\n', /devices\[0\] = "uvc0": no device of that name in platform example-board \("uvc0" reads as a camera: this platform's are camera\)/],
    ['a name like none', 'width: 64\nheight: 64\nformats: [NV12]\ndevices: [zzzzzz]\n', /devices\[0\] = "zzzzzz": no device of that name in platform example-board; its devices are display, camera, encoder, gpu, drm-protected, decoder/],
    ['device listed twice with different access', 'width: 64\nheight: 64\nformats: [NV12]\ndevices: ["camera:write", "camera:read"]\n', /devices\[1\] = "camera:read": listed twice/],
    ['missing width', 'height: 64\nformats: [NV12]\ndevices: [camera]\n', /^r\.yaml:1: request field width is missing$/],
  ], '%s', (_, text, message) => {
    assert.match(inputError(() => req(text)).message, message);
  });

  it('errors in values given as flags name the flag, not a line of a file that has none', () => {
    assert.match(inputError(() => requestFromCommandLine(undefined, platform, { width: 0, height: 64, formats: ['NV12'], devices: ['camera'] })).message, /^--size: request field width = 0: must be at least 1$/);
    assert.match(inputError(() => requestFromCommandLine(undefined, platform, { formats: ['NV12'], devices: ['camera'] })).message, /^request flags: request field width is missing \(set it with --size or in a --request file\)\n/);
    assert.match(inputError(() => makeRequest(platform, { width: 64, height: 64, formats: ['NV12'], devices: ['camra'] })).message, /^request: devices\[0\] = "camra": no device/);
  });

  it('device entries may name a role instead of read/write: display:scanout reads, camera:capture writes', () => {
    const r = req('width: 64\nheight: 64\nformats: [NV12]\ndevices: [camera:capture, display:scanout, gpu:texture, encoder:encode, decoder:decode]\n');
    assert.deepStrictEqual([...r.access], [['camera', 'write'], ['display', 'read'], ['gpu', 'read'], ['encoder', 'read'], ['decoder', 'write']]);
    assert.strictEqual(inputError(() => req('width: 64\nheight: 64\nformats: [NV12]\ndevices: ["camera:toString"]\n')).field, 'devices[0]');
  });

  it('flags override the file and are named as the source', () => {
    const r = parseRequest('width: 64\nheight: 64\nformats: [NV12]\ndevices: [camera]\n', platform, 'r.yaml', { count: 5, devices: ['display'] }, flagOf);
    assert.deepStrictEqual([r.count, r.devices], [5, ['display']]);
    assert.strictEqual(r.sources['devices'], '--devices on the command line');
    assert.strictEqual(r.sources['width'], 'r.yaml:1 width');
    // A library caller's fields are named as its own, not as flags it never used.
    const api = makeRequest(platform, { width: 64, height: 64, formats: ['NV12'], devices: ['camera'], count: 5 });
    assert.deepStrictEqual([api.sources['count'], api.sources['devices']], ['request field count', 'request field devices']);
    assert.strictEqual(makeRequest(platform, { width: 64, height: 64, formats: ['NV12'], devices: ['camera'] }, 'request from alice').sources['width'], 'request from alice field width');
  });
});

describe('formats as people write them, and numbers as they wrote them', () => {
  it('a format is found by name, DRM_FORMAT_ name, fourcc characters, or code in hex or decimal, in requests and profiles', () => {
    for (const spelling of ['NV12', 'nv12', 'DRM_FORMAT_NV12', '0x3231564e', '842094158', "'NV12'"]) {
      assert.strictEqual(makeRequest(platform, { width: 64, height: 64, formats: [spelling], devices: ['camera'] }).formats[0]!.name, 'NV12', spelling);
    }
    assert.strictEqual(makeRequest(platform, { width: 64, height: 64, formats: ['XR24'], devices: ['display'] }).formats[0]!.name, 'XRGB8888');
    // YAML reads an unquoted hex key or list item as a number; it still names the format.
    const p = parsePlatform(minimal('{ name: s, kind: system, size: 1GiB }', '{ name: d, formats: { 0x34325258: {}, "0x3231564e": {} } }'), 'hex.yaml');
    assert.match(inputError(() => parsePlatform(minimal('{ name: s, kind: system, size: 1GiB }', '{ name: d, formats: { 0x34325258: {}, XR24: {} } }'), 'dup.yaml')).message, /formats\.XR24 = "XR24": XRGB8888 is listed twice/);
    assert.deepStrictEqual([...p.devices[0]!.formats.keys()], ['XRGB8888', 'NV12']);
    const r = parseRequest('width: 64\nheight: 64\nformats: [0x3231564e]\ndevices: [d]\n', p, 'r.yaml');
    assert.strictEqual(r.formats[0]!.name, 'NV12');
  });

  it('without formats, a request takes every format its devices share, in their order of preference', () => {
    const r = requestFromCommandLine(undefined, platform, { width: 64, height: 64, devices: ['gpu', 'display'] });
    assert.deepStrictEqual(r.formats.map((f) => f.name), ['XRGB8888', 'NV12']);
    assert.match(r.sources['formats']!, /default: the formats gpu, display all take/);
    // None in common: the first device's formats, which negotiating turns into a conflict with its fixes.
    const apart = requestFromCommandLine(undefined, platform, { width: 64, height: 64, devices: ['camera:write', 'gpu:write'] });
    assert.deepStrictEqual(apart.formats.map((f) => f.name), ['NV12']);
    assert.match(apart.sources['formats']!, /default: the formats camera takes; the devices take none in common: camera: NV12; gpu: XRGB8888, ARGB8888/);
    const result = negotiate(platform, apart);
    assert.ok(!result.ok && result.conflict.core.some((a) => a.device === 'gpu' && a.constraint === 'formats'), JSON.stringify(!result.ok && result.conflict.core));
  });

  it('a number beyond 2^53 is shown as written, not as the double it became', () => {
    const message = inputError(() => parsePlatform(minimal('{ name: s, kind: system, size: 18446744073709551616 }'), 'big.yaml')).message;
    assert.match(message, /heaps\[0\]\.size = 18446744073709551616: is larger than 2\^53 bytes/);
    assert.doesNotMatch(message, /18446744073709552000/);
  });
});

describe('pools with fixed places', () => {
  it('may not overlap: the second is named with the range it starts in', () => {
    const text = 'heaps:\n  - { name: cma, kind: cma, base: 0x40000000, size: 256MiB }\n  - { name: carve, kind: carveout, base: 0x48000000, size: 64MiB }\ndevices:\n  - { name: d, formats: { NV12: {} } }\n';
    assert.match(inputError(() => parsePlatform(text, 'overlap.yaml')).message, /^overlap\.yaml:3: heaps\[1\]\.base = "0x48000000": carve starts inside cma \(0x40000000-0x50000000\): pools with fixed places cannot overlap$/);
  });
});
