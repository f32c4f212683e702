// DRM format modifiers, named and numbered as include/uapi/drm/drm_fourcc.h defines them:
// fourcc_mod_code(vendor, val) = (vendor << 56) | (val & 0x00ffffffffffffff).
// The layout field says what udalloc knows of the memory layout; only modifiers with a layout
// model can be planned, because an exact size cannot be computed for the others.

import { v4l2Only, type FormatInfo } from './formats.js';

export type ModifierLayout =
  /** Rows of pixels, one after another. */
  | { kind: 'linear' }
  /** Fixed-size tiles: pitch aligned to the tile width, plane height aligned to the tile height. */
  | { kind: 'tiled'; tileBytes?: number; tilePixels?: number; tileRows: number }
  /** Arm AFBC superblocks, sized as drm_gem_afbc_min_size() in drm_gem_framebuffer_helper.c. */
  | { kind: 'afbc'; blockWidth: number; blockHeight: number }
  /**
   * Broadcom SAND: the image cut into columns `columnBytes` wide, stored one after another; each
   * column holds its luma rows, then its chroma rows. The column height (in rows) is the modifier's
   * parameter (drm_fourcc.h, fourcc_mod_broadcom_code(val, params), params at bit 8).
   */
  | { kind: 'sand'; columnBytes: number }
  /** Layout depends on hidden parameters (compression metadata, tile geometry): cannot be sized here. */
  | { kind: 'opaque'; why: string };

export interface ModifierInfo {
  readonly name: string;
  readonly value: bigint;
  readonly vendor: string;
  readonly layout: ModifierLayout;
  /** Formats the modifier is defined for; undefined means any. */
  readonly appliesTo?: (format: FormatInfo) => boolean;
}

const VENDOR = { NONE: 0n, INTEL: 1n, AMD: 2n, NVIDIA: 3n, SAMSUNG: 4n, QCOM: 5n, VIVANTE: 6n, BROADCOM: 7n, ARM: 8n, ALLWINNER: 9n } as const;

function modCode(vendor: keyof typeof VENDOR, val: bigint): bigint {
  return (VENDOR[vendor] << 56n) | (val & 0x00ffffffffffffffn);
}

const singlePlaneRgb = (f: FormatInfo): boolean => !f.yuv && f.planes.length === 1 && f.planes[0]!.cpp >= 2;
const nv12Like = (f: FormatInfo): boolean => f.name === 'NV12' || f.name === 'NV21';

// AFBC_FORMAT_MOD_* bits, drm_fourcc.h
const AFBC_16x16 = 1n;
const AFBC_YTR = 1n << 4n;
const AFBC_SPLIT = 1n << 5n;
const AFBC_SPARSE = 1n << 6n;

function afbc(name: string, bits: bigint): ModifierInfo {
  // DRM_FORMAT_MOD_ARM_TYPE_AFBC is 0, so the type field adds nothing.
  return {
    name,
    value: modCode('ARM', bits),
    vendor: 'ARM',
    layout: { kind: 'afbc', blockWidth: 16, blockHeight: 16 },
    appliesTo: singlePlaneRgb,
  };
}

