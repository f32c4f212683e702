// A live V4L2 device (/dev/videoN) described from its driver's own answers: VIDIOC_QUERYCAP
// (driver, card, bus, capture or output, single or multi-planar), VIDIOC_ENUM_FMT (every pixel
// format, mapped to its DRM fourcc where one exists), VIDIOC_REQBUFS with count 0 (whether the
// queue imports dma-bufs), and VIDIOC_TRY_FMT at a few widths, odd ones included (the bytesperline
// rule the driver really applies). Nothing is configured: TRY_FMT changes no state, and REQBUFS 0
// frees nothing that was not ours.

import { closeSync, constants, openSync } from 'node:fs';
import { findFormat, FORMATS, rowBytesOf, type FormatInfo } from '../constraints/formats.js';
import type { NativeAddon } from '../kernel/native/addon.js';

/** A V4L2 fourcc as its four characters ("YUYV", "NM12"); big-endian variants (bit 31, v4l2_fourcc_be) end in "-BE". */
export function fourccName(code: number): string {
  const be = (code & 0x80000000) !== 0;
  const text = String.fromCharCode(code & 0xff, (code >>> 8) & 0xff, (code >>> 16) & 0xff, (code >>> 24) & 0x7f).replace(/\s+$/, '');
  return be ? `${text}-BE` : text;
}

export interface V4l2FormatMapping {
  /**
   * The udalloc format with the same memory layout (DRM's, or V4L2's own: raw Bayer, and the
   * multi-planar formats that take a dma-buf per plane), or undefined when there is none.
   */
  readonly format: string | undefined;
  readonly why: string;
}

/**
 * V4L2 pixel formats (include/uapi/linux/videodev2.h, Documentation/userspace-api/media/v4l/
 * pixfmt-*.rst) against DRM fourccs (include/uapi/drm/drm_fourcc.h), by byte order in memory.
 * V4L2 names RGB by memory order, DRM by a little-endian word: V4L2 RGB24 (R, G, B bytes) is
 * DRM_FORMAT_BGR888, V4L2 XBGR32 ('XR24': B, G, R, X bytes) is DRM_FORMAT_XRGB8888.
 */
