// DRM pixel formats, named and numbered as include/uapi/drm/drm_fourcc.h names them.
// Per-plane geometry follows drivers/gpu/drm/drm_fourcc.c (drm_format_info): cpp is bytes per
// pixel of that plane, hsub/vsub the chroma subsampling that applies to planes 1 and 2.
// The fourcc values are checked against the system's drm_fourcc.h by test/constraints/fourcc-header.test.ts.

export interface PlaneInfo {
  /** Bytes per pixel in this plane (per chroma sample for subsampled planes); a packed plane's, rounded up. */
  readonly cpp: number;
  /**
   * Bits per pixel: cpp x 8, or a packed plane's own (CSI-2 10-bit: 10). Rows are sized from it
   * (rowBytesOf); kept an integer, like cpp, so that every plane object has the same field kinds.
   */
  readonly bits: number;
}

export interface FormatInfo {
  readonly name: string;
  /** The 4 ASCII characters of fourcc_code(a, b, c, d). */
  readonly code: string;
  /** fourcc_code(): little-endian packing of the 4 characters. */
  readonly fourcc: number;
  readonly planes: readonly PlaneInfo[];
  /** Horizontal and vertical chroma subsampling (1 for RGB and 4:4:4). */
  readonly hsub: number;
  readonly vsub: number;
  readonly yuv: boolean;
  /** Bits of storage per pixel summed over planes, for display. */
  readonly bitsPerPixel: number;
  /**
   * A V4L2 raw Bayer format: DRM has no fourcc for Bayer, so `code`/`fourcc` are videodev2.h's
   * (V4L2_PIX_FMT_*), in V4L2's own namespace (V4L2's 'RG16' is SRGGB16, DRM's is RGB565): found by
   * name, never by code. Linear only. A packed format's plane has 10 or 12 bits a pixel (CSI-2 10-bit:
   * 4 pixels in 5 bytes); a row takes ceil(width x bits / 8) bytes, as v4l2_fill_pixfmt() computes it.
   */
  readonly bayer: boolean;
  /**
   * A V4L2 multi-planar format (NV12M, YUV420M...: Documentation/userspace-api/media/v4l/
   * pixfmt-yuv-planar.rst, "non-contiguous planes"): the planes of its single-planar twin, each in
   * a buffer (dma-buf) of its own at offset 0, with its own pitch and size. V4L2's namespace only
   * (DRM describes such a frame as one framebuffer over several handles, with the twin's fourcc).
   */
  readonly planeBuffers: boolean;
}

/** Bytes one row of `pixels` pixels takes in a plane (packed formats round up to whole bytes). */
export function rowBytesOf(plane: PlaneInfo, pixels: number): number {
  return Math.ceil((pixels * plane.bits) / 8);
}

function fourccOf(code: string): number {
  return (
    (code.charCodeAt(0) | (code.charCodeAt(1) << 8) | (code.charCodeAt(2) << 16) | (code.charCodeAt(3) << 24)) >>> 0
  );
}

function fmt(name: string, code: string, cpp: number[], hsub = 1, vsub = 1, yuv = false): FormatInfo {
  const planes = cpp.map((c) => ({ cpp: c, bits: c * 8 }));
  const bits = cpp.reduce((sum, c, i) => sum + (i === 0 ? c * 8 : (c * 8) / (hsub * vsub)), 0);
  // Every format has every field (bayer too): one object shape keeps property reads monomorphic.
  return { name, code, fourcc: fourccOf(code), planes, hsub, vsub, yuv, bitsPerPixel: bits, bayer: false, planeBuffers: false };
}

/**
 * A raw Bayer format of Documentation/userspace-api/media/v4l/pixfmt-bayer.rst: one plane of
 * `bits`-bit samples in a 2x2 colour pattern; 8-bit in bytes (pixfmt-srggb8.rst), 10/12/16-bit in
 * little-endian 16-bit words (pixfmt-srggb10.rst, -srggb12.rst, -srggb16.rst), or MIPI CSI-2 packed
 * (pixfmt-srggb10p.rst: 4 pixels in 5 bytes; pixfmt-srggb12p.rst: 2 pixels in 3 bytes).
 */
