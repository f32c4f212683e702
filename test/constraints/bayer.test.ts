// V4L2's raw Bayer formats (DRM has none): every order, depth and CSI-2 packing, their fourccs
// (checked against videodev2.h in fourcc-header.test.ts), and the layout V4L2 gives them:
// bytesperline = DIV_ROUND_UP(width x bpp, bpp_div) (drivers/media/v4l2-core/v4l2-common.c
// v4l2_fill_pixfmt() with v4l2_format_info()'s bpp/bpp_div), linear only.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findFormat, FORMATS } from '../../src/constraints/formats.js';
import { parsePlatform } from '../../src/constraints/load.js';
import { negotiate } from '../../src/solver/negotiate.js';
import { makeRequest } from '../../src/constraints/load.js';

/** v4l2_format_info() bpp / bpp_div of each depth (v4l2-common.c): packed 10-bit 5/4, packed 12-bit 3/2. */
const BPP: Record<string, [number, number]> = { '8': [1, 1], '10': [2, 1], '12': [2, 1], '16': [2, 1], '10P': [5, 4], '12P': [3, 2] };

describe('raw Bayer formats', () => {
  it('24 formats: four orders, 8/10/12/16-bit and CSI-2 packed 10/12-bit; found by name, never by a code DRM also uses', () => {
    const bayer = FORMATS.filter((f) => f.bayer);
    assert.strictEqual(bayer.length, 24);
    assert.strictEqual(findFormat('SRGGB10P')?.code, 'pRAA');
    assert.strictEqual(findFormat('V4L2_PIX_FMT_SGRBG12')?.name, 'SGRBG12');
    // 'RG16' is DRM's RGB565 and V4L2's SRGGB16: a code means DRM's.
    assert.strictEqual(findFormat('RG16')?.name, 'RGB565');
    assert.strictEqual(findFormat(0x36314752)?.name, 'RGB565');
  });

  it('a linear buffer: bytesperline as v4l2_fill_pixfmt computes it, at odd widths too', () => {
    const platform = parsePlatform(`name: t\nheaps: [{ name: system, kind: system, size: 1GiB }]\ndevices:\n  - name: csi\n    iommu: true\n    formats: { ${FORMATS.filter((f) => f.bayer).map((f) => `${f.name}: { access: write, modifiers: [LINEAR] }`).join(', ')} }\n`, 't.yaml');
    for (const f of FORMATS.filter((x) => x.bayer)) {
      const [bpp, div] = BPP[/(\d+P?)$/.exec(f.name)![1]!]!;
      for (const width of [640, 641, 642, 643, 1920]) {
        const r = negotiate(platform, makeRequest(platform, { devices: ['csi'], width, height: 480, formats: [f.name] }));
        assert.ok(r.ok, f.name);
        if (!r.ok) continue;
        assert.strictEqual(r.plan.planes[0]!.pitch, Math.ceil((width * bpp) / div), `${f.name} at ${width}`);
        assert.strictEqual(r.plan.modifier.name, 'DRM_FORMAT_MOD_LINEAR');
      }
    }
  });

  it('no tiled or compressed modifier applies: a profile that lists one for Bayer is refused, naming the field', () => {
    for (const m of ['ARM_AFBC_16x16', 'BROADCOM_VC4_T_TILED', 'X_TILED']) {
      assert.throws(
        () => parsePlatform(`name: t\nheaps: [{ name: system, kind: system, size: 1GiB }]\ndevices:\n  - name: isp\n    iommu: true\n    formats: { SRGGB16: { access: read, modifiers: [${m}, LINEAR] } }\n`, 't.yaml'),
        new RegExp(`t\\.yaml:6: devices\\[0\\]\\.formats\\.SRGGB16\\.modifiers\\[0\\] = "[A-Z0-9_]*${m}": modifier ${m} is not defined for SRGGB16`),
      );
    }
  });
});