const V4L2_TO_DRM: Readonly<Record<string, V4l2FormatMapping>> = {
  YUYV: { format: 'YUYV', why: 'same layout and fourcc' },
  UYVY: { format: 'UYVY', why: 'same layout and fourcc' },
  YVYU: { format: 'YVYU', why: 'same layout and fourcc' },
  VYUY: { format: 'VYUY', why: 'same layout and fourcc' },
  NV12: { format: 'NV12', why: 'chroma follows luma in the same buffer, at bytesperline x height' },
  NV21: { format: 'NV21', why: 'chroma follows luma in the same buffer, at bytesperline x height' },
  NV16: { format: 'NV16', why: 'chroma follows luma in the same buffer' },
  NV61: { format: 'NV61', why: 'chroma follows luma in the same buffer' },
  YU12: { format: 'YUV420', why: 'V4L2_PIX_FMT_YUV420: three planes in one buffer' },
  YV12: { format: 'YVU420', why: 'V4L2_PIX_FMT_YVU420: three planes in one buffer' },
  '422P': { format: 'YUV422', why: 'V4L2_PIX_FMT_YUV422P' },
  RGBP: { format: 'RGB565', why: 'V4L2_PIX_FMT_RGB565 (little endian) is DRM_FORMAT_RGB565' },
  RGB3: { format: 'BGR888', why: 'V4L2_PIX_FMT_RGB24 (R, G, B bytes) is DRM_FORMAT_BGR888' },
  BGR3: { format: 'RGB888', why: 'V4L2_PIX_FMT_BGR24 (B, G, R bytes) is DRM_FORMAT_RGB888' },
  XR24: { format: 'XRGB8888', why: 'V4L2_PIX_FMT_XBGR32 (B, G, R, X bytes) is DRM_FORMAT_XRGB8888' },
  AR24: { format: 'ARGB8888', why: 'V4L2_PIX_FMT_ABGR32 (B, G, R, A bytes) is DRM_FORMAT_ARGB8888' },
  XB24: { format: 'XBGR8888', why: 'V4L2_PIX_FMT_RGBX32 (R, G, B, X bytes) is DRM_FORMAT_XBGR8888' },
  AB24: { format: 'ABGR8888', why: 'V4L2_PIX_FMT_RGBA32 (R, G, B, A bytes) is DRM_FORMAT_ABGR8888' },
  BX24: { format: 'BGRX8888', why: 'V4L2_PIX_FMT_XRGB32 (X, R, G, B bytes) is DRM_FORMAT_BGRX8888' },
  BA24: { format: 'BGRA8888', why: 'V4L2_PIX_FMT_ARGB32 (A, R, G, B bytes) is DRM_FORMAT_BGRA8888' },
  XR12: { format: 'XRGB4444', why: 'V4L2_PIX_FMT_XRGB444 is DRM_FORMAT_XRGB4444 (same little-endian word)' },
  AR12: { format: 'ARGB4444', why: 'V4L2_PIX_FMT_ARGB444 is DRM_FORMAT_ARGB4444' },
  XR15: { format: 'XRGB1555', why: 'V4L2_PIX_FMT_XRGB555 is DRM_FORMAT_XRGB1555' },
  AR15: { format: 'ARGB1555', why: 'V4L2_PIX_FMT_ARGB555 is DRM_FORMAT_ARGB1555' },
  NV24: { format: 'NV24', why: 'full-resolution chroma after luma, same fourcc' },
  NV42: { format: 'NV42', why: 'full-resolution chroma after luma, same fourcc' },
  VUYA: { format: 'AYUV', why: 'V4L2_PIX_FMT_VUYA32 (V, U, Y, A bytes) is DRM_FORMAT_AYUV' },
  VUYX: { format: 'XYUV8888', why: 'V4L2_PIX_FMT_VUYX32 (V, U, Y, X bytes) is DRM_FORMAT_XYUV8888' },
  GREY: { format: 'R8', why: 'V4L2_PIX_FMT_GREY, one byte per pixel, is DRM_FORMAT_R8' },
  'Y16 ': { format: 'R16', why: 'V4L2_PIX_FMT_Y16 is DRM_FORMAT_R16' },
  Y16: { format: 'R16', why: 'V4L2_PIX_FMT_Y16 is DRM_FORMAT_R16' },
  P010: { format: 'P010', why: 'same layout and fourcc' },
  // Raw Bayer: DRM has no fourcc, udalloc keeps V4L2's (formats.ts, pixfmt-bayer.rst).
  ...Object.fromEntries(FORMATS.filter((f) => f.bayer).map((f) => [f.code, { format: f.name, why: `V4L2_PIX_FMT_${f.name}: raw Bayer, in V4L2's own layout (DRM has no Bayer formats)` }])),
  // Multi-planar (pixfmt-yuv-planar.rst, "non-contiguous planes"): a dma-buf per plane.
  ...Object.fromEntries(FORMATS.filter((f) => f.planeBuffers).map((f) => [f.code, { format: f.name, why: `V4L2_PIX_FMT_${f.name}: the planes of ${f.name.slice(0, -1)}, a dma-buf each` }])),
};

/** What DRM has no equivalent for, and why (listed, never dropped silently). */
function noEquivalent(v4l2: string, compressed: boolean): string {
  if (compressed) return 'compressed (a bitstream, not pixels)';
  if (v4l2 === 'RGB4' || v4l2 === 'BGR4') return 'deprecated 32-bit RGB whose fourth byte may be alpha or padding: no single DRM format';
  return 'no DRM format udalloc knows with this layout';
}

export function mapV4l2Format(v4l2: string, compressed = false): V4l2FormatMapping {
  return V4L2_TO_DRM[v4l2] ?? { format: undefined, why: noEquivalent(v4l2, compressed) };
}

export interface PitchRule {
  /** bytesperline = align(width x bytes per pixel, pitchAlign) at every width tried. */
  readonly pitchAlign: number;
  /** The TRY_FMT answers it rests on: "641x480 -> width 641, bytesperline 2564". */
  readonly evidence: readonly string[];
}

