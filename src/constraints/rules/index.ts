// The constraint rules: one module each, one row each here. The order is the order explanations
// keep facts in (solver/atoms.ts): what a board can least change first (IOMMU, DMA reach,
// alignment, reachable pools, protection), then size limits, layout rules, modifiers and formats.
// Adding a rule: its module, its row, its profile field (schema.ts, model.ts, platform-loader.ts),
// its statement in the independent checker (solver/verify.ts) and its tests.

import { access } from './access.js';
import { offsetAlign, heightAlign, pitchAlign } from './alignments.js';
import { alignment } from './base-alignment.js';
import { dmaBits } from './dma-bits.js';
import { formats } from './formats.js';
import { heaps } from './heaps.js';
import { implicitPlanes } from './implicit-planes.js';
import { iommu } from './iommu.js';
import { maxSize } from './max-size.js';
import { modifiers } from './modifiers.js';
import { protectedMemory } from './protected.js';
import { maxHeight, maxPitch, maxWidth } from './size-limits.js';
import { sizeAlign } from './size-align.js';
import { widthAlign } from './width-align.js';
import { NEUTRAL, type ConstraintRule, type DeviceRule, type LayoutRule, type Merge } from './rule.js';
import type { Device, FormatRule } from '../model.js';

export const RULES = [
  iommu,
  dmaBits,
  alignment,
  heaps,
  protectedMemory,
  maxWidth,
  maxHeight,
  maxPitch,
  maxSize,
  pitchAlign,
  heightAlign,
  widthAlign,
  offsetAlign,
  implicitPlanes,
  sizeAlign,
  modifiers,
  formats,
  access,
] as const satisfies readonly ConstraintRule[];

/** A device rule's name: the constraint of the atoms it makes. */
export type RuleName = (typeof RULES)[number]['name'];

/** The per-format numbers, in table order: what solver/layout.ts lays a buffer out by (with sizeAlign). */
export const LAYOUT_RULES: readonly LayoutRule[] = (RULES as readonly ConstraintRule[]).filter((r): r is LayoutRule => r.scope === 'format');
/** The per-device numbers, in table order. */
export const DEVICE_RULES: readonly DeviceRule[] = (RULES as readonly ConstraintRule[]).filter((r): r is DeviceRule => r.scope === 'device');

const BY_NAME = new Map<string, ConstraintRule>((RULES as readonly ConstraintRule[]).map((r) => [r.name, r]));

/** The rule of an atom's constraint name, if a device rule makes it (request and heap atoms have none). */
export function ruleNamed(name: string): ConstraintRule | undefined {
  return BY_NAME.get(name);
}

/**
 * A format rule's or a device's numbers, one per rule of the table, read as each rule reads them:
 * what the platform loader stores in FormatRule.values and Device.values.
 */
export function formatRuleValues(rule: FormatRule): number[] {
  return LAYOUT_RULES.map((r) => r.read(rule));
}

export function deviceValues(device: Device): number[] {
  return DEVICE_RULES.map((r) => r.read(device));
}

/** Each rule's merge as a number, by table position (MERGE_LCM...), for merges that loop over plain arrays. */
export const MERGE_LCM = 0;
export const MERGE_MIN = 1;
export const MERGE_ANY = 2;
const MERGE_CODE: Readonly<Record<Merge, number>> = { lcm: MERGE_LCM, min: MERGE_MIN, any: MERGE_ANY };
export const LAYOUT_MERGES: readonly number[] = LAYOUT_RULES.map((r) => MERGE_CODE[r.merge]);
export const DEVICE_MERGES: readonly number[] = DEVICE_RULES.map((r) => MERGE_CODE[r.merge]);

export { NEUTRAL };
export type { ConstraintRule, DeviceRule, LayoutRule, StructuralRule, Merge, Fact, AdviceContext, AtomValue } from './rule.js';
