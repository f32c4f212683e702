// The vocabulary of ../shared/DESIGN.md as types: heaps, devices with constraint sets, requests.
// Values here are validated and normalised (sizes in bytes, formats resolved to table entries);
// src/constraints/schema.ts turns untrusted YAML/JSON into these.

import { rowBytesOf, type FormatInfo, type PlaneInfo } from './formats.js';
import type { ModifierInfo } from './modifiers.js';

export const PAGE_SIZE = 4096;

/** MAX_PAGE_ORDER (include/linux/mmzone.h, default 10: 4 MiB blocks with 4 KiB pages). */
export const MAX_PAGE_ORDER = 10;

export type HeapKind = 'system' | 'system-contig' | 'cma' | 'carveout' | 'secure';

/** Where a value came from, so a conflict can point at it: "boards/x.yaml:12 devices[0].dmaBits". */
export type Source = string;

export interface Heap {
  readonly name: string;
  readonly kind: HeapKind;
  /** Physical base address, when the pool sits at a fixed place (CMA, carveout). */
  readonly base: number | undefined;
  /** Capacity in bytes (RAM size for the system heap). */
  readonly size: number;
  /** Highest physical address + 1 that any buffer of this heap can occupy (Infinity when unknown). */
  readonly end: number;
  readonly contiguous: boolean;
  readonly cpuAccess: boolean;
  readonly secure: boolean;
  readonly cached: boolean;
  /** Largest physical base alignment the heap can guarantee, in bytes. */
  readonly maxAlign: number;
  /** For CMA: alignment is PAGE << min(get_order(size), alignOrder) (CONFIG_CMA_ALIGNMENT, mm/cma.c). */
  readonly alignOrder: number | undefined;
  /** Largest single buffer the heap can hand out (system-contig: MAX_PAGE_ORDER pages). */
  readonly maxBuffer: number;
  /** Scarcity rank: lower is more plentiful and preferred (system < system-contig < cma < carveout < secure). */
  readonly scarcity: number;
  readonly source: Source;
}


/**
 * How a device uses a buffer: a display or an encoder reads it, a camera or a decoder writes it, a
 * GPU may do both (texture and render target). Devices often support a format for one direction
 * only (a GPU samples NV12 but cannot render to it).
 */
export type DeviceAccess = 'read' | 'write' | 'readwrite';

export const DEVICE_ACCESS: readonly DeviceAccess[] = ['read', 'write', 'readwrite'];

/** True when a rule allowing `have` serves a device that uses the buffer as `need`. */
export function accessCovers(have: DeviceAccess, need: DeviceAccess): boolean {
  return have === 'readwrite' || have === need;
}

/** What a rule lets the device do with the format in this modifier. */
export function modifierAccessOf(rule: FormatRule, modifier: ModifierInfo): DeviceAccess {
  return rule.modifierAccess.get(modifier) ?? rule.access;
}

/** The rule's modifiers, best first, that allow a stated use (all of them when none is stated). */
export function modifiersFor(rule: FormatRule, need: DeviceAccess | undefined): readonly ModifierInfo[] {
  if (need === undefined || rule.modifierAccess.size === 0) return rule.modifiers;
  return rule.modifiers.filter((m) => accessCovers(modifierAccessOf(rule, m), need));
}

export interface FormatRule {
  readonly format: FormatInfo;
  /** What the device can do with buffers of this format (default readwrite: no restriction). */
  readonly access: DeviceAccess;
  /** Modifiers the device uses more narrowly than `access` (EGL external_only: sample only). */
  readonly modifierAccess: ReadonlyMap<ModifierInfo, DeviceAccess>;
  /** Supported modifiers, best first. */
  readonly modifiers: readonly ModifierInfo[];
  readonly pitchAlign: number;
  readonly heightAlign: number;
  /** Widths are padded to a multiple of this many pixels and every row holds the padded width (constraints/rules/width-align.ts). */
  readonly widthAlign: number;
  readonly offsetAlign: number;
  readonly maxWidth: number | undefined;
  readonly maxHeight: number | undefined;
  /** Largest pitch in bytes of any plane (a pitch register's width in a display engine or codec). */
  readonly maxPitch: number | undefined;
  /**
   * The device locates planes 1.. itself: each starts right after the one before, its pitch derived
   * from plane 0's (V4L2 single-planar formats: chroma at bytesperline x height). A plan must lay the
   * planes out exactly so, with luma rows = the height aligned only to this rule's heightAlign.
   */
  readonly implicitPlaneOffsets: boolean;
  /**
   * The rule table's numbers for this rule (constraints/rules LAYOUT_RULES, by position), as each
   * rule reads them from the fields above: worked out once when the rule is made (ruleValues()),
   * so that a merge reads an array instead of calling every rule.
   */
  readonly values: readonly number[];
  readonly source: Source;
}

