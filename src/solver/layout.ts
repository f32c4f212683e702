// Buffer layout: plane pitches, heights, offsets and the total size for a (format, modifier) pair
// under merged alignment rules. Pure integer arithmetic; sizes beyond 2^53 throw OverflowError.

import { rowBytesOf, type FormatInfo } from '../constraints/formats.js';
import { sandModifierValue, type ModifierInfo } from '../constraints/modifiers.js';
import { implicitPitch, PAGE_SIZE } from '../constraints/model.js';
import { alignUp, ceilDiv, checked, gcd, lcm } from '../util/int.js';

export interface PlaneLayout {
  readonly offset: number;
  readonly pitch: number;
  /** Rows of this plane (after alignment and subsampling). */
  readonly rows: number;
  readonly size: number;
}

/**
 * The merged rules a layout obeys: the rule table's per-format alignments and flags by name
 * (constraints/rules) and the devices' size alignment (solver/merge-rules.ts layoutRulesOf()).
 */
export interface LayoutRules {
  readonly pitchAlign: number;
  readonly heightAlign: number;
  readonly offsetAlign: number;
  readonly sizeAlign: number;
  /** Widths padded to a multiple of this many pixels, every row holding the padded width (absent: 1). */
  readonly widthAlign?: number;
  /**
   * A device finds planes 1.. itself (implicit plane offsets, V4L2 single-planar formats): every
   * plane follows the one before, its pitch derived from plane 0's. The plan's luma rows are the
   * height to give that device. Absent or false: planes are placed freely.
   */
  readonly implicitPlanes?: boolean;
}

export interface Layout {
  readonly planes: readonly PlaneLayout[];
  /** The modifier with the parameters this layout sets (a SAND column height); else the modifier's value. */
  readonly modifierValue?: bigint;
  /** Bytes the planes span, before page and size rounding. */
  readonly used: number;
  /** Bytes to allocate: used rounded up to the page and to sizeAlign (a multi-planar frame: its buffers' sum). */
  readonly size: number;
  /**
   * A multi-planar format's buffers (FormatInfo.planeBuffers): each plane's own, at offset 0,
   * rounded up like a buffer; absent when every plane shares one buffer.
   */
  readonly buffers?: readonly number[];
}

/** AFBC constants from drivers/gpu/drm/drm_gem_framebuffer_helper.c. */
const AFBC_HEADER_SIZE = 16;
const AFBC_HDR_ALIGN = 64;
const AFBC_SUPERBLOCK_ALIGNMENT = 128;

/** The width every row holds: whole chroma samples, and a multiple of the width step (widthAlign). */
function paddedWidth(format: FormatInfo, width: number, rules: LayoutRules): number {
  const step = rules.widthAlign;
  return step === undefined || step === 1 ? alignUp(width, format.hsub) : alignUp(width, lcm(format.hsub, step));
}