export const MODIFIERS: readonly ModifierInfo[] = [
  { name: 'DRM_FORMAT_MOD_LINEAR', value: 0n, vendor: 'NONE', layout: { kind: 'linear' } },
  // Intel: X tiles are 512 B x 8 rows, Y and Tile4 tiles are 128 B x 32 rows (4 KiB).
  { name: 'I915_FORMAT_MOD_X_TILED', value: modCode('INTEL', 1n), vendor: 'INTEL', layout: { kind: 'tiled', tileBytes: 512, tileRows: 8 } },
  { name: 'I915_FORMAT_MOD_Y_TILED', value: modCode('INTEL', 2n), vendor: 'INTEL', layout: { kind: 'tiled', tileBytes: 128, tileRows: 32 } },
  { name: 'I915_FORMAT_MOD_Yf_TILED', value: modCode('INTEL', 3n), vendor: 'INTEL', layout: { kind: 'opaque', why: 'Yf tile shape depends on bytes per pixel' } },
  { name: 'I915_FORMAT_MOD_Y_TILED_CCS', value: modCode('INTEL', 4n), vendor: 'INTEL', layout: { kind: 'opaque', why: 'needs an auxiliary compression plane' } },
  { name: 'I915_FORMAT_MOD_Y_TILED_GEN12_RC_CCS', value: modCode('INTEL', 6n), vendor: 'INTEL', layout: { kind: 'opaque', why: 'needs an auxiliary compression plane' } },
  { name: 'I915_FORMAT_MOD_4_TILED', value: modCode('INTEL', 9n), vendor: 'INTEL', layout: { kind: 'tiled', tileBytes: 128, tileRows: 32 } },
  // Samsung: NV12MT macroblock tiles of 64x32 and 16x16 luma pixels (1 byte each).
  { name: 'DRM_FORMAT_MOD_SAMSUNG_64_32_TILE', value: modCode('SAMSUNG', 1n), vendor: 'SAMSUNG', layout: { kind: 'tiled', tileBytes: 64, tileRows: 32 }, appliesTo: nv12Like },
  { name: 'DRM_FORMAT_MOD_SAMSUNG_16_16_TILE', value: modCode('SAMSUNG', 2n), vendor: 'SAMSUNG', layout: { kind: 'tiled', tileBytes: 16, tileRows: 16 }, appliesTo: nv12Like },
  { name: 'DRM_FORMAT_MOD_QCOM_COMPRESSED', value: modCode('QCOM', 1n), vendor: 'QCOM', layout: { kind: 'opaque', why: 'UBWC metadata planes' } },
  { name: 'DRM_FORMAT_MOD_QCOM_TILED2', value: modCode('QCOM', 2n), vendor: 'QCOM', layout: { kind: 'opaque', why: 'tile shape not published' } },
  { name: 'DRM_FORMAT_MOD_QCOM_TILED3', value: modCode('QCOM', 3n), vendor: 'QCOM', layout: { kind: 'opaque', why: 'tile shape not published' } },
  // Vivante: 4x4 pixel tiles, 64x64 pixel super-tiles.
  { name: 'DRM_FORMAT_MOD_VIVANTE_TILED', value: modCode('VIVANTE', 1n), vendor: 'VIVANTE', layout: { kind: 'tiled', tilePixels: 4, tileRows: 4 } },
  { name: 'DRM_FORMAT_MOD_VIVANTE_SUPER_TILED', value: modCode('VIVANTE', 2n), vendor: 'VIVANTE', layout: { kind: 'tiled', tilePixels: 64, tileRows: 64 } },
  // Tegra: 16 B x 16 row tiles.
  { name: 'DRM_FORMAT_MOD_NVIDIA_TEGRA_TILED', value: modCode('NVIDIA', 1n), vendor: 'NVIDIA', layout: { kind: 'tiled', tileBytes: 16, tileRows: 16 } },
  // Broadcom VC4 T-format: 4 KiB tiles of 128 B x 32 rows.
  { name: 'DRM_FORMAT_MOD_BROADCOM_VC4_T_TILED', value: modCode('BROADCOM', 1n), vendor: 'BROADCOM', layout: { kind: 'tiled', tileBytes: 128, tileRows: 32 }, appliesTo: singlePlaneRgb },
  { name: 'DRM_FORMAT_MOD_BROADCOM_SAND32', value: modCode('BROADCOM', 2n), vendor: 'BROADCOM', layout: { kind: 'sand', columnBytes: 32 }, appliesTo: nv12Like },
  { name: 'DRM_FORMAT_MOD_BROADCOM_SAND64', value: modCode('BROADCOM', 3n), vendor: 'BROADCOM', layout: { kind: 'sand', columnBytes: 64 }, appliesTo: nv12Like },
  { name: 'DRM_FORMAT_MOD_BROADCOM_SAND128', value: modCode('BROADCOM', 4n), vendor: 'BROADCOM', layout: { kind: 'sand', columnBytes: 128 }, appliesTo: (f) => nv12Like(f) || f.name === 'P010' },
  { name: 'DRM_FORMAT_MOD_BROADCOM_SAND256', value: modCode('BROADCOM', 5n), vendor: 'BROADCOM', layout: { kind: 'sand', columnBytes: 256 }, appliesTo: nv12Like },
  { name: 'DRM_FORMAT_MOD_BROADCOM_UIF', value: modCode('BROADCOM', 6n), vendor: 'BROADCOM', layout: { kind: 'opaque', why: 'UIF layout depends on the GPU block geometry' } },
  afbc('DRM_FORMAT_MOD_ARM_AFBC_16x16', AFBC_16x16),
  afbc('DRM_FORMAT_MOD_ARM_AFBC_16x16_YTR_SPARSE', AFBC_16x16 | AFBC_YTR | AFBC_SPARSE),
  afbc('DRM_FORMAT_MOD_ARM_AFBC_16x16_YTR_SPARSE_SPLIT', AFBC_16x16 | AFBC_YTR | AFBC_SPARSE | AFBC_SPLIT),
  { name: 'DRM_FORMAT_MOD_ARM_16X16_BLOCK_U_INTERLEAVED', value: modCode('ARM', 1n) | (1n << 52n), vendor: 'ARM', layout: { kind: 'tiled', tilePixels: 16, tileRows: 16 } },
  { name: 'DRM_FORMAT_MOD_ALLWINNER_TILED', value: modCode('ALLWINNER', 1n), vendor: 'ALLWINNER', layout: { kind: 'tiled', tileBytes: 32, tileRows: 32 }, appliesTo: nv12Like },
];