function bayer(name: string, code: string, bits: number, packed: boolean): FormatInfo {
  const cpp = bits <= 8 ? 1 : 2;
  return { name, code, fourcc: fourccOf(code), planes: [{ cpp, bits: packed ? bits : cpp * 8 }], hsub: 1, vsub: 1, yuv: false, bitsPerPixel: packed ? bits : cpp * 8, bayer: true, planeBuffers: false };
}

/** The multi-planar twin of a single-buffer YUV format: the same planes, one buffer each, V4L2's code. */
function perPlane(name: string, code: string, twin: FormatInfo): FormatInfo {
  return { ...twin, name, code, fourcc: fourccOf(code), planeBuffers: true };
}

/** V4L2's multi-planar formats and the single-buffer format whose planes they hold (videodev2.h). */
const PER_PLANE: ReadonlyArray<[name: string, code: string, twin: string]> = [
  ['NV12M', 'NM12', 'NV12'],
  ['NV21M', 'NM21', 'NV21'],
  ['NV16M', 'NM16', 'NV16'],
  ['NV61M', 'NM61', 'NV61'],
  ['YUV420M', 'YM12', 'YUV420'],
  ['YVU420M', 'YM21', 'YVU420'],
  ['YUV422M', 'YM16', 'YUV422'],
  ['YVU422M', 'YM61', 'YVU422'],
  ['YUV444M', 'YM24', 'YUV444'],
  ['YVU444M', 'YM42', 'YVU444'],
];

/** The four Bayer orders with their videodev2.h fourcc for each depth. */
const BAYER: ReadonlyArray<[order: string, c8: string, c10: string, c12: string, c16: string, c10p: string, c12p: string]> = [
  ['BGGR', 'BA81', 'BG10', 'BG12', 'BYR2', 'pBAA', 'pBCC'],
  ['GBRG', 'GBRG', 'GB10', 'GB12', 'GB16', 'pGAA', 'pGCC'],
  ['GRBG', 'GRBG', 'BA10', 'BA12', 'GR16', 'pgAA', 'pgCC'],
  ['RGGB', 'RGGB', 'RG10', 'RG12', 'RG16', 'pRAA', 'pRCC'],
];

/** Known formats, roughly in order of how often they are used. */
const SINGLE_BUFFER: readonly FormatInfo[] = [
  // 32-bit RGB
  fmt('XRGB8888', 'XR24', [4]),
  fmt('ARGB8888', 'AR24', [4]),
  fmt('XBGR8888', 'XB24', [4]),
  fmt('ABGR8888', 'AB24', [4]),
  fmt('RGBX8888', 'RX24', [4]),
  fmt('RGBA8888', 'RA24', [4]),
  fmt('BGRX8888', 'BX24', [4]),
  fmt('BGRA8888', 'BA24', [4]),
  fmt('XRGB2101010', 'XR30', [4]),
  fmt('ARGB2101010', 'AR30', [4]),
  fmt('XBGR2101010', 'XB30', [4]),
  fmt('ABGR2101010', 'AB30', [4]),
  // 64-bit half-float RGB (HDR)
  fmt('XRGB16161616F', 'XR4H', [8]),
  fmt('ARGB16161616F', 'AR4H', [8]),
  fmt('XBGR16161616F', 'XB4H', [8]),
  fmt('ABGR16161616F', 'AB4H', [8]),
  // 24- and 16-bit RGB
  fmt('RGB888', 'RG24', [3]),
  fmt('BGR888', 'BG24', [3]),
  fmt('RGB565', 'RG16', [2]),
  fmt('BGR565', 'BG16', [2]),
  fmt('XRGB1555', 'XR15', [2]),
  fmt('ARGB1555', 'AR15', [2]),
  fmt('XRGB4444', 'XR12', [2]),
  fmt('ARGB4444', 'AR12', [2]),
  // single and dual channel
  fmt('C8', 'C8  ', [1]),
  fmt('R8', 'R8  ', [1]),
  fmt('R16', 'R16 ', [2]),
  fmt('RG88', 'RG88', [2]),
  fmt('GR88', 'GR88', [2]),
  // 2-plane YUV (semi-planar)
  fmt('NV12', 'NV12', [1, 2], 2, 2, true),
  fmt('NV21', 'NV21', [1, 2], 2, 2, true),
  fmt('NV16', 'NV16', [1, 2], 2, 1, true),
  fmt('NV61', 'NV61', [1, 2], 2, 1, true),
  fmt('NV24', 'NV24', [1, 2], 1, 1, true),
  fmt('NV42', 'NV42', [1, 2], 1, 1, true),
  fmt('P010', 'P010', [2, 4], 2, 2, true),
  fmt('P012', 'P012', [2, 4], 2, 2, true),
  fmt('P016', 'P016', [2, 4], 2, 2, true),
  fmt('P210', 'P210', [2, 4], 2, 1, true),
  // 3-plane YUV (planar)
  fmt('YUV420', 'YU12', [1, 1, 1], 2, 2, true),
  fmt('YVU420', 'YV12', [1, 1, 1], 2, 2, true),
  fmt('YUV422', 'YU16', [1, 1, 1], 2, 1, true),
  fmt('YVU422', 'YV16', [1, 1, 1], 2, 1, true),
  fmt('YUV444', 'YU24', [1, 1, 1], 1, 1, true),
  fmt('YVU444', 'YV24', [1, 1, 1], 1, 1, true),
  // packed YUV: one plane; hsub says the width must be even
  fmt('YUYV', 'YUYV', [2], 2, 1, true),
  fmt('YVYU', 'YVYU', [2], 2, 1, true),
  fmt('UYVY', 'UYVY', [2], 2, 1, true),
  fmt('VYUY', 'VYUY', [2], 2, 1, true),
  fmt('AYUV', 'AYUV', [4], 1, 1, true),
  fmt('XYUV8888', 'XYUV', [4], 1, 1, true),
  fmt('Y210', 'Y210', [4], 2, 1, true),
  fmt('Y410', 'Y410', [4], 1, 1, true),
  // raw Bayer (V4L2 only)
  ...BAYER.flatMap(([order, c8, c10, c12, c16, c10p, c12p]) => [
    bayer(`S${order}8`, c8, 8, false),
    bayer(`S${order}10`, c10, 10, false),
    bayer(`S${order}12`, c12, 12, false),
    bayer(`S${order}16`, c16, 16, false),
    bayer(`S${order}10P`, c10p, 10, true),
    bayer(`S${order}12P`, c12p, 12, true),
  ]),
];

