// Buffer layout: plane pitches, heights, offsets and the total size for a (format, modifier) pair
// under merged alignment rules. Pure integer arithmetic; sizes beyond 2^53 throw OverflowError.

import type { FormatInfo } from '../constraints/formats.js';
import type { ModifierInfo } from '../constraints/modifiers.js';
import { PAGE_SIZE } from '../constraints/model.js';
import { alignUp, ceilDiv, checked, lcm } from '../util/int.js';

export interface PlaneLayout {
  readonly offset: number;
  readonly pitch: number;
  /** Rows of this plane (after alignment and subsampling). */
  readonly rows: number;
  readonly size: number;
}

export interface LayoutRules {
  readonly pitchAlign: number;
  readonly heightAlign: number;
  readonly offsetAlign: number;
  readonly sizeAlign: number;
}

export interface Layout {
  readonly planes: readonly PlaneLayout[];
  /** Bytes the planes span, before page and size rounding. */
  readonly used: number;
  /** Bytes to allocate: used rounded up to the page and to sizeAlign. */
  readonly size: number;
}

/** AFBC constants from drivers/gpu/drm/drm_gem_framebuffer_helper.c. */
const AFBC_HEADER_SIZE = 16;
const AFBC_HDR_ALIGN = 64;
const AFBC_SUPERBLOCK_ALIGNMENT = 128;

/** Returns the layout, or undefined when the modifier's layout is not modelled (opaque). */
export function computeLayout(format: FormatInfo, modifier: ModifierInfo, width: number, height: number, rules: LayoutRules): Layout | undefined {
  const layout = modifier.layout;
  if (layout.kind === 'opaque') return undefined;
  // Odd widths/heights of subsampled formats round up to whole chroma samples.
  const w = alignUp(width, format.hsub);
  const lumaRows = alignUp(alignUp(height, format.vsub), rules.heightAlign);

  const planes: PlaneLayout[] = [];
  let end = 0;
  format.planes.forEach((plane, index) => {
    const hsub = index === 0 ? 1 : format.hsub;
    const vsub = index === 0 ? 1 : format.vsub;
    const rowBytes = checked('row size', ceilDiv(w, hsub) * plane.cpp);
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
      pitch = alignUp(rowBytes, pitchAlign, 'pitch');
      size = checked('plane size', pitch * rows);
    }
    const offset = alignUp(end, rules.offsetAlign, 'plane offset');
    end = checked('buffer size', offset + size);
    planes.push({ offset, pitch, rows, size });
  });
  const size = alignUp(end, lcm(PAGE_SIZE, rules.sizeAlign), 'buffer size');
  return { planes, used: end, size };
}