export interface V4l2Format {
  readonly v4l2: string;
  readonly description: string;
  readonly compressed: boolean;
  readonly mapping: V4l2FormatMapping;
  /** The driver's pitch rule for formats udalloc can lay out (mapped to DRM, one buffer). */
  readonly pitch: PitchRule | undefined;
  readonly source: string;
}

export interface V4l2Device {
  readonly path: string;
  readonly driver: string;
  readonly card: string;
  readonly busInfo: string;
  /** Capture devices write buffers, output devices read them; memory-to-memory do both. */
  readonly direction: 'capture' | 'output' | 'm2m';
  readonly multiplanar: boolean;
  readonly streaming: boolean;
  /** Whether the queue imports dma-bufs (V4L2_BUF_CAP_SUPPORTS_DMABUF from REQBUFS count 0), or undefined when it could not be asked. */
  readonly dmabuf: boolean | undefined;
  readonly formats: readonly V4l2Format[];
  readonly notes: readonly string[];
}

const WIDTHS = [640, 641, 642, 643, 1000, 1001];
const HEIGHT = 480;

/**
 * The largest power of two A with bytesperline = align(width x cpp, A) at every width the driver
 * took (odd widths among them keep an exact driver from looking padded); undefined when none fits.
 */
export function pitchRuleOf(format: FormatInfo, answers: ReadonlyArray<{ asked: number; width: number; bytesperline: number }>): PitchRule | undefined {
  const cpp = format.planes[0]!.cpp;
  const ok = (a: number) => answers.every((x) => x.bytesperline === Math.ceil(rowBytesOf(format.planes[0]!, x.width) / a) * a);
  if (answers.length === 0) return undefined;
  let found: number | undefined;
  for (let a = 1; a <= 4096; a *= 2) if (ok(a)) found = a;
  return found === undefined ? undefined : { pitchAlign: found, evidence: answers.map((x) => `TRY_FMT ${x.asked}x${HEIGHT} -> width ${x.width}, bytesperline ${x.bytesperline}`) };
}

/**
 * For a driver with fixed frame sizes: the pitch rule from the longer bytesperlines it kept as
 * asked (the largest power of two dividing its own and every one it took); its own alone when it
 * took none (it then sets the pitch itself).
 */
export function takenPitchRule(own: number, taken: readonly number[], answers: ReadonlyArray<{ asked: number; width: number; bytesperline: number }>, width: number): PitchRule {
  let align = 1;
  while (align < 4096 && [own, ...taken].every((b) => b % (align * 2) === 0)) align *= 2;
  const evidence = [
    ...answers.map((x) => `TRY_FMT ${x.asked}x${HEIGHT} -> width ${x.width}, bytesperline ${x.bytesperline}`),
    taken.length > 0 ? `TRY_FMT ${width}x${HEIGHT} kept the bytesperline asked: ${taken.join(', ')}` : `TRY_FMT ${width}x${HEIGHT} kept no longer bytesperline than ${own}`,
  ];
  return { pitchAlign: align, evidence };
}

/**
 * Describes one /dev/video node through its ioctls. Never throws for what a device says or does
 * not say: a node that vanishes (ENODEV), refuses us (EACCES) or answers oddly gives a note.
 */
