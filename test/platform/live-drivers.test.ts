// Live-driver discovery (V4L2 and DRM) parsing driver answers, with scripted drivers standing in for the ioctls
// (the real drivers are asked in the QEMU suite): the V4L2 -> DRM format table, the pitch rule
// read off TRY_FMT, and odd or failing answers turning into notes, never exceptions.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { findFormat } from '../../src/constraints/formats.js';
import type { NativeAddon } from '../../src/kernel/native/addon.js';
import { describeV4l2, fourccName, mapV4l2Format, pitchRuleOf, takenPitchRule } from '../../src/platform/v4l2.js';
import { cardRules, crtcIndices } from '../../src/platform/drm.js';
import type { DrmDescription } from '../../src/kernel/native/addon.js';

const code = (s: string) => s.padEnd(4, ' ').split('').reduce((acc, c, i) => acc | (c.charCodeAt(0) << (8 * i)), 0) >>> 0;
const K: Record<string, number> = {
  V4L2_CAP_VIDEO_CAPTURE: 1, V4L2_CAP_VIDEO_OUTPUT: 2, V4L2_CAP_VIDEO_CAPTURE_MPLANE: 0x1000, V4L2_CAP_VIDEO_OUTPUT_MPLANE: 0x2000,
  V4L2_CAP_VIDEO_M2M: 0x8000, V4L2_CAP_VIDEO_M2M_MPLANE: 0x4000, V4L2_CAP_STREAMING: 0x4000000, V4L2_CAP_META_CAPTURE: 0x800000,
  V4L2_BUF_TYPE_VIDEO_CAPTURE: 1, V4L2_BUF_TYPE_VIDEO_OUTPUT: 2, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE: 9, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE: 10,
  V4L2_MEMORY_MMAP: 1, V4L2_MEMORY_DMABUF: 4, V4L2_BUF_CAP_SUPPORTS_DMABUF: 4, V4L2_BUF_CAP_SUPPORTS_MMAP: 1, V4L2_FMT_FLAG_COMPRESSED: 1, V4L2_FMT_FLAG_EMULATED: 2,
};

/** A scripted driver: formats it lists and a bytesperline rule; any answer can be made to fail. */
function driver(formats: string[], bpl: (w: number, fourcc: string) => number, fail: Partial<Record<'cap' | 'reqbufs' | 'enum' | 'try', string>> = {}): NativeAddon {
  const err = (c: string) => Object.assign(new Error(c), { code: c });
  return {
    v4l2Constants: () => K,
    v4l2QueryCap: () => {
      if (fail.cap) throw err(fail.cap);
      return { driver: 'scripted', card: 'Scripted Camera', busInfo: 'platform:scripted', version: 1, capabilities: 0x84000001, deviceCaps: K['V4L2_CAP_VIDEO_CAPTURE']! | K['V4L2_CAP_STREAMING']! };
    },
    v4l2ReqBufs: () => {
      if (fail.reqbufs) throw err(fail.reqbufs);
      return { count: 0, capabilities: 1 | 4 };
    },
    v4l2EnumFmt: (_fd: number, _t: number, i: number) => {
      if (fail.enum && i === 1) throw err(fail.enum);
      return i < formats.length ? { pixelformat: code(formats[i]!), description: formats[i]!, flags: formats[i] === 'MJPG' ? 1 : 0 } : null;
    },
    v4l2Format: (_fd: number, _t: number, w: number, h: number, pf: number) => {
      if (fail.try) throw err(fail.try);
      const even = w - (w % 2);
      return { width: even, height: h, pixelformat: pf, field: 1, planes: [{ bytesperline: bpl(even, fourccName(pf)), sizeimage: 0 }] };
    },
  } as unknown as NativeAddon;
}