/** The least pitch each plane of `format` needs at `width` pixels: what any layout's pitch is at least. */
export function minimumPitches(format: { readonly planes: readonly PlaneInfo[]; readonly hsub: number }, width: number): number[] {
  return format.planes.map((p, i) => rowBytesOf(p, Math.ceil(width / (i === 0 ? 1 : format.hsub))));
}

/** Whether a rule's maxPitch rules out `width` whatever the alignments (the least pitch is already too wide). */
export function pitchTooWide(rule: FormatRule, width: number): boolean {
  return rule.maxPitch !== undefined && minimumPitches(rule.format, width).some((p) => p > rule.maxPitch!);
}

/** Plane i's pitch as a device with implicit plane offsets derives it from plane 0's (V4L2's rule). */
export function implicitPitch(pitch0: number, format: { readonly planes: readonly { readonly cpp: number }[]; readonly hsub: number }, plane: number): number {
  return plane === 0 ? pitch0 : (pitch0 * format.planes[plane]!.cpp) / (format.planes[0]!.cpp * format.hsub);
}

export type ProtectedNeed = 'required' | 'forbidden' | 'optional';

export interface Device {
  readonly name: string;
  readonly iommu: boolean;
  readonly dmaBits: number | undefined;
  /** Hard: the only heaps this device can reach (device-tree memory-region links). */
  readonly heaps: readonly string[] | undefined;
  /** Soft: heaps this device prefers, best first. */
  readonly preferredHeaps: readonly string[];
  readonly alignment: number;
  readonly sizeAlign: number;
  readonly maxSize: number | undefined;
  readonly coherent: boolean;
  readonly protected: ProtectedNeed;
  /** Formats in the device's order of preference. */
  readonly formats: ReadonlyMap<string, FormatRule>;
  /** Source of each constraint field (iommu, dmaBits, heaps, alignment, ...). */
  readonly sources: Readonly<Record<string, Source>>;
  /** The rule table's per-device numbers (DEVICE_RULES, by position), as FormatRule.values. */
  readonly values: readonly number[];
}

export interface Platform {
  readonly name: string;
  readonly heaps: readonly Heap[];
  readonly devices: readonly Device[];
  /** Where the platform was read from (file path), for messages. */
  readonly origin: string;
}

export type CpuAccess = 'none' | 'read' | 'write' | 'readwrite';

export interface Request {
  readonly width: number;
  readonly height: number;
  /** Acceptable formats, best first. */
  readonly formats: readonly FormatInfo[];
  readonly devices: readonly string[];
  /**
   * How each device uses the buffer, for devices whose entry said so ("camera:write"). A device
   * without an entry here may use any format rule it has, whatever the rule's access.
   */
  readonly access: ReadonlyMap<string, DeviceAccess>;
  readonly cpu: CpuAccess;
  readonly protected: boolean;
  readonly count: number;
  /**
   * The size is set by what produces the frames (a decoder's stream, a sensor mode), not chosen:
   * no fix offers another. A device entry with the role decode sets it unless the request says.
   */
  readonly fixedSize: boolean;
  readonly sources: Readonly<Record<string, Source>>;
}


/** The first two pools with fixed places whose address ranges overlap, if any (a board cannot have them). */
export function overlappingPools(heaps: readonly Heap[]): [Heap, Heap] | undefined {
  const fixed = heaps.filter((h) => h.base !== undefined && h.kind !== 'system' && h.size > 0).sort((a, b) => a.base! - b.base!);
  for (let i = 1; i < fixed.length; i++) {
    const prev = fixed[i - 1]!;
    if (fixed[i]!.base! < prev.base! + prev.size) return [prev, fixed[i]!];
  }
  return undefined;
}
