// Layout arithmetic against numbers computed by hand.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertMatches } from '../helpers.js';
import { findFormat, FORMATS, rowBytesOf } from '../../src/constraints/formats.js';
import { findModifier, MODIFIERS, modifierAppliesTo } from '../../src/constraints/modifiers.js';
import { alignUp } from '../../src/util/int.js';
import { computeLayout } from '../../src/solver/layout.js';

const f = (n: string) => findFormat(n)!;
const m = (n: string) => findModifier(n)!;
const rules = (pitchAlign = 1, heightAlign = 1, offsetAlign = 1, sizeAlign = 1) => ({ pitchAlign, heightAlign, offsetAlign, sizeAlign });

describe('computeLayout', () => {
  it('NV12 1920x1080, pitch lcm(64,256)=256, height 16: 2048 x 1088 luma, 2048 x 544 chroma', () => {
    const l = computeLayout(f('NV12'), m('LINEAR'), 1920, 1080, rules(256, 16))!;
    assert.deepStrictEqual(l.planes, [
      { offset: 0, pitch: 2048, rows: 1088, size: 2048 * 1088 },
      { offset: 2228224, pitch: 2048, rows: 544, size: 2048 * 544 },
    ]);
    assert.strictEqual(l.used, 3342336);
    assert.strictEqual(l.size, 3342336); // already a multiple of 4096 (816 pages)
  });

  it('NV12 1920x1080 with pitch 64 keeps 1920 and rounds the total to the page', () => {
    const l = computeLayout(f('NV12'), m('LINEAR'), 1920, 1080, rules(64))!;
    assert.deepStrictEqual(l.planes.map((p) => [p.offset, p.pitch, p.rows]), [[0, 1920], [2073600, 1920]].map(([o, p], i) => [o, p, i === 0 ? 1080 : 540]));
    assert.strictEqual(l.used, 3110400);
    assert.strictEqual(l.size, 3112960); // 760 pages (3110400 / 4096 = 759.4)
  });

  it('YUV420 odd size rounds to whole chroma samples and aligns plane offsets', () => {
    const l = computeLayout(f('YUV420'), m('LINEAR'), 101, 51, rules(16, 1, 64))!;
    // width 102 (even), luma pitch align(102,16)=112, rows 52; chroma width 51 -> pitch 64, rows 26
    assert.deepStrictEqual(l.planes, [
      { offset: 0, pitch: 112, rows: 52, size: 5824 },
      { offset: 5824, pitch: 64, rows: 26, size: 1664 },
      { offset: 7488, pitch: 64, rows: 26, size: 1664 },
    ]);
    assert.strictEqual(l.size, 12288);
  });

  it('XRGB8888 Y-tiled: pitch to 128 B tiles, rows to 32', () => {
    const l = computeLayout(f('XRGB8888'), m('Y_TILED'), 1366, 768, rules(64))!;
    assert.deepStrictEqual(l.planes[0], { offset: 0, pitch: 5504, rows: 768, size: 5504 * 768 }); // 1366*4=5464 -> 5504
    const x = computeLayout(f('XRGB8888'), m('X_TILED'), 1366, 770, rules())!;
    assertMatches(x.planes[0], { pitch: 5632, rows: 776 }); // 512 B x 8 rows tiles
  });

  it('AFBC 16x16 XRGB8888 1920x1080 matches drm_gem_afbc_min_size()', () => {
    const l = computeLayout(f('XRGB8888'), m('AFBC_16x16'), 1920, 1080, rules())!;
    // 120 x 68 = 8160 superblocks: header 8160*16 = 130560 (64-aligned), payload 8160 * 1024
    assert.strictEqual(l.used, 130560 + 8160 * 1024);
    assert.strictEqual(l.planes[0]!.pitch, 7680);
  });

  it('sizeAlign that is not a power of two rounds to lcm(page, sizeAlign)', () => {
    const l = computeLayout(f('R8'), m('LINEAR'), 100, 100, rules(1, 1, 1, 3 * 4096))!;
    assert.strictEqual(l.size, 12288);
  });

  it('opaque modifiers have no layout', () => {
    assert.strictEqual(computeLayout(f('NV12'), m('Y_TILED_CCS'), 1920, 1080, rules()), undefined);
  });

  it('SAND128 NV12 1920x1080 as the Pi HEVC decoder writes it and vc4 reads it: 15 columns of 1620 rows, chroma 1080 rows in', () => {
    // hevc_d_video.c: width aligned to 128, height to 8, bytesperline (column height) = height * 3 / 2,
    // sizeimage = column height * aligned width; chroma at height * 128 (hevc_d_h265.c).
    const l = computeLayout(f('NV12'), m('SAND128'), 1920, 1080, rules(1, 8))!;
    assert.deepStrictEqual(l.planes.map((p) => [p.offset, p.pitch, p.rows]), [[0, 1920, 1080], [1080 * 128, 1920, 540]]);
    assert.strictEqual(l.used, 1620 * 1920);
    // DRM_FORMAT_MOD_BROADCOM_SAND128_COL_HEIGHT(1620) = fourcc_mod_broadcom_code(4, 1620)
    assert.strictEqual(l.modifierValue, (0x07n << 56n) | (1620n << 8n) | 4n);
    // An odd size: width to whole columns, height to the decoder's 8 rows.
    const odd = computeLayout(f('NV12'), m('SAND128'), 1000, 701, rules(1, 8))!;
    assert.deepStrictEqual(odd.planes.map((p) => [p.offset, p.pitch, p.rows]), [[0, 1024, 704], [704 * 128, 1024, 352]]);
    assert.strictEqual(odd.used, (704 + 352) * 1024);
  });

  it('sizes beyond 2^53 throw instead of rounding', () => {
    assert.throws(() => computeLayout(f('XRGB16161616F'), m('LINEAR'), 1 << 20, 1 << 20, rules(2 ** 40)), /2\^53/);
  });
});

