// Negotiation on the example board and small hand-made platforms: plans, conflicts and fixes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { assertMatches } from '../helpers.js';
import { loadPlatform, makeRequest, parsePlatform, type RequestFields } from '../../src/constraints/load.js';
import { atomLabel } from '../../src/solver/atoms.js';
import { negotiate } from '../../src/solver/negotiate.js';
import { prepare } from '../../src/solver/prepared.js';
import { negotiationJson } from '../../src/index.js';
import { allocatesOnEmptyHeaps } from '../../src/kernel/sim/fix-check.js';
import { applyChanges } from '../../src/solver/apply.js';
import { violations } from '../../src/solver/verify.js';
import { explainChoices } from '../../src/solver/explain-choices.js';
import { actOn } from './act-on.js';
import { hardwareAdvice } from '../../src/solver/fixes.js';

const MiB = 2 ** 20;

const board = loadPlatform('boards/example.yaml');
const ask = (fields: RequestFields, platform = board) => {
  const request = makeRequest(platform, { width: 1920, height: 1080, formats: ['NV12'], ...fields });
  return { request, result: negotiate(platform, request, { check: allocatesOnEmptyHeaps }) };
};

describe('plans on the example board', () => {
  it('camera + display: NV12 in CMA (display has no IOMMU), carveout as the alternative', () => {
    const { request, result } = ask({ devices: ['camera', 'display'], count: 3 });
    if (!result.ok) throw new Error('expected a plan');
    assert.deepStrictEqual([result.plan.heap.name, result.plan.format.name, result.plan.size], ['linux,cma', 'NV12', 3342336]);
    assert.deepStrictEqual(result.alternatives.map((a) => a.heap.name), ['vpu-carve']);
    assert.deepStrictEqual(violations(board, request, result.plan), []);
    assert.match(result.rationale.join('\n'), /display: .*no IOMMU: linux,cma is contiguous; ends at 0x48000000 <= 2\^32/);
  });

  it('IOMMU-only devices get the system heap (least scarce)', () => {
    const { result } = ask({ devices: ['camera', 'encoder'] });
    assert.strictEqual(result.ok && result.plan.heap.name, 'system');
  });

  it('the GPU and display agree on XRGB8888 LINEAR; the GPU alone prefers AFBC', () => {
    const both = ask({ devices: ['gpu', 'display'], formats: ['XRGB8888'] }).result;
    assert.strictEqual(both.ok && both.plan.modifier.name, 'DRM_FORMAT_MOD_LINEAR');
    const gpu = ask({ devices: ['gpu'], formats: ['XRGB8888'] }).result;
    assert.strictEqual(gpu.ok && gpu.plan.modifier.name, 'DRM_FORMAT_MOD_ARM_AFBC_16x16_YTR_SPARSE');
  });

  it('protected buffers land in the secure heap', () => {
    const { result } = ask({ devices: ['drm-protected', 'camera'], protected: true });
    assert.strictEqual(result.ok && result.plan.heap.name, 'secure');
  });

  it('is deterministic; a prepared platform gives the same request its answer again, and keeps conflicts by every field, sources included', () => {
    const prepared = prepare(board);
    const fields = { width: 1920, height: 1080, formats: ['NV12'], devices: ['camera', 'display'] };
    const a = makeRequest(board, fields);
    const first = negotiate(prepared, a, { check: allocatesOnEmptyHeaps });
    assert.strictEqual(negotiate(prepared, a, { check: allocatesOnEmptyHeaps }), first);
    assert.deepStrictEqual(negotiate(prepared, makeRequest(board, fields), { check: allocatesOnEmptyHeaps }), first); // equal request, new object
    assert.deepStrictEqual(negotiate(board, makeRequest(board, fields), { check: allocatesOnEmptyHeaps }), first); // a bare platform: worked out afresh
    // A conflict is explained once per request: the same words again get the same answer...
    const big = { ...fields, width: 3840, height: 2160, count: 40 };
    const conflict = negotiate(prepared, makeRequest(board, big, 'request from alice'));
    assert.ok(!conflict.ok);
    assert.strictEqual(negotiate(prepared, makeRequest(board, big, 'request from alice')), conflict);
    // ... and the same request from someone else gets its own, naming them.
    const bobs = negotiate(prepared, makeRequest(board, big, 'request from bob'));
    assert.ok(!bobs.ok && bobs !== conflict);
    assert.ok(bobs.conflict.core.filter((atom) => atom.request).every((atom) => /request from bob/.test(atom.source)), JSON.stringify(bobs.conflict.core));
  });
});