describe('V4L2 formats as DRM formats', () => {
  it('maps by byte order in memory, and lists what has no equivalent with the reason', () => {
    assert.deepStrictEqual(['XR24', 'RGB3', 'BGR3', 'RGBP', 'YUYV', 'NV12', 'NM12', 'YU12', 'GREY'].map((f) => [f, mapV4l2Format(f).format]), [
      ['XR24', 'XRGB8888'], ['RGB3', 'BGR888'], ['BGR3', 'RGB888'], ['RGBP', 'RGB565'], ['YUYV', 'YUYV'], ['NV12', 'NV12'], ['NM12', 'NV12M'], ['YU12', 'YUV420'], ['GREY', 'R8'],
    ]);
    // Multi-planar: V4L2's own formats, a dma-buf per plane.
    assert.deepStrictEqual(['NM12', 'NM21', 'YM12', 'YM21', 'YM24'].map((f) => [mapV4l2Format(f).format, findFormat(mapV4l2Format(f).format!)?.planeBuffers]), [['NV12M', true], ['NV21M', true], ['YUV420M', true], ['YVU420M', true], ['YUV444M', true]]);
    // Every DRM name in the table is one udalloc knows.
    for (const f of ['XR24', 'AR24', 'XB24', 'AB24', 'BX24', 'BA24', 'RGB3', 'BGR3', 'RGBP', 'YUYV', 'UYVY', 'NV12', 'NV21', 'NV16', 'NV61', 'YU12', 'YV12', 'GREY', 'P010']) assert.ok(findFormat(mapV4l2Format(f).format!), f);
    // Raw Bayer: V4L2's own formats, kept (DRM has none); every depth and packing of each order.
    assert.deepStrictEqual(['BA81', 'RG10', 'pRAA', 'pgCC', 'BYR2', 'RG16'].map((f) => mapV4l2Format(f).format), ['SBGGR8', 'SRGGB10', 'SRGGB10P', 'SGRBG12P', 'SBGGR16', 'SRGGB16']);
    assert.match(mapV4l2Format('BA81').why, /raw Bayer/);
    assert.match(mapV4l2Format('MJPG', true).why, /compressed/);
    assert.match(mapV4l2Format('RGB4').why, /deprecated/);
  });

  it('reads the pitch rule off TRY_FMT answers, odd widths included', () => {
    const xrgb = findFormat('XRGB8888')!;
    const exact = [640, 642, 1000].map((w) => ({ asked: w, width: w, bytesperline: w * 4 }));
    assert.strictEqual(pitchRuleOf(xrgb, exact)!.pitchAlign, 8); // 640*4, 642*4 = 2568, 4000: all multiples of 8, none padded
    const padded = [641, 643, 1001].map((w) => ({ asked: w, width: w, bytesperline: Math.ceil((w * 4) / 64) * 64 }));
    assert.strictEqual(pitchRuleOf(xrgb, padded)!.pitchAlign, 64);
    assert.match(pitchRuleOf(xrgb, padded)!.evidence[0]!, /^TRY_FMT 641x480 -> width 641, bytesperline 2624$/);
    // A driver that pads by a fixed amount follows no alignment rule.
    assert.strictEqual(pitchRuleOf(xrgb, [{ asked: 640, width: 640, bytesperline: 2600 }]), undefined);
  });
});

describe('describing a V4L2 node', () => {
  it('a capture node: formats with DRM equivalents and their pitch rule, dma-buf import from REQBUFS', () => {
    const d = describeV4l2('/dev/null', driver(['YUYV', 'XR24', 'MJPG', 'BA81'], (w, f) => Math.ceil((w * (f === 'YUYV' ? 2 : f === 'BA81' ? 1 : 4)) / 32) * 32));
    assert.ok(!('error' in d));
    if ('error' in d) return;
    assert.deepStrictEqual([d.driver, d.direction, d.multiplanar, d.dmabuf], ['scripted', 'capture', false, true]);
    assert.deepStrictEqual(d.formats.map((f) => [f.v4l2, f.mapping.format, f.pitch?.pitchAlign]), [['YUYV', 'YUYV', 32], ['XR24', 'XRGB8888', 32], ['MJPG', undefined, undefined], ['BA81', 'SBGGR8', 32]]);
  });

  it('failing or odd answers become notes or errors naming the ioctl, never exceptions', () => {
    const cap = describeV4l2('/dev/null', driver([], () => 0, { cap: 'ENODEV' }));
    assert.deepStrictEqual(cap, { path: '/dev/null', error: 'VIDIOC_QUERYCAP: ENODEV' });
    const partial = describeV4l2('/dev/null', driver(['YUYV', 'XR24'], (w) => w * 2, { enum: 'EIO', reqbufs: 'EINVAL' }));
    assert.ok(!('error' in partial) && partial.dmabuf === undefined && partial.formats.length === 1);
    if (!('error' in partial)) assert.ok(partial.notes.some((n) => /VIDIOC_ENUM_FMT index 1 failed \(EIO\)/.test(n)) && partial.notes.some((n) => /REQBUFS\(0, DMABUF\) failed \(EINVAL\)/.test(n)));
    assert.deepStrictEqual(describeV4l2('/nonexistent/video0', driver([], () => 0)), { path: '/nonexistent/video0', error: 'cannot open: ENOENT' });
  });

  it('random driver answers never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('YUYV', 'XR24', 'NV12', 'NM12', 'MJPG', 'ZZZZ', '\u0000\u0000\u0000\u0000'), { maxLength: 6 }), fc.integer({ min: -5, max: 100000 }), fc.constantFrom(undefined, 'EIO', 'ENODEV', 'EINVAL'), (formats, pad, fail) => {
        const d = describeV4l2('/dev/null', driver(formats, (w) => w + pad, fail ? { try: fail } : {}));
        assert.ok('error' in d || Array.isArray(d.formats));
      }),
      { numRuns: 200, seed: 3 },
    );
  });
});