/** Returns the layout, or undefined when the modifier's layout is not modelled (opaque). */
export function computeLayout(format: FormatInfo, modifier: ModifierInfo, width: number, height: number, rules: LayoutRules): Layout | undefined {
  const layout = modifier.layout;
  if (layout.kind === 'opaque') return undefined;
  // Implicit plane offsets are a rule of linear single-buffer layouts (V4L2 single-planar formats).
  if (rules.implicitPlanes && layout.kind !== 'linear') return undefined;
  if (layout.kind === 'sand') return sandLayout(format, modifier, layout.columnBytes, width, height, rules);
  // Odd widths/heights of subsampled formats round up to whole chroma samples, and to the width step.
  const w = paddedWidth(format, width, rules);
  const lumaRows = alignUp(alignUp(height, format.vsub), rules.heightAlign);

  const planes: PlaneLayout[] = [];
  let end = 0;
  for (let index = 0; index < format.planes.length; index++) {
    const plane = format.planes[index]!;
    const hsub = index === 0 ? 1 : format.hsub;
    const vsub = index === 0 ? 1 : format.vsub;
    const rowBytes = checked('row size', rowBytesOf(plane, ceilDiv(w, hsub)));
    let pitch: number;
    let rows = ceilDiv(lumaRows, vsub);
    let size: number;
    if (layout.kind === 'afbc') {
      // drm_gem_afbc_min_size(): header of 16 B per superblock, aligned to 64, then payload blocks
      // of bpp*pixels/8 bytes each aligned to 128.
      const alignedW = alignUp(w, layout.blockWidth);
      rows = alignUp(rows, layout.blockHeight);
      pitch = alignUp(alignedW * plane.cpp, rules.pitchAlign);
      const blocks = (alignedW / layout.blockWidth) * (rows / layout.blockHeight);
      const header = alignUp(blocks * AFBC_HEADER_SIZE, AFBC_HDR_ALIGN);
      const blockBytes = alignUp(plane.cpp * layout.blockWidth * layout.blockHeight, AFBC_SUPERBLOCK_ALIGNMENT);
      size = checked('AFBC buffer size', header + blocks * blockBytes);
    } else {
      let pitchAlign = rules.pitchAlign;
      if (layout.kind === 'tiled') {
        const tileBytes = layout.tileBytes ?? (layout.tilePixels ?? 1) * plane.cpp;
        pitchAlign = lcm(pitchAlign, tileBytes);
        rows = alignUp(rows, layout.tileRows);
      }
      if (rules.implicitPlanes) {
        // Plane 0's pitch so aligned that every derived pitch still meets pitchAlign (YUV420's
        // chroma pitch is half the luma pitch); later planes take the derived pitch, as the device does.
        const ratio = (format.planes[0]!.cpp * format.hsub) / Math.min(...format.planes.slice(1).map((p) => p.cpp));
        pitch = index === 0 ? alignUp(rowBytes, lcm(pitchAlign, pitchAlign * Math.max(1, Math.round(ratio))), 'pitch') : implicitPitch(planes[0]!.pitch, format, index);
      } else pitch = alignUp(rowBytes, pitchAlign, 'pitch');
      size = checked('plane size', pitch * rows);
    }
    if (format.planeBuffers) {
      // A buffer of its own: offset 0, whatever the planes before it took.
      if (!Number.isInteger(pitch)) return undefined;
      planes.push({ offset: 0, pitch, rows, size });
      continue;
    }
    // With implicit plane offsets the next plane starts where the last ended, or nowhere.
    if (rules.implicitPlanes && (!Number.isInteger(pitch) || end % rules.offsetAlign !== 0)) return undefined;
    const offset = alignUp(end, rules.offsetAlign, 'plane offset');
    end = checked('buffer size', offset + size);
    planes.push({ offset, pitch, rows, size });
  }
  const unit = lcm(PAGE_SIZE, rules.sizeAlign);
  if (format.planeBuffers) {
    const buffers = planes.map((p) => alignUp(p.size, unit, 'buffer size'));
    return { planes, used: planes.reduce((sum, p) => sum + p.size, 0), size: checked('frame size', buffers.reduce((a, b) => a + b, 0)), buffers };
  }
  const size = alignUp(end, unit, 'buffer size');
  return { planes, used: end, size };
}

/**
 * Broadcom SAND (include/uapi/drm/drm_fourcc.h): columns `columnBytes` wide placed one after
 * another, each holding its luma rows then its chroma rows, so plane 1 starts `lumaRows` rows
 * into the first column. The column height is luma plus chroma rows, the Raspberry Pi HEVC
 * decoder's default for NV12_COL128 (bytesperline = height * 3 / 2, hevc_d_video.c) and what
 * vc4_plane.c programs from the modifier's parameter; the framebuffer pitch is the padded width.
 */
function sandLayout(format: FormatInfo, modifier: ModifierInfo, columnBytes: number, width: number, height: number, rules: LayoutRules): Layout | undefined {
  if (format.planes.length !== 2) return undefined;
  const w = paddedWidth(format, width, rules);
  // The column height is the layout's choice (the modifier carries it): luma rows padded so that
  // the chroma start meets the offset alignment too, as a larger height alignment would.
  const offsetRows = rules.offsetAlign / gcd(rules.offsetAlign, columnBytes);
  const lumaRows = alignUp(alignUp(height, format.vsub), lcm(rules.heightAlign, offsetRows));
  const chromaRows = ceilDiv(lumaRows, format.vsub);
  const columns = ceilDiv(checked('row size', w * format.planes[0]!.cpp), columnBytes);
  const pitch = alignUp(columns * columnBytes, rules.pitchAlign, 'pitch');
  const chromaOffset = checked('plane offset', lumaRows * columnBytes);
  const columnRows = lumaRows + chromaRows;
  const used = checked('buffer size', columnRows * pitch);
  const planes: PlaneLayout[] = [
    { offset: 0, pitch, rows: lumaRows, size: checked('plane size', lumaRows * pitch) },
    { offset: chromaOffset, pitch, rows: chromaRows, size: checked('plane size', chromaRows * pitch) },
  ];
  return { planes, used, size: alignUp(used, lcm(PAGE_SIZE, rules.sizeAlign), 'buffer size'), modifierValue: sandModifierValue(modifier, columnRows) };
}