const byName = new Map<string, ModifierInfo>();
const byValue = new Map<bigint, ModifierInfo>();
const shortNames = new Map<ModifierInfo, string>();
for (const m of MODIFIERS) {
  byName.set(m.name.toUpperCase(), m);
  byValue.set(m.value, m);
  // Short names, as people write them in profiles: LINEAR, Y_TILED, BROADCOM_SAND128 ...
  const short = m.name.replace(/^(DRM_FORMAT_MOD_|I915_FORMAT_MOD_)/, '');
  shortNames.set(m, short);
  byName.set(short.toUpperCase(), m);
}
// ... and without the vendor where that stays unambiguous: SAND128, AFBC_16x16, VC4_T_TILED.
for (const m of MODIFIERS) {
  const bare = shortNames.get(m)!.replace(/^(BROADCOM|ARM|VIVANTE|NVIDIA|SAMSUNG|QCOM|ALLWINNER)_/, '').toUpperCase();
  if (!byName.has(bare) && !['TILED', 'COMPRESSED', 'TILED2', 'TILED3'].includes(bare)) byName.set(bare, m);
}

/** Finds a modifier by its drm_fourcc.h name, a short alias (LINEAR, Y_TILED, SAND128) or a hex value. */
export function findModifier(nameOrValue: string): ModifierInfo | undefined {
  const key = nameOrValue.trim();
  if (/^0x[0-9a-f]+$/i.test(key)) return byValue.get(BigInt(key));
  return byName.get(key.toUpperCase());
}

/** Every accepted spelling (full and short), upper-cased, for suggestions. */
export function modifierNames(): string[] {
  return [...byName.keys()];
}

/** The short name used in plans and output (LINEAR, Y_TILED, ...). */
export function shortModifierName(m: ModifierInfo): string {
  return shortNames.get(m) ?? m.name;
}

/** Bit position of the Broadcom modifiers' parameter (__fourcc_mod_broadcom_param_shift). */
const BROADCOM_PARAM_SHIFT = 8n;
const BROADCOM_PARAM_BITS = 48n;

/** A SAND modifier with its column height: DRM_FORMAT_MOD_BROADCOM_SAND128_COL_HEIGHT(rows). */
export function sandModifierValue(m: ModifierInfo, columnRows: number): bigint {
  const rows = BigInt(columnRows);
  if (rows >= 1n << BROADCOM_PARAM_BITS) throw new RangeError(`SAND column height ${columnRows} does not fit the modifier's 48-bit parameter`);
  return m.value | (rows << BROADCOM_PARAM_SHIFT);
}

export function modifierHex(value: bigint): string {
  return `0x${value.toString(16).padStart(16, '0')}`;
}

export function modifierAppliesTo(m: ModifierInfo, f: FormatInfo): boolean {
  // Raw Bayer and multi-planar formats are V4L2's, and V4L2 buffers are linear.
  if (v4l2Only(f)) return m.layout.kind === 'linear';
  return m.appliesTo ? m.appliesTo(f) : true;
}