describe('a DRM card from its planes', () => {
  const XR24 = 0x34325258;
  const AR24 = 0x34325241;
  const NV12 = 0x3231564e;
  const card = (planes: DrmDescription['planes'], writeback: DrmDescription['writeback'] = []): DrmDescription => ({ driver: 'scripted', prime: 3, addfb2Modifiers: 1, atomic: 1, planes, writeback });

  it('the union of primary and overlay planes (cursors left out), LINEAR first; writeback formats as a writer', () => {
    const r = cardRules('/dev/dri/card0', card(
      [
        { id: 31, type: 1, possibleCrtcs: 1, formats: [XR24, AR24], pairs: [[XR24, '0x0100000000000002'], [XR24, '0x0000000000000000'], [AR24, '0x0000000000000000']] },
        { id: 40, type: 0, possibleCrtcs: 1, formats: [NV12], pairs: null },
        { id: 50, type: 2, possibleCrtcs: 1, formats: [AR24], pairs: [[AR24, '0x0100000000000001']] },
      ],
      [{ id: 60, formats: [XR24] }],
    ));
    assert.deepStrictEqual(r.formats.map((f) => [f.format, f.access, f.modifiers]), [['XRGB8888', 'read', ['LINEAR', 'Y_TILED']], ['ARGB8888', 'read', ['LINEAR']], ['NV12', 'read', ['LINEAR']]]);
    assert.match(r.formats[2]!.source, /plane 40 formats \(no IN_FORMATS: linear\)/);
    assert.deepStrictEqual(r.writeback.map((f) => [f.format, f.access]), [['XRGB8888', 'write']]);
  });

  it('unknown formats and modifiers are named in a note, a card without PRIME is said to be one', () => {
    const r = cardRules('/dev/dri/card1', { ...card([{ id: 1, type: 1, possibleCrtcs: 1, formats: [], pairs: [[0x12345678, '0x0000000000000000'], [XR24, '0x0f00000000000007']] }]), prime: 0 });
    assert.deepStrictEqual(r.formats, []);
    assert.ok(r.notes.some((n) => /formats udalloc does not know, left out: 0x12345678/.test(n)));
    assert.ok(r.notes.some((n) => /modifiers udalloc does not know, left out: 0x0f00000000000007/.test(n)));
    assert.ok(r.notes.some((n) => /no DRM_CAP_PRIME/.test(n)));
  });

  it('random plane answers never throw', () => {
    const pair = fc.tuple(fc.constantFrom(XR24, AR24, NV12, 0, 0xffffffff), fc.constantFrom('0x0000000000000000', '0x00ffffffffffffff', '0xffffffffffffffff', 'junk'));
    const plane = fc.record({ id: fc.nat(), type: fc.integer({ min: -1, max: 5 }), possibleCrtcs: fc.nat(), formats: fc.array(fc.constantFrom(XR24, 7)), pairs: fc.option(fc.array(pair, { maxLength: 5 }), { nil: null }) });
    fc.assert(fc.property(fc.array(plane, { maxLength: 4 }), (planes) => void cardRules('/dev/dri/card0', card(planes as DrmDescription['planes']))), { numRuns: 200, seed: 5 });
  });
});

describe('a driver with fixed frame sizes', () => {
  it('its pitch rule comes from the longer bytesperlines it keeps', () => {
    const answers = [640, 641].map((w) => ({ asked: w, width: 640, bytesperline: 2560 }));
    assert.strictEqual(takenPitchRule(2560, [2561, 2562, 2564], answers, 640).pitchAlign, 1);
    assert.strictEqual(takenPitchRule(2560, [2576, 2592], answers, 640).pitchAlign, 16);
    assert.match(takenPitchRule(2560, [], answers, 640).evidence.at(-1)!, /kept no longer bytesperline than 2560/);
  });
});

describe('plane to CRTC masks', () => {
  it('lists the CRTC indices a possible_crtcs mask names', () => {
    assert.deepStrictEqual([crtcIndices(0), crtcIndices(1), crtcIndices(0b1010), crtcIndices(0x80000000)], [[], [0], [1, 3], [31]]);
  });
});