export function describeV4l2(path: string, addon: NativeAddon): V4l2Device | { readonly path: string; readonly error: string } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  } catch (err) {
    return { path, error: `cannot open: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  try {
    const k = addon.v4l2Constants();
    let cap;
    try {
      cap = addon.v4l2QueryCap(fd);
    } catch (err) {
      return { path, error: `VIDIOC_QUERYCAP: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
    }
    const has = (bit: number) => (cap.deviceCaps & bit) !== 0;
    const m2m = has(k['V4L2_CAP_VIDEO_M2M']!) || has(k['V4L2_CAP_VIDEO_M2M_MPLANE']!);
    const captureMp = has(k['V4L2_CAP_VIDEO_CAPTURE_MPLANE']!) || has(k['V4L2_CAP_VIDEO_M2M_MPLANE']!);
    const capture = captureMp || has(k['V4L2_CAP_VIDEO_CAPTURE']!) || has(k['V4L2_CAP_VIDEO_M2M']!);
    const outputMp = has(k['V4L2_CAP_VIDEO_OUTPUT_MPLANE']!);
    const output = outputMp || has(k['V4L2_CAP_VIDEO_OUTPUT']!);
    const notes: string[] = [];
    if (!capture && !output) return { path, error: `${cap.driver}: not a video capture or output node (capabilities 0x${cap.deviceCaps.toString(16)})` };
    const multiplanar = capture ? captureMp : outputMp;
    const type = capture
      ? k[multiplanar ? 'V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE' : 'V4L2_BUF_TYPE_VIDEO_CAPTURE']!
      : k[multiplanar ? 'V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE' : 'V4L2_BUF_TYPE_VIDEO_OUTPUT']!;
    const where = `${path} (${cap.driver})`;

    let dmabuf: boolean | undefined;
    try {
      const req = addon.v4l2ReqBufs(fd, type, k['V4L2_MEMORY_DMABUF']!, 0);
      dmabuf = (req.capabilities & k['V4L2_BUF_CAP_SUPPORTS_DMABUF']!) !== 0;
    } catch (err) {
      notes.push(`${where}: VIDIOC_REQBUFS(0, DMABUF) failed (${(err as NodeJS.ErrnoException).code ?? String(err)}): dma-buf import unknown`);
    }

    const formats: V4l2Format[] = [];
    for (let index = 0; index < 256; index++) {
      let desc;
      try {
        desc = addon.v4l2EnumFmt(fd, type, index);
      } catch (err) {
        notes.push(`${where}: VIDIOC_ENUM_FMT index ${index} failed (${(err as NodeJS.ErrnoException).code ?? String(err)}); stopped there`);
        break;
      }
      if (desc === null) break;
      const v4l2 = fourccName(desc.pixelformat);
      const compressed = (desc.flags & k['V4L2_FMT_FLAG_COMPRESSED']!) !== 0;
      const mapping = mapV4l2Format(v4l2, compressed);
      const drm = mapping.format !== undefined ? findFormat(mapping.format) : undefined;
      let pitch: PitchRule | undefined;
      if (drm) {
        const answers: Array<{ asked: number; width: number; bytesperline: number }> = [];
        for (const w of WIDTHS) {
          try {
            const f = addon.v4l2Format(fd, type, w, HEIGHT, desc.pixelformat, 0, false);
            if (f.pixelformat === desc.pixelformat && f.planes[0]) answers.push({ asked: w, width: f.width, bytesperline: f.planes[0].bytesperline });
          } catch (err) {
            notes.push(`${where}: VIDIOC_TRY_FMT ${v4l2} ${w}x${HEIGHT} failed (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
          }
        }
        // A driver that snaps to fixed frame sizes (a webcam) answers every width alike; whether it
        // takes a longer bytesperline of ours is then what tells its rule: ask for a few.
        const widths = new Set(answers.map((a) => a.width));
        if (answers.length > 0 && widths.size === 1) {
          const { width, bytesperline } = answers[0]!;
          const taken: number[] = [];
          for (const extra of [1, 2, 4, 8, 16, 32, 64]) {
            try {
              const f = addon.v4l2Format(fd, type, width, HEIGHT, desc.pixelformat, bytesperline + extra, false);
              if (f.planes[0]?.bytesperline === bytesperline + extra) taken.push(bytesperline + extra);
            } catch {
              // a refusal is an answer too: that pitch is not taken
            }
          }
          pitch = takenPitchRule(bytesperline, taken, answers, width);
        } else pitch = pitchRuleOf(drm, answers);
        if (!pitch && answers.length > 0) notes.push(`${where}: ${v4l2}: bytesperline follows no alignment rule (${answers.map((a) => `${a.width}->${a.bytesperline}`).join(', ')}); left out of the profile`);
      }
      formats.push({ v4l2, description: desc.description, compressed, mapping, pitch, source: `${where} VIDIOC_ENUM_FMT index ${index}` });
    }
    return { path, driver: cap.driver, card: cap.card, busInfo: cap.busInfo, direction: m2m ? 'm2m' : capture ? 'capture' : 'output', multiplanar, streaming: has(k['V4L2_CAP_STREAMING']!), dmabuf, formats, notes };
  } finally {
    closeSync(fd);
  }
}