describe('implicit plane offsets (V4L2 single-planar formats)', () => {
  it('NV12: chroma right after luma, same pitch; an offset rule that would move it leaves no layout', () => {
    const l = computeLayout(f('NV12'), m('LINEAR'), 1920, 1080, { ...rules(256, 16), implicitPlanes: true })!;
    assert.deepStrictEqual(l.planes.map((p) => [p.offset, p.pitch, p.rows]), [[0, 2048, 1088], [2048 * 1088, 2048, 544]]);
    // 650x480: the chroma plane starts at 312000, not a multiple of 4096.
    assert.strictEqual(computeLayout(f('NV12'), m('LINEAR'), 650, 480, { ...rules(1, 1, 4096), implicitPlanes: true }), undefined);
    assert.ok(computeLayout(f('NV12'), m('LINEAR'), 650, 480, rules(1, 1, 4096)), 'a device that takes any offset gets a layout');
  });

  it('YUV420: the chroma pitches are half the luma pitch, so the luma pitch is aligned twice as much', () => {
    const l = computeLayout(f('YUV420'), m('LINEAR'), 1000, 480, { ...rules(64), implicitPlanes: true })!;
    assert.deepStrictEqual(l.planes.map((p) => [p.offset, p.pitch]), [[0, 1024], [1024 * 480, 512], [1024 * 480 + 512 * 240, 512]]);
    assert.ok(l.planes.every((p) => p.pitch % 64 === 0));
    // A tiled layout is not one such a device can find its planes in.
    assert.strictEqual(computeLayout(f('NV12'), m('Y_TILED'), 640, 480, { ...rules(), implicitPlanes: true }), undefined);
  });
});

describe('the least size of a layout (what conflict explanation prunes formats by, relax.ts)', () => {
  it('no layout of any format, modifier, size or rule set is smaller than its luma plane', () => {
    let checked = 0;
    const rulesList = [
      { pitchAlign: 1, heightAlign: 1, offsetAlign: 1, sizeAlign: 1 },
      { pitchAlign: 64, heightAlign: 16, offsetAlign: 4096, sizeAlign: 1 },
      { pitchAlign: 256, heightAlign: 2, offsetAlign: 1, sizeAlign: 8192, implicitPlanes: true },
    ];
    for (const format of FORMATS) {
      for (const modifier of MODIFIERS) {
        if (!modifierAppliesTo(modifier, format)) continue;
        for (const [width, height] of [[1, 1], [17, 9], [1920, 1080], [4095, 2161]] as const) {
          for (const rules of rulesList) {
            const layout = computeLayout(format, modifier, width, height, rules);
            if (!layout) continue;
            const luma = rowBytesOf(format.planes[0]!, alignUp(width, format.hsub)) * alignUp(height, format.vsub);
            assert.ok(layout.size >= luma, `${format.name} ${modifier.name} ${width}x${height}: ${layout.size} < ${luma}`);
            checked++;
          }
        }
      }
    }
    assert.ok(checked > 2000, `${checked} layouts checked`);
  });
});