describe('how each device uses the buffer', () => {
  it('a decoder writes NV12 that the GPU and display read: allowed, and the rationale says who reads and writes', () => {
    const { request, result } = ask({ devices: ['decoder:write', 'gpu:read', 'display:read'] });
    if (!result.ok) throw new Error('expected a plan');
    assert.deepStrictEqual([...request.access], [['decoder', 'write'], ['gpu', 'read'], ['display', 'read']]);
    assert.deepStrictEqual(request.devices, ['decoder', 'gpu', 'display']);
    assert.strictEqual(result.plan.format.name, 'NV12');
    assert.match(result.rationale.join('\n'), /decoder: .*; writes the buffer \(NV12 access: write\);/);
    assert.match(result.rationale.join('\n'), /gpu: .*; reads the buffer \(NV12 access: read\);/);
  });

  it('the GPU rendering NV12 is a conflict blamed on the stated access, with the fix', () => {
    const { request, result } = ask({ devices: ['decoder:write', 'gpu:write'] });
    if (result.ok) throw new Error('expected a conflict');
    assert.deepStrictEqual(result.conflict.atoms.map(atomLabel), ['gpu.NV12.access']);
    assert.match(result.conflict.atoms[0]!.source, /^boards\/example\.yaml:32 devices\[3\]\.formats\.NV12$/);
    assert.strictEqual(result.conflict.fixes[0]!.text, 'gpu can only read NV12, and the request has it writing: if it only reads the buffer, say gpu:read');
    assert.deepStrictEqual(result.conflict.fixes[0]!.changes, [{ target: 'request', field: 'devices', value: ['decoder:write', 'gpu:read'] }]);
    // The plan the solver refused really breaks the GPU's rule, by the independent checker too.
    const unstated = ask({ devices: ['decoder', 'gpu'] });
    assert.ok(unstated.result.ok, 'without stated access the devices may use any rule they have');
    if (unstated.result.ok) assert.deepStrictEqual(violations(board, request, unstated.result.plan), ['gpu: NV12 is read-only for it, the request has it write']);
  });

  it('a stated access falls back to a format the device can use that way', () => {
    const { result } = ask({ devices: ['gpu:write', 'display:read'], formats: ['NV12', 'XRGB8888'] });
    assert.strictEqual(result.ok && result.plan.format.name, 'XRGB8888');
  });

  it('requests differing only in access are negotiated separately (memo key)', () => {
    const a = ask({ devices: ['gpu:read', 'display'], formats: ['NV12', 'XRGB8888'] }).result;
    const b = ask({ devices: ['gpu:write', 'display'], formats: ['NV12', 'XRGB8888'] }).result;
    assert.deepStrictEqual([a.ok && a.plan.format.name, b.ok && b.plan.format.name], ['NV12', 'XRGB8888']);
  });
});

describe('per-modifier access (EGL external_only)', () => {
  // A GPU that samples tiled NV12 but renders only linear NV12, and a decoder that writes either.
  const pc = parsePlatform(
    [
      'heaps:',
      '  - { name: system, kind: system, size: 4GiB }',
      'devices:',
      '  - { name: gpu, iommu: true, formats: { NV12: { modifiers: [Y_TILED, LINEAR], modifierAccess: { Y_TILED: read } } } }',
      '  - { name: vdec, iommu: true, formats: { NV12: { modifiers: [Y_TILED, LINEAR], access: write } } }',
      '  - { name: tiler, iommu: true, formats: { NV12: { modifiers: [Y_TILED] } } }',
    ].join('\n'),
    'pc.yaml',
  );

  it('a reader gets the tiled layout; a writer falls back to the modifier it can write', () => {
    const read = ask({ devices: ['vdec:write', 'gpu:read'] }, pc).result;
    assert.strictEqual(read.ok && read.plan.modifier.name, 'I915_FORMAT_MOD_Y_TILED');
    const write = ask({ devices: ['vdec:write', 'gpu:write'] }, pc);
    assert.ok(write.result.ok);
    if (write.result.ok) {
      assert.strictEqual(write.result.plan.modifier.name, 'DRM_FORMAT_MOD_LINEAR');
      assert.deepStrictEqual(violations(pc, write.request, write.result.plan), []);
      // The checker rejects the tiled plan for a rendering GPU on its own.
      assert.deepStrictEqual(violations(pc, write.request, { ...write.result.plan, modifier: read.ok ? read.plan.modifier : write.result.plan.modifier, rank: [] }), ['gpu: NV12 Y_TILED is read-only for it, the request has it write']);
    }
  });

  it('when only the narrow modifier is shared, the conflict names it and the use to state', () => {
    const { result } = ask({ devices: ['tiler', 'gpu:write'] }, pc);
    if (result.ok) throw new Error('expected a conflict');
    assert.deepStrictEqual(result.conflict.atoms.map((a) => [atomLabel(a), a.value]), [['gpu.NV12.access', ['Y_TILED: read']]]);
    assert.strictEqual(result.conflict.fixes[0]!.text, 'gpu can only read NV12 as Y_TILED, and the request has it writing: if it only reads the buffer, say gpu:read');
    // The other way out: the GPU renders into a linear buffer of its own, and a copy step tiles it.
    assert.match(result.conflict.fixes[1]!.text, /^give gpu its own buffer and copy into it: tiler uses NV12 Y_TILED in \S+, gpu gets NV12 LINEAR in \S+; the copy step \(GPU, 2D engine or CPU\) converts the layout Y_TILED to LINEAR$/);
    const e = explainChoices(pc, makeRequest(pc, { width: 1920, height: 1080, formats: ['NV12'], devices: ['tiler', 'gpu:write'] }), result);
    assert.deepStrictEqual(e.formats[0]!.reasons, ['no modifier every device supports (tiler: Y_TILED; gpu: Y_TILED (read only), LINEAR)']);
  });

  it('judges the modifiers even when none is shared, naming the use that excludes one', () => {
    const { result } = ask({ devices: ['tiler', 'gpu:write'] }, pc);
    const e = explainChoices(pc, makeRequest(pc, { width: 1920, height: 1080, formats: ['NV12'], devices: ['tiler', 'gpu:write'] }), result);
    assert.deepStrictEqual(e.modifiers.map((m) => [m.modifier, m.verdict, m.reasons]), [
      ['Y_TILED', 'excluded', ['gpu can only read NV12 as Y_TILED, the request has it write']],
      ['LINEAR', 'excluded', ['tiler does not take NV12 as LINEAR']],
    ]);
  });
});