export const FORMATS: readonly FormatInfo[] = [...SINGLE_BUFFER, ...PER_PLANE.map(([name, code, twin]) => perPlane(name, code, SINGLE_BUFFER.find((f) => f.name === twin)!))];

/** Formats named in V4L2's fourcc namespace only (raw Bayer, multi-planar): never found by a DRM code. */
export function v4l2Only(f: FormatInfo): boolean {
  return f.bayer || f.planeBuffers;
}

const byName = new Map<string, FormatInfo>(FORMATS.map((f) => [f.name.toUpperCase(), f]));

// Codes are DRM's: V4L2's Bayer and multi-planar codes live in another namespace (and 'RG16' is in both).
const byCode = new Map<number, FormatInfo>(FORMATS.filter((f) => !v4l2Only(f)).map((f) => [f.fourcc, f]));

const byFourcc = new Map<string, FormatInfo>(FORMATS.filter((f) => !v4l2Only(f)).map((f) => [f.code, f]));

/**
 * Looks a format up every way people write one: its drm_fourcc.h name with or without the
 * DRM_FORMAT_ prefix (any case), its fourcc code in hex or decimal (0x3231564e; YAML reads an
 * unquoted hex key as a number), or its four characters ('XR24', quotes optional).
 */
export function findFormat(input: string | number): FormatInfo | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) ? byCode.get(input) : undefined;
  const text = input.trim();
  const named = byName.get(text.toUpperCase().replace(/^(DRM_FORMAT_|V4L2_PIX_FMT_)/, ''));
  if (named) return named;
  if (/^0x[0-9a-f]{1,8}$/i.test(text)) return byCode.get(Number.parseInt(text.slice(2), 16));
  if (/^\d{1,10}$/.test(text)) return byCode.get(Number(text));
  const chars = text.replace(/^'(.{4})'$/, '$1');
  return chars.length === 4 ? byFourcc.get(chars) : undefined;
}

/** The format of a canonical name exactly as FORMATS spells it ('NV12'), for names udalloc wrote itself. */
export function formatNamed(name: string): FormatInfo | undefined {
  return byExactName.get(name);
}

const byExactName = new Map<string, FormatInfo>(FORMATS.map((f) => [f.name, f]));

export function formatNames(): string[] {
  return FORMATS.map((f) => f.name);
}
