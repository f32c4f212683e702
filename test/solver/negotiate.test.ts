// Negotiation on the example board and small hand-made platforms: plans, conflicts and fixes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertMatches } from '../helpers.js';
import { loadPlatform, makeRequest, parsePlatform, type RequestFields } from '../../src/constraints/load.js';
import { atomLabel } from '../../src/solver/atoms.js';
import { negotiate } from '../../src/solver/negotiate.js';
import { violations } from '../../src/solver/verify.js';
import { explainChoices } from '../../src/solver/why.js';

const board = loadPlatform('boards/example.yaml');
const ask = (fields: RequestFields, platform = board) => {
  const request = makeRequest(platform, { width: 1920, height: 1080, formats: ['NV12'], ...fields });
  return { request, result: negotiate(platform, request) };
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

  it('is deterministic and memoised', () => {
    const a = ask({ devices: ['camera', 'display'] });
    assert.strictEqual(negotiate(board, a.request), a.result);
    const b = ask({ devices: ['camera', 'display'] }); // equal request, new object
    assert.strictEqual(b.result, a.result);
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
    assert.match(result.conflict.fixes[0]!, /^gpu can only read NV12 but the request has it writing the buffer: if gpu only reads it, say gpu:read/);
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
    assert.match(result.conflict.fixes[0]!, /^gpu cannot write NV12 as Y_TILED \(Y_TILED: read\), which the others need: if gpu only reads it, say gpu:read; otherwise add a copy step for gpu$/);
    const e = explainChoices(pc, makeRequest(pc, { width: 1920, height: 1080, formats: ['NV12'], devices: ['tiler', 'gpu:write'] }), result);
    assert.deepStrictEqual(e.formats[0]!.reasons, ['no modifier every device supports (tiler: Y_TILED; gpu: Y_TILED (read only), LINEAR)']);
  });
});

describe('conflicts', () => {
  it('no shared format: the request is the cheapest change, with the format to add', () => {
    const { result } = ask({ devices: ['camera', 'display'], formats: ['XRGB8888'] });
    if (result.ok) throw new Error('expected a conflict');
    assert.deepStrictEqual(result.conflict.atoms.map(atomLabel), ['request.formats']);
    assert.deepStrictEqual(result.conflict.core.map(atomLabel).sort(), ['camera.formats', 'request.formats']);
    assert.strictEqual(result.conflict.fixes[0], 'accept NV12 in the request: every device can share it');
  });

  it('a pool too small: grow CMA by the exact missing bytes', () => {
    const { result } = ask({ devices: ['camera', 'display'], width: 3840, height: 2160, count: 40 });
    if (result.ok) throw new Error('expected a conflict');
    assert.deepStrictEqual(result.conflict.atoms.map(atomLabel), ['heap linux,cma capacity']);
    // 3840x2160 NV12, pitch 3840 (256-aligned), 2160 rows (16-aligned): 12441600 -> 12443648 bytes per buffer
    const need = 40 * 12443648;
    assert.strictEqual(result.conflict.fixes[0], `linux,cma needs 218.69 MiB more (${need} bytes for 40 x 12443648, it has ${256 * 2 ** 20}), or ask for 21 buffers instead of 40`);
    assert.strictEqual(need - 256 * 2 ** 20, 229310464); // 218.69 MiB
  });

  it('a DMA limit below every contiguous pool names the device and its source', () => {
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
    assert.strictEqual((result.conflict.atoms).length, 1);
    assertMatches(result.conflict.atoms[0], { device: 'display', constraint: 'dmaBits', value: 32, source: 'high.yaml:5 devices[0].dmaBits' });
    assert.match(result.conflict.fixes[0] ?? "", /^display can address only below 0x100000000 \(32-bit DMA\), but cma-high ends at 0x110000000/);
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
    assert.deepStrictEqual(explainChoices(board, wide.request, wide.result).formats[0]!.reasons, ['display handles XRGB8888 only up to 4096 pixels wide']);
    const tiled = parsePlatform('heaps:\n  - { name: s, kind: system, size: 1GiB }\ndevices:\n  - { name: a, iommu: true, formats: { NV12: { modifiers: [Y_TILED] } } }\n  - { name: b, iommu: true, formats: { NV12: { modifiers: [LINEAR] } } }\n', 't.yaml');
    const t = ask({ devices: ['a', 'b'] }, tiled);
    assert.deepStrictEqual(explainChoices(tiled, t.request, t.result).formats[0]!.reasons, ['no modifier every device supports (a: Y_TILED; b: LINEAR)']);
  });
});