describe('conflicts', () => {
  it('no shared format: the request is the cheapest change, with the format to add', () => {
    const { result } = ask({ devices: ['camera', 'display'], formats: ['XRGB8888'] });
    if (result.ok) throw new Error('expected a conflict');
    assert.deepStrictEqual(result.conflict.atoms.map(atomLabel), ['request.formats']);
    assert.deepStrictEqual(result.conflict.core.map(atomLabel).sort(), ['camera.formats', 'request.formats']);
    assert.strictEqual(result.conflict.fixes[0]!.text, 'accept NV12 in the request (both camera and display take it): --format XRGB8888,NV12');
    assert.deepStrictEqual(result.conflict.fixes[0]!.changes, [{ target: 'request', field: 'formats', value: ['XRGB8888', 'NV12'] }]);
  });

  it('when nothing conflicts but the premise (an unprotected buffer, only a secure heap), the core says so and no fix is offered', () => {
    const platform = parsePlatform(
      JSON.stringify({ name: 'secure-only', heaps: [{ name: 'tz', kind: 'secure', base: 0x80000000, size: '64MiB' }], devices: [{ name: 'a', iommu: true, formats: { NV12: {} } }, { name: 'b', iommu: true, formats: { NV12: {} } }] }),
      'secure-only.json',
    );
    const { result } = ask({ devices: ['a', 'b'], width: 640, height: 480 }, platform);
    if (result.ok) throw new Error('expected a conflict');
    assert.deepStrictEqual(result.conflict.core.map(atomLabel), ['request.protected']);
    assert.deepStrictEqual(result.conflict.fixes, []);
    assert.match(result.conflict.hardware[0]!, /the buffer is not protected .*only a secure heap could hold it/);
  });

  it('fix sentences are written when read, and JSON and console.log show them like the other fields', () => {
    const { result } = ask({ devices: ['camera', 'display'], formats: ['XRGB8888'] });
    if (result.ok) throw new Error('expected a conflict');
    const fix = result.conflict.fixes[0]!;
    // (Plans hold modifiers as bigints, which JSON needs a replacer for.)
    const stringify = (v: unknown) => JSON.stringify(v, (_key, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
    const json = JSON.parse(stringify(fix)) as { text: string; changes: unknown };
    assert.strictEqual(json.text, fix.text);
    assert.deepStrictEqual(json.changes, fix.changes);
    assert.match(inspect(fix), /text: 'accept NV12 in the request/);
    const plan = ask({ devices: ['camera', 'display'] }).result;
    assert.ok(plan.ok);
    assert.match(inspect(plan), /rationale: \[/);
    assert.deepStrictEqual(JSON.parse(stringify(plan)).rationale, plan.rationale);
    // The package's stable JSON shapes need no replacer.
    const shaped = JSON.parse(JSON.stringify(negotiationJson(result, { width: 1920, height: 1080, cpu: 'none' }))) as { conflict: { fixes: { fix: string }[] } };
    assert.strictEqual(shaped.conflict.fixes[0]!.fix, fix.text);
    assert.deepStrictEqual(JSON.parse(JSON.stringify(negotiationJson(plan, { width: 1920, height: 1080, cpu: 'none' }))).rationale, plan.rationale);
  });

  it('a pool too small: grow CMA to what 40 buffers take as the kernel places them (1 MiB aligned), or ask for fewer', () => {
    const { result } = ask({ devices: ['camera', 'display'], width: 3840, height: 2160, count: 40 });
    if (result.ok) throw new Error('expected a conflict');
    assert.deepStrictEqual(result.conflict.atoms.map(atomLabel), ['heap linux,cma capacity']);
    // 3840x2160 NV12, pitch 3840 (256-aligned), 2160 rows (16-aligned): 12441600 -> 12443648 bytes per
    // buffer, which CMA aligns to 1 MiB: 39 strides of 12 MiB and the last buffer.
    const need = 39 * 12 * 2 ** 20 + 12443648;
    const grow = result.conflict.fixes[0];
    const fewer = result.conflict.fixes.find((f) => f.changes.some((c) => c.target === 'request' && c.field === 'count'));
    // A CMA area is whole 2 MiB pageblocks (Linux refuses others): the change is the need rounded up.
    assert.deepStrictEqual(grow!.changes, [{ target: 'heap', heap: 'linux,cma', field: 'size', value: Math.ceil(need / 2 ** 21) * 2 ** 21 }]);
    assert.match(grow!.text, /^grow linux,cma from 256 MiB to 480 MiB \(the buffers take 503177216 bytes: 40 x 12443648, each placed on a 1 MiB boundary as the kernel aligns them, rounded up to whole 2 MiB pageblocks as CMA areas are\); at boot: cma=480M /);
    // A /reserved-memory CMA region must be whole 2 MiB pageblocks, or Linux refuses it
    // (kernel/dma/contiguous.c rmem_cma_setup): the node size is the pool size rounded up.
    const node = Number(/size = <(0x[0-9a-f]+)> in its \/reserved-memory node/.exec(grow!.text)![1]);
    assert.strictEqual(node, Math.ceil(need / 2 ** 21) * 2 ** 21);
    assert.match(grow!.text, /cma=480M /);
    assert.strictEqual(node, 480 * 2 ** 20);
    assert.deepStrictEqual(fewer!.changes, [{ target: 'request', field: 'count', value: 21 }]);
    // Acting on it: the grown pool holds exactly 40, one page less holds 39.
    const grown = applyChanges(board, makeRequest(board, { width: 3840, height: 2160, formats: ['NV12'], devices: ['camera', 'display'], count: 40 }), grow!.changes);
    assert.ok(negotiate(grown.platform, grown.requests[0]!).ok);
    const short = applyChanges(board, grown.requests[0]!, [{ target: 'heap', heap: 'linux,cma', field: 'size', value: need - 4096 }]);
    assert.ok(!negotiate(short.platform, short.requests[0]!).ok);
  });

  it('a CMA area whose base is not aligned for the buffers: the pool fix counts the gap before the first one', () => {
    // CONFIG_CMA_ALIGNMENT=12: an 8 MiB-order buffer is aligned to 8 MiB; the area starts at
    // 1026 MiB (a whole pageblock), so the first buffer lands 6 MiB in, then one every 8 MiB.
    const profile = { name: 'offset', heaps: [{ name: 'cma', kind: 'cma', base: 0x40200000, size: '32MiB', alignOrder: 12 }], devices: [{ name: 'display', iommu: false, formats: { XRGB8888: { modifiers: ['LINEAR'] } } }] };
    const platform = parsePlatform(JSON.stringify(profile), 'offset.json');
    const fields = { width: 1920, height: 1080, formats: ['XRGB8888'], devices: ['display'], count: 4 };
    const { result } = ask(fields, platform);
    if (result.ok) throw new Error('expected a conflict: 32 MiB holds 3 such buffers from that base');
    const grow = result.conflict.fixes.find((f) => f.changes.some((c) => c.target === 'heap'));
    const need = 6 * MiB + 3 * 8 * MiB + 8294400;
    assert.deepStrictEqual(grow?.changes, [{ target: 'heap', heap: 'cma', field: 'size', value: Math.ceil(need / (2 * MiB)) * 2 * MiB }]);
    assert.strictEqual(actOn(profile, fields, grow.changes), 'allocates');
    assert.notStrictEqual(actOn(profile, fields, [{ target: 'heap', heap: 'cma', field: 'size', value: Math.ceil(need / (2 * MiB)) * 2 * MiB - 2 * MiB }]), 'allocates');
    const fewer = result.conflict.fixes.find((f) => f.changes.some((c) => c.target === 'request'));
    assert.deepStrictEqual(fewer?.changes, [{ target: 'request', field: 'count', value: 3 }]);
  });

  it('more than RAM holds: the system heap is a fact of the machine (no boot setting grows it), fewer or smaller buffers are the fixes', () => {
    const { result } = ask({ devices: ['camera', 'encoder'], width: 4096, height: 4096, count: 200 });
    if (result.ok) throw new Error('expected a conflict: 200 x 24 MiB is more than the 4 GiB system heap');
    const system = result.conflict.core.find((a) => a.heap === 'system');
    assert.deepStrictEqual([system?.constraint, system?.changeable], ['capacity', false]);
    assert.ok(result.conflict.fixes.every((f) => f.changes.every((c) => c.target !== 'heap' || c.heap !== 'system')), result.conflict.fixes.map((f) => f.text).join('\n'));
    assert.ok(result.conflict.fixes.every((f) => !/grow system|reserved-memory/.test(f.text)), result.conflict.fixes.map((f) => f.text).join('\n'));
    assert.deepStrictEqual(result.conflict.fixes.map((f) => f.changes.map((c) => (c.target === 'request' ? c.field : c.target))), [['count'], ['width', 'height']]);
    // Said as what it is when hardware is all that could change.
    assert.match(hardwareAdvice(system!, result.conflict.core, makeRequest(board, { width: 4096, height: 4096, formats: ['NV12'], devices: ['camera', 'encoder'], count: 200 })), /^system is the machine's RAM, 4 GiB \(boards\/example\.yaml:5 heaps\[0\]\): no boot setting gives it more/);
  });

  it('a DMA limit below every contiguous pool: move the pool (a fix), the DMA reach is the reason', () => {
    const platform = parsePlatform(
      [
        'heaps:',
        '  - { name: system, kind: system, size: 8GiB }',
        '  - { name: cma-high, kind: cma, base: 0x100000000, size: 256MiB }',
        'devices:',
        '  - { name: display, iommu: false, dmaBits: 32, formats: { XRGB8888: {} } }',
        '  - { name: gpu, iommu: true, formats: { XRGB8888: {} } }',
      ].join('\n'),
      'high.yaml',
    );
    const { result } = ask({ devices: ['display', 'gpu'], formats: ['XRGB8888'] }, platform);
    if (result.ok) throw new Error('expected a conflict');
    assert.deepStrictEqual(result.conflict.atoms.map(atomLabel), ['heap cma-high placement']);
    assertMatches(result.conflict.core.find((a) => a.constraint === 'dmaBits'), { device: 'display', constraint: 'dmaBits', value: 32, source: 'high.yaml:5 devices[0].dmaBits', changeable: false });
    assert.deepStrictEqual(result.conflict.fixes[0]!.changes, [{ target: 'heap', heap: 'cma-high', field: 'base', value: 0xf0000000 }]);
    assert.match(result.conflict.fixes[0]!.text, /^display \(32-bit DMA, no IOMMU\) reaches only addresses below 0x100000000: move cma-high to 0xf0000000 \(it ends at 0x110000000\); boot with cma=256M@0-0x100000000/);
  });

  it('a CMA pool with no known position: the fix says so instead of an address', () => {
    const platform = parsePlatform('heaps:\n  - { name: cma, kind: cma, size: 64MiB }\ndevices:\n  - { name: display, iommu: false, dmaBits: 32, formats: { XRGB8888: {} } }\n', 'nobase.yaml');
    const { result } = ask({ devices: ['display'], formats: ['XRGB8888'] }, platform);
    if (result.ok) throw new Error('expected a conflict');
    assert.deepStrictEqual(result.conflict.fixes.map((f) => f.changes), [[{ target: 'heap', heap: 'cma', field: 'limit', value: 2 ** 32 }]]);
    assert.match(result.conflict.fixes[0]!.text, /where cma lies is unknown \(the profile gives no base or limit: nobase\.yaml:2 heaps\[0\]\): if it lies below 0x100000000, say limit: 0x100000000/);
    assert.doesNotMatch(result.conflict.fixes[0]!.text, /Infinity/);
  });

  it('only hardware can change: says so, names the device and the facts, and offers no fix (not even the default CMA area, which the device cannot reach)', () => {
    const platform = parsePlatform('heaps:\n  - { name: system, kind: system, size: 4GiB }\ndevices:\n  - { name: display, iommu: false, heaps: [system], formats: { XRGB8888: {} } }\n  - { name: gpu, iommu: true, formats: { XRGB8888: {} } }\n', 'nocontig.yaml');
    const { result } = ask({ devices: ['gpu', 'display'], formats: ['XRGB8888'] }, platform);
    if (result.ok) throw new Error('expected a conflict');
    assert.deepStrictEqual(result.conflict.fixes, []);
    assert.deepStrictEqual(result.conflict.core.map(atomLabel), ['display.iommu']);
    assert.deepStrictEqual(result.conflict.hardware, ['display has no IOMMU and needs physically contiguous memory (nocontig.yaml:4 devices[0].iommu): it needs a contiguous pool (CMA or a carveout) it can reach, large enough for the buffer']);
  });

  it('a device that works only on protected memory, on a board without a secure heap: the fact and what it needs', () => {
    const platform = parsePlatform('heaps:\n  - { name: system, kind: system, size: 2GiB }\ndevices:\n  - { name: decoder, iommu: true, protected: required, formats: { NV12: { access: write } } }\n  - { name: display, iommu: true, formats: { NV12: { access: read } } }\n', 'prot.yaml');
    const { result } = ask({ devices: ['decoder:write', 'display:read'] }, platform);
    if (result.ok) throw new Error('expected a conflict');
    assert.deepStrictEqual(result.conflict.fixes, []);
    assert.deepStrictEqual(result.conflict.hardware, ['decoder works only on protected memory (prot.yaml:4 devices[0].protected): it needs a secure heap it can reach, large enough for the buffer (memory the firmware or TEE protects, exported as a dma-buf heap)']);
  });

  it('a device limit bounds the size: the real cause first, then scaling in a copy step', () => {
    const platform = parsePlatform(
      [
        'heaps:',
        '  - { name: system, kind: system, size: 4GiB }',
        'devices:',
        '  - { name: camera, iommu: true, formats: { NV12: { access: write }, UYVY: { access: write } } }',
        '  - { name: encoder, iommu: true, formats: { NV12: { access: read, maxWidth: 1920 } } }',
      ].join('\n'),
      'enc.yaml',
    );
    const { result } = ask({ devices: ['camera:write', 'encoder:read'], width: 3840, height: 2160 }, platform);
    if (result.ok) throw new Error('expected a conflict');
    const [size, copy, ...rest] = result.conflict.fixes;
    assert.strictEqual(size!.text, 'encoder takes NV12 only up to 1920 pixels wide (enc.yaml:5 devices[1].formats.NV12): ask for 1920x1080 instead of 3840x2160');
    assert.match(copy!.text, /^give encoder its own buffer and copy into it: camera uses NV12 LINEAR in system, encoder gets NV12 LINEAR in system at 1920x1080; the copy step \(GPU, 2D engine or CPU\) scales 3840x2160 to 1920x1080$/);
    // UYVY is not offered: the encoder does not list it.
    assert.deepStrictEqual(rest, []);
  });

  it('a maximum pitch (a pitch register\'s width): plans keep every plane within it, and a wider request gets the size that fits', () => {
    const platform = parsePlatform(
      [
        'heaps:',
        '  - { name: system, kind: system, size: 4GiB }',
        'devices:',
        '  - { name: gpu, iommu: true, formats: { XRGB8888: { pitchAlign: 256 } } }',
        '  - { name: scanout, iommu: true, formats: { XRGB8888: { access: read, pitchAlign: 64, maxPitch: 8192 } } }',
      ].join('\n'),
      'pitch.yaml',
    );
    const fits = ask({ devices: ['gpu', 'scanout:read'], formats: ['XRGB8888'], width: 2048, height: 1080 }, platform).result;
    assert.ok(fits.ok);
    assert.strictEqual(fits.plan.planes[0]!.pitch, 8192);
    // 2049 pixels need 8196 bytes, and the 256-byte alignment makes it 8448: over the register.
    const { result } = ask({ devices: ['gpu', 'scanout:read'], formats: ['XRGB8888'], width: 3840, height: 2160 }, platform);
    if (result.ok) throw new Error('expected a conflict');
    // The size, the pitch register, and scanout's one format (a format of fewer bytes per pixel would fit).
    assert.deepStrictEqual(result.conflict.core.map((a) => `${a.device ?? 'request'}.${a.constraint}`).sort(), ['request.size', 'scanout.formats', 'scanout.maxPitch']);
    const [size] = result.conflict.fixes;
    assert.strictEqual(size!.text, 'scanout takes XRGB8888 pitches only up to 8192 bytes, 3840 pixels need 15360 (pitch.yaml:5 devices[1].formats.XRGB8888): ask for 2048x1152 instead of 3840x2160');
    assert.ok(size!.plans.every((p) => p.planes.every((pl) => pl.pitch <= 8192)));
  });

  it('two devices that share a format but no layout: a conversion between the layouts they list, never a format neither lists', () => {
    const platform = parsePlatform('heaps:\n  - { name: system, kind: system, size: 4GiB }\ndevices:\n  - { name: gpu, iommu: true, formats: { XRGB8888: { modifiers: [Y_TILED] } } }\n  - { name: scanout, iommu: true, formats: { XRGB8888: { access: read, modifiers: [X_TILED] } } }\n', 'mods.yaml');
    const { result } = ask({ devices: ['gpu', 'scanout'], formats: ['XRGB8888'] }, platform);
    if (result.ok) throw new Error('expected a conflict');
    assert.deepStrictEqual(result.conflict.fixes.map((f) => f.text), ['give scanout its own buffer and copy into it: gpu uses XRGB8888 Y_TILED in system, scanout gets XRGB8888 X_TILED in system; the copy step (GPU, 2D engine or CPU) converts the layout Y_TILED to X_TILED']);
    assert.ok(result.conflict.fixes.every((f) => f.atoms.every((a) => a.changeable)), 'device format lists are facts, never relaxed into "anything"');
  });

  it('a V4L2 camera that finds NV12 chroma itself and a display that wants planes on 4 KiB: the conflict names both rules, and a copy step fixes it', () => {
    const platform = parsePlatform(
      [
        'heaps:',
        '  - { name: system, kind: system, size: 4GiB }',
        'devices:',
        '  - { name: camera, iommu: true, formats: { NV12: { access: write, implicitPlaneOffsets: true } } }',
        '  - { name: display, iommu: true, formats: { NV12: { access: read, offsetAlign: 4096 } } }',
      ].join('\n'),
      'v4l2.yaml',
    );
    const { result } = ask({ devices: ['camera:write', 'display:read'], width: 650, height: 480 }, platform);
    if (result.ok) throw new Error('expected a conflict');
    const core = result.conflict.core.map(atomLabel);
    assert.ok(core.includes('camera.NV12.implicitPlanes') && core.includes('display.NV12.offsetAlign'), core.join(', '));
    assert.match(result.conflict.fixes.find((f) => f.changes.some((c) => c.target === 'copy'))!.text, /^give display its own buffer and copy into it/);
    // At 640x480 the chroma plane starts at 307200 = 75 x 4096: both agree.
    assert.ok(ask({ devices: ['camera:write', 'display:read'], width: 640, height: 480 }, platform).result.ok);
  });

  it('a board with no CMA area is offered the kernel\'s default one, below the display\'s DMA limit; acted on, it allocates, and a pageblock less does not', () => {
    const profile = {
      heaps: [{ name: 'system', kind: 'system', size: 2 * 2 ** 30 }],
      devices: [
        { name: 'camera', iommu: true, formats: { NV12: { access: 'write' } } },
        { name: 'display', iommu: false, dmaBits: 32, formats: { NV12: { access: 'read', pitchAlign: 64 } } },
      ],
    };
    const platform = parsePlatform(JSON.stringify(profile), 'nocma.json');
    const fields: RequestFields = { devices: ['camera:write', 'display:read'], width: 1920, height: 1080, count: 3, formats: ['NV12'] };
    const result = negotiate(platform, makeRequest(platform, fields), { check: allocatesOnEmptyHeaps });
    if (result.ok) throw new Error('expected a conflict');
    const add = result.conflict.fixes[0]!;
    assert.deepStrictEqual(add.changes, [{ target: 'new-heap', heap: { name: 'reserved', kind: 'cma', size: 10 * MiB, limit: 2 ** 32 } }]);
    assert.match(add.text, /^display has no IOMMU and this board has no CMA area: boot with cma=10M@0-0x100000000 to give it the kernel's default one, 10 MiB, below 0x100000000 where display \(32-bit DMA\) reaches \(the buffers take 9404416 bytes: 3 x 3112960\); Linux exports it as the dma-buf heap reserved/);
    assert.deepStrictEqual(result.conflict.hardware, []);
    assert.strictEqual(actOn(profile, fields, add.changes), 'allocates');
    const smaller = [{ target: 'new-heap' as const, heap: { name: 'reserved', kind: 'cma' as const, size: 8 * MiB, limit: 2 ** 32 } }];
    assert.notStrictEqual(actOn(profile, fields, smaller), 'allocates');
    // Where the display reaches matters: the same area anywhere in RAM does not serve it.
    assert.notStrictEqual(actOn(profile, fields, [{ target: 'new-heap', heap: { name: 'reserved', kind: 'cma', size: 10 * MiB } }]), 'allocates');
  });

  it('an unprotected buffer is never told to become protected, nor to grow the secure heap', () => {
    // Only the secure heap is large enough; the buffer is not protected.
    const { result } = ask({ devices: ['camera', 'display'], width: 3840, height: 2160, count: 40 });
    if (result.ok) throw new Error('expected a conflict');
    for (const f of result.conflict.fixes) {
      assert.ok(!f.changes.some((c) => (c.target === 'request' && c.field === 'protected') || (c.target === 'heap' && c.heap === 'secure')), f.text);
    }
  });

  it('CMA pads small buffers to get the alignment a device needs; a carveout cannot', () => {
    const platform = parsePlatform(
      [
        'heaps:',
        '  - { name: carve, kind: carveout, base: 0x80000000, size: 64MiB }',
        '  - { name: cma, kind: cma, base: 0x40000000, size: 64MiB }',
        'devices:',
        '  - { name: scaler, iommu: false, alignment: 256KiB, formats: { R8: {} } }',
      ].join('\n'),
      'align.yaml',
    );
    const { result } = ask({ devices: ['scaler'], formats: ['R8'], width: 64, height: 64 }, platform);
    if (!result.ok) throw new Error('expected a plan');
    // 4 KiB of pixels, but get_order(256 KiB) = 6 gives the 256 KiB alignment (mm/cma.c)
    assert.deepStrictEqual([result.plan.heap.name, result.plan.size, result.plan.alignment], ['cma', 262144, 262144]);
    assert.deepStrictEqual(result.alternatives, []);
  });

  it('an impossible buffer beyond 2^53 bytes is an input error, not a conflict', () => {
    const platform = parsePlatform('heaps:\n  - { name: s, kind: system, size: 1GiB }\ndevices:\n  - { name: d, iommu: true, formats: { XRGB16161616F: {} } }\n');
    assert.throws(() => ask({ devices: ['d'], formats: ['XRGB16161616F'], width: 1 << 20, height: 1 << 20, count: 4096 }, platform), /needs more than 2\^53 bytes/);
  });
});

describe('explaining choices (udalloc explain)', () => {
  it('names the device behind every excluded format and heap, and marks the chosen ones', () => {
    const { request, result } = ask({ devices: ['camera', 'display'], formats: ['NV12', 'XRGB8888'], count: 3 });
    const e = explainChoices(board, request, result);
    assert.deepStrictEqual(e.formats, [
      { format: 'NV12', verdict: 'chosen', reasons: [] },
      { format: 'XRGB8888', verdict: 'excluded', reasons: ['camera does not list XRGB8888'] },
    ]);
    assert.deepStrictEqual(e.layout, { format: 'NV12', modifier: 'LINEAR', size: 3342336, count: 3 });
    assert.deepStrictEqual(e.heaps.map((h) => [h.heap, h.verdict, h.reasons]), [
      ['system', 'excluded', ['display: no IOMMU, heap system not contiguous']],
      ['linux,cma', 'chosen', []],
      ['vpu-carve', 'possible', []],
      ['secure', 'excluded', ['request: secure is a secure heap, for protected buffers only']],
    ]);
  });

  it('gives a verdict per modifier of the format: chosen, possible with the places that rank it lower, excluded with the device that lacks it', () => {
    const platform = parsePlatform(
      [
        'heaps:',
        '  - { name: system, kind: system, size: 4GiB }',
        'devices:',
        '  - { name: gpu, iommu: true, formats: { XRGB8888: { modifiers: [Y_TILED, X_TILED, LINEAR] } } }',
        '  - { name: scanout, iommu: true, formats: { XRGB8888: { access: read, modifiers: [Y_TILED, LINEAR] } } }',
      ].join('\n'),
      'mods.yaml',
    );
    const request = makeRequest(platform, { width: 1920, height: 1080, formats: ['XRGB8888'], devices: ['gpu', 'scanout:read'] });
    const result = negotiate(platform, request);
    if (!result.ok) throw new Error('expected a plan');
    const e = explainChoices(platform, request, result);
    assert.strictEqual(e.modifiersOf, 'XRGB8888');
    assert.deepStrictEqual(e.modifiers, [
      { modifier: 'Y_TILED', verdict: 'chosen', reasons: [] },
      { modifier: 'X_TILED', verdict: 'excluded', reasons: ['scanout does not take XRGB8888 as X_TILED'] },
      { modifier: 'LINEAR', verdict: 'possible', reasons: ['ranks after Y_TILED: places gpu #3, scanout #2 against gpu #1, scanout #1'] },
    ]);
    // Acting on the verdicts: the possible one plans when asked for alone, the excluded one does not.
    const only = (modifier: string) =>
      parsePlatform(['heaps:', '  - { name: system, kind: system, size: 4GiB }', 'devices:', `  - { name: gpu, iommu: true, formats: { XRGB8888: { modifiers: [${modifier}] } } }`, '  - { name: scanout, iommu: true, formats: { XRGB8888: { access: read, modifiers: [Y_TILED, LINEAR] } } }'].join('\n'), 'one.yaml');
    for (const [modifier, plans] of [['LINEAR', true], ['X_TILED', false]] as const) {
      const p = only(modifier);
      assert.strictEqual(negotiate(p, makeRequest(p, { width: 1920, height: 1080, formats: ['XRGB8888'], devices: ['gpu', 'scanout:read'] })).ok, plans, modifier);
    }
  });

  it('on a conflict judges the heaps for the first format every device accepts', () => {
    const { request, result } = ask({ devices: ['camera', 'display'], width: 3840, height: 2160, count: 40 });
    assert.ok(!result.ok);
    const e = explainChoices(board, request, result);
    assert.deepStrictEqual(e.formats, [{ format: 'NV12', verdict: 'excluded', reasons: ['laid out, but no heap qualifies for it'] }]);
    const cma = e.heaps.find((h) => h.heap === 'linux,cma')!;
    assert.deepStrictEqual(cma.reasons, ['heap linux,cma: 40 x 12443648 bytes need 503177216 bytes as the kernel places them (alignment padding included), it has 268435456 (256 MiB)']);
    assert.ok(e.heaps.every((h) => h.verdict === 'excluded'));
  });

  it('reports access, size limits and modifiers as format reasons; no heap verdicts when no format passes', () => {
    const { request, result } = ask({ devices: ['gpu:write', 'display'], formats: ['NV12'], width: 5000, height: 100 });
    const e = explainChoices(board, request, result);
    assert.deepStrictEqual(e.formats[0]!.reasons, ['gpu can only read NV12, the request has it write']);
    assert.strictEqual(e.layout, undefined);
    const wide = ask({ devices: ['display'], formats: ['XRGB8888'], width: 5000, height: 100 });
    assert.deepStrictEqual(explainChoices(board, wide.request, wide.result).formats[0]!.reasons, ['display takes XRGB8888 only up to 4096 pixels wide']);
    const tiled = parsePlatform('heaps:\n  - { name: s, kind: system, size: 1GiB }\ndevices:\n  - { name: a, iommu: true, formats: { NV12: { modifiers: [Y_TILED] } } }\n  - { name: b, iommu: true, formats: { NV12: { modifiers: [LINEAR] } } }\n', 't.yaml');
    const t = ask({ devices: ['a', 'b'] }, tiled);
    assert.deepStrictEqual(explainChoices(tiled, t.request, t.result).formats[0]!.reasons, ['no modifier every device supports (a: Y_TILED; b: LINEAR)']);
    // Sharing a layout udalloc cannot size is not "nothing in common".
    const ccs = parsePlatform('heaps:\n  - { name: s, kind: system, size: 1GiB }\ndevices:\n  - { name: a, iommu: true, formats: { XRGB8888: { modifiers: [Y_TILED_CCS] } } }\n  - { name: b, iommu: true, formats: { XRGB8888: { modifiers: [Y_TILED_CCS, X_TILED] } } }\n', 'ccs.yaml');
    const c = ask({ devices: ['a', 'b'], formats: ['XRGB8888'] }, ccs);
    assert.deepStrictEqual(explainChoices(ccs, c.request, c.result).formats[0]!.reasons, ['every device takes Y_TILED_CCS, but udalloc cannot lay that out (needs an auxiliary compression plane)']);
  });
});
