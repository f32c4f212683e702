// The shipped board profiles: they load, their discovered parts agree with `udalloc discover` on
// the same real device tree, and typical requests plan (or conflict) as the hardware would.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadPlatform, makeRequest, type RequestFields } from '../../src/constraints/load.js';
import { negotiate } from '../../src/solver/negotiate.js';
import { shortModifierName } from '../../src/constraints/modifiers.js';
import { parseDtb } from '../../src/platform/fdt.js';
import { deriveFromTree } from '../../src/platform/derive.js';
import { dtbPath } from './dtbs.js';
import { parse as parseYaml } from 'yaml';
import { actOn } from '../solver/act-on.js';

const BOARDS = ['raspberry-pi-4', 'rockpro64-rk3399', 'imx8mp-evk', 'x86-laptop-tgl'];
const plan = (board: string, fields: RequestFields) => {
  const platform = loadPlatform(`boards/${board}.yaml`);
  return negotiate(platform, makeRequest(platform, { width: 1920, height: 1080, ...fields }));
};

describe('shipped board profiles', () => {
  it('load, and every device line says where it comes from', () => {
    for (const b of BOARDS) {
      const platform = loadPlatform(`boards/${b}.yaml`);
      assert.ok(platform.devices.length >= 2, b);
      const text = readFileSync(`boards/${b}.yaml`, 'utf8');
      for (const line of text.split('\n').filter((l) => /^\s+- name:|^\s+(iommu|dmaBits|size|limit):/.test(l))) assert.match(line, /#/, `${b}: "${line.trim()}" has no source comment`);
    }
  });

  it('the discovered parts agree with udalloc discover on the real device trees', () => {
    const cases: Array<[string, string, Record<string, string>]> = [
      ['raspberry-pi-4', 'broadcom/bcm2711-rpi-4-b.dtb', { hvs: 'hvs@7e400000' }],
      ['rockpro64-rk3399', 'rockchip/rk3399-rockpro64.dtb', { 'vop-big': 'vop@ff900000', 'vop-lit': 'vop@ff8f0000', hantro: 'video-codec@ff650000', rkvdec: 'video-codec@ff660000' }],
    ];
    for (const [board, dtb, names] of cases) {
      const platform = loadPlatform(`boards/${board}.yaml`);
      const found = deriveFromTree(parseDtb(readFileSync(dtbPath(dtb)), dtb));
      for (const [mine, node] of Object.entries(names)) {
        const d = platform.devices.find((x) => x.name === mine)!;
        const f = found.devices.find((x) => x.name === node)!;
        assert.deepStrictEqual([d.iommu, d.dmaBits ?? null], [f.iommu, f.dmaBits], `${board} ${mine}`);
      }
      for (const h of found.heaps.filter((x) => x.kind === 'cma')) {
        const mine = platform.heaps.find((x) => x.name === h.name)!;
        assert.deepStrictEqual([mine.size, mine.end], [h.size, h.limit ?? Infinity], `${board} ${h.name}`);
      }
    }
  });

  it('Raspberry Pi 4: 1080p triple buffering fits the 64 MiB CMA pool; 4K does not, and the fixes (a bigger pool, RGB565) work when applied', () => {
    const ok = plan('raspberry-pi-4', { formats: ['XRGB8888'], devices: ['v3d', 'hvs'], count: 3 });
    assert.ok(ok.ok && ok.plan.heap.name === 'linux,cma');
    const r = plan('raspberry-pi-4', { width: 3840, height: 2160, formats: ['XRGB8888'], devices: ['v3d', 'hvs'], count: 3 });
    assert.ok(!r.ok);
    assert.ok(r.conflict.core.some((a) => a.device === 'hvs' && a.constraint === 'iommu'));
    const texts = r.conflict.fixes.map((f) => f.text);
    assert.match(texts[0]!, /^accept RGB565 in the request \(both v3d and hvs take it\): --format XRGB8888,RGB565$/);
    // 3 x 33177600 bytes, each CMA-aligned to 1 MiB: two strides of 32 MiB and the last buffer,
    // in whole 2 MiB pageblocks.
    const grow = r.conflict.fixes.find((f) => f.changes.some((c) => c.target === 'heap'))!;
    assert.deepStrictEqual(grow.changes, [{ target: 'heap', heap: 'linux,cma', field: 'size', value: Math.ceil((2 * 32 * 2 ** 20 + 33177600) / 2 ** 21) * 2 ** 21 }]);
    assert.match(grow.text, /cma=96M/);
    // Each fix, applied to the board file and the request and negotiated again, allocates.
    const profile = parseYaml(readFileSync('boards/raspberry-pi-4.yaml', 'utf8')) as { heaps: Record<string, unknown>[] };
    assert.ok(r.conflict.fixes.length >= 2);
    for (const fix of r.conflict.fixes) assert.strictEqual(actOn(profile, { width: 3840, height: 2160, formats: ['XRGB8888'], devices: ['v3d', 'hvs'], count: 3 }, fix.changes), 'allocates', fix.text);
  });

  it('Raspberry Pi 4 pipelines: HEVC decode to display shares SAND128 with the column height in the modifier; ISP to H.264 encoder shares linear NV12 below 1 GiB', () => {
    const decode = plan('raspberry-pi-4', { width: 3840, height: 2160, formats: ['NV12'], devices: ['hevc-dec:write', 'hvs:read'], count: 4 });
    assert.ok(decode.ok);
    assert.deepStrictEqual([shortModifierName(decode.plan.modifier), decode.plan.heap.name], ['BROADCOM_SAND128', 'linux,cma']);
    // 2160 luma + 1080 chroma rows per 128-byte column: DRM_FORMAT_MOD_BROADCOM_SAND128_COL_HEIGHT(3240)
    assert.strictEqual(decode.plan.modifierValue, 0x0700000000000004n | (3240n << 8n));
    const encode = plan('raspberry-pi-4', { formats: ['NV12'], devices: ['isp:write', 'h264-enc:read'], count: 4 });
    assert.ok(encode.ok && encode.plan.heap.name === 'linux,cma' && encode.plan.planes[0]!.pitch === 1920);
    // The encoder stops at 1920 wide: a 4K recording is told so, with the size that works.
    const big = plan('raspberry-pi-4', { width: 3840, height: 2160, formats: ['NV12'], devices: ['isp:write', 'h264-enc:read'] });
    assert.ok(!big.ok);
    assert.match(big.conflict.fixes[0]!.text, /^h264-enc takes NV12 only up to 1920 pixels wide .*: ask for 1920x1080 instead of 3840x2160$/);
    // A camera writing YUYV for an ISP that only writes YUYV: no fix turns the ISP into a second
    // writer (the buffer would have no reader); the conflict says what stands in the way.
    const link = plan('raspberry-pi-4', { formats: ['YUYV'], devices: ['unicam:write', 'isp:read'], count: 4 });
    assert.ok(!link.ok);
    assert.ok(link.conflict.fixes.every((f) => !f.changes.some((c) => c.target === 'request' && c.field === 'devices' && (c.value as string[]).includes('isp:write'))), link.conflict.fixes.map((f) => f.text).join('\n'));
    // What the link carries is raw Bayer (unicam_image_formats[], the ISP's input formats): the fixes say so.
    assert.ok(link.conflict.fixes.some((f) => /^accept S(RGGB|BGGR|GRBG|GBRG)(8|10P|12P) in the request \(both unicam and isp take it\)/.test(f.text)), link.conflict.fixes.map((f) => f.text).join('\n'));
    // The camera -> ISP link as it is: CSI-2 packed 10-bit Bayer, 1920 x 5/4 = 2400 bytes a row (a multiple of 32).
    const bayer = plan('raspberry-pi-4', { formats: ['SRGGB10P'], devices: ['unicam:write', 'isp:read'], count: 4 });
    assert.ok(bayer.ok && bayer.plan.planes[0]!.pitch === 2400 && bayer.plan.heap.name === 'linux,cma');
    // A decoder's output size is the stream's: with the decode role no size fix is offered (the
    // pool and the count are), unless the request says the size is free.
    const sizes = (fields: RequestFields) => {
      const r = plan('raspberry-pi-4', { width: 3840, height: 2160, formats: ['NV12'], count: 6, ...fields });
      assert.ok(!r.ok);
      return r.conflict.fixes.map((f) => f.changes.map((c) => (c.target === 'request' ? c.field : c.target)).join('+'));
    };
    assert.deepStrictEqual(sizes({ devices: ['hevc-dec:write', 'hvs:read'] }), ['heap', 'count', 'width+height']);
    assert.deepStrictEqual(sizes({ devices: ['hevc-dec:decode', 'hvs:read'] }), ['heap', 'count']);
    assert.deepStrictEqual(sizes({ devices: ['hevc-dec:decode', 'hvs:read'], fixedSize: false }), ['heap', 'count', 'width+height']);
    // Unicam writes no NV12 at all: the camera needs the ISP in between.
    const raw = plan('raspberry-pi-4', { formats: ['NV12'], devices: ['unicam:write', 'h264-enc:read'] });
    assert.ok(!raw.ok && raw.conflict.core.some((a) => a.device === 'unicam' && a.constraint === 'formats'));
  });

  it('i.MX8M Plus: the Hantro decoders write linear NV12 below 4 GiB, in CMA', () => {
    const r = plan('imx8mp-evk', { formats: ['NV12'], devices: ['vpu-g1:write', 'gc7000ul:read'], count: 6 });
    assert.ok(r.ok && r.plan.heap.name === 'reserved');
    assert.strictEqual(r.plan.planes[1]!.offset, 1920 * 1088);
  });

  it('RK3399: the big VOP and the Mali GPU share AFBC buffers in the system heap (both map scattered pages)', () => {
    const r = plan('rockpro64-rk3399', { formats: ['XRGB8888'], devices: ['mali', 'vop-big'], count: 3 });
    assert.ok(r.ok);
    assert.deepStrictEqual([r.plan.heap.name, shortModifierName(r.plan.modifier)], ['system', 'ARM_AFBC_16x16_YTR_SPARSE']);
    const lit = plan('rockpro64-rk3399', { formats: ['XRGB8888'], devices: ['mali', 'vop-lit'] });
    assert.ok(lit.ok && shortModifierName(lit.plan.modifier) === 'LINEAR');
  });

  it('i.MX8M Plus: camera to display goes through CMA (no IOMMU); NV12 cannot be scanned out', () => {
    const r = plan('imx8mp-evk', { formats: ['XRGB8888'], devices: ['isi', 'lcdif3'], count: 4 });
    assert.ok(r.ok && r.plan.heap.name === 'reserved');
    const nv12 = plan('imx8mp-evk', { formats: ['NV12'], devices: ['isi', 'lcdif3'] });
    assert.ok(!nv12.ok && nv12.conflict.core.some((a) => a.device === 'lcdif3' && a.constraint === 'formats'));
  });

  it('x86 laptop: UVC frames shared with i915 are linear YUYV in the system heap', () => {
    const r = plan('x86-laptop-tgl', { width: 1280, height: 720, formats: ['NV12', 'YUYV'], devices: ['uvc-camera', 'i915'], cpu: 'read', count: 4 });
    assert.ok(r.ok);
    assert.deepStrictEqual([r.plan.format.name, shortModifierName(r.plan.modifier), r.plan.heap.name, r.plan.planes[0]!.pitch], ['YUYV', 'LINEAR', 'system', 2560]);
  });
});
