// The rule table's numbers (constraints/rules) merged across the devices sharing a buffer: each
// format's layout rules and limits, and what every heap must give. One loop over the table serves
// the normal merge, the merge with some atoms switched off (conflict explanation) and the
// relaxation tables: a rule added to the table is merged everywhere. The loops read the numbers
// each rule read from the profile (FormatRule.values, Device.values), not the rules themselves:
// a negotiation on a platform nothing has seen merges with array reads.

import { DEVICE_MERGES, DEVICE_RULES, LAYOUT_MERGES, LAYOUT_RULES, MERGE_LCM, MERGE_MIN, NEUTRAL } from '../constraints/rules/index.js';
import type { Device, FormatRule } from '../constraints/model.js';
import { lcm } from '../util/int.js';
import type { LayoutRules } from './layout.js';

/** Each layout rule's neutral value, by table position. */
export const LAYOUT_NEUTRAL: readonly number[] = LAYOUT_RULES.map((r) => NEUTRAL[r.merge]);
/** Each device rule's neutral value, by table position. */
export const DEVICE_NEUTRAL: readonly number[] = DEVICE_RULES.map((r) => NEUTRAL[r.merge]);
const LAYOUT_LIFTED: readonly boolean[] = LAYOUT_RULES.map((r) => r.liftedBySize);
const DEVICE_LIFTED: readonly boolean[] = DEVICE_RULES.map((r) => r.liftedBySize);
const DEVICE_PHYSICAL: readonly boolean[] = DEVICE_RULES.map((r) => r.physical);

/** Which of a device's atoms hold, by table position (absent: all of them). */
export type Holds = (position: number) => boolean;

/** Positions of the layout rules that shape a layout (alignments, flags), not limits the search checks on it. */
export const LAYOUT_SHAPING: readonly number[] = LAYOUT_RULES.flatMap((r, k) => (r.merge !== 'min' ? [k] : []));
/** Positions of the device rules that shape a layout (sizeAlign). */
export const DEVICE_LAYOUT: readonly number[] = DEVICE_RULES.flatMap((r, k) => (r.target === 'layout' ? [k] : []));

/** Two values merged as a rule's merge code says (lcm() only where it changes something: it divides and checks overflow). */
function combined(merge: number, acc: number, value: number): number {
  if (merge === MERGE_LCM) return value === acc || value === 1 ? acc : acc === 1 ? value : lcm(acc, value);
  if (merge === MERGE_MIN) return value < acc ? value : acc;
  return value !== 0 ? 1 : acc;
}

/** Merges every value of a device's rule for the format into `acc` (every atom holding, the size too): compileAll()'s merge. */
export function mergeWholeFormatRule(acc: number[], rule: FormatRule): void {
  const values = rule.values;
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    const a = acc[k]!;
    if (v !== a) acc[k] = combined(LAYOUT_MERGES[k]!, a, v);
  }
}

/** Merges every value of a device's own rules into `acc` (the physical ones only when it has no IOMMU): compileAll()'s merge. */
export function mergeWholeDevice(acc: number[], device: Device): void {
  const values = device.values;
  const physical = !device.iommu;
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    const a = acc[k]!;
    if (v !== a && (physical || !DEVICE_PHYSICAL[k])) acc[k] = combined(DEVICE_MERGES[k]!, a, v);
  }
}

/** Merges a device's rule for the format into `acc` (LAYOUT_RULES positions). A relaxed size (`sized` false) lifts the size bounds. */
export function mergeFormatRule(acc: number[], rule: FormatRule, sized: boolean, holds?: Holds): void {
  const values = rule.values;
  for (let k = 0; k < values.length; k++) {
    if ((!sized && LAYOUT_LIFTED[k]) || (holds !== undefined && !holds(k))) continue;
    acc[k] = combined(LAYOUT_MERGES[k]!, acc[k]!, values[k]!);
  }
}

/** Merges a device's own rules into `acc` (DEVICE_RULES positions); the physical ones only when `physical` (no IOMMU, its atom holding). */
export function mergeDevice(acc: number[], device: Device, physical: boolean, sized: boolean, holds?: Holds): void {
  const values = device.values;
  for (let k = 0; k < values.length; k++) {
    if ((DEVICE_PHYSICAL[k] && !physical) || (!sized && DEVICE_LIFTED[k]) || (holds !== undefined && !holds(k))) continue;
    acc[k] = combined(DEVICE_MERGES[k]!, acc[k]!, values[k]!);
  }
}

/**
 * mergeFormatRule() where the atoms that hold are flags, for the rules that have atoms (the others
 * restrict nothing): `positions` in the table, `atoms` their flags' indices. The relaxation
 * tables' form, without a closure per call.
 */
export function mergeFormatRuleFlags(acc: number[], rule: FormatRule, sized: boolean, on: Uint8Array, positions: readonly number[], atoms: readonly number[]): void {
  const values = rule.values;
  for (let i = 0; i < positions.length; i++) {
    const k = positions[i]!;
    if (on[atoms[i]!] !== 1 || (!sized && LAYOUT_LIFTED[k])) continue;
    acc[k] = combined(LAYOUT_MERGES[k]!, acc[k]!, values[k]!);
  }
}

/** mergeDevice() with flags, as mergeFormatRuleFlags(). */
export function mergeDeviceFlags(acc: number[], device: Device, physical: boolean, sized: boolean, on: Uint8Array, positions: readonly number[], atoms: readonly number[]): void {
  const values = device.values;
  for (let i = 0; i < positions.length; i++) {
    const k = positions[i]!;
    if (on[atoms[i]!] !== 1 || (DEVICE_PHYSICAL[k] && !physical) || (!sized && DEVICE_LIFTED[k])) continue;
    acc[k] = combined(DEVICE_MERGES[k]!, acc[k]!, values[k]!);
  }
}

/**
 * An alignment as a small integer where it fits: the merged arrays hold doubles (limits
 * are Infinity when none), and V8 keeps an integer read from them boxed as a double in the object
 * it is stored in; the layout's `%` on doubles is then a library call, several times slower.
 */
function small(v: number): number {
  return v <= 0x3fffffff ? v | 0 : v;
}

/** A rule's position in its table, by name (a rule the layout reads must be in the table). */
function positionOf(rules: readonly { readonly name: string }[], name: string): number {
  const k = rules.findIndex((r) => r.name === name);
  if (k < 0) throw new Error(`the rule table has no rule ${name}`);
  return k;
}

/** Positions of the layout rules the layout and the search read. */
export const L = {
  pitchAlign: positionOf(LAYOUT_RULES, 'pitchAlign'),
  heightAlign: positionOf(LAYOUT_RULES, 'heightAlign'),
  widthAlign: positionOf(LAYOUT_RULES, 'widthAlign'),
  offsetAlign: positionOf(LAYOUT_RULES, 'offsetAlign'),
  implicitPlanes: positionOf(LAYOUT_RULES, 'implicitPlanes'),
  maxWidth: positionOf(LAYOUT_RULES, 'maxWidth'),
  maxHeight: positionOf(LAYOUT_RULES, 'maxHeight'),
  maxPitch: positionOf(LAYOUT_RULES, 'maxPitch'),
};
const D = {
  sizeAlign: positionOf(DEVICE_RULES, 'sizeAlign'),
  dmaBits: positionOf(DEVICE_RULES, 'dmaBits'),
  alignment: positionOf(DEVICE_RULES, 'alignment'),
  maxSize: positionOf(DEVICE_RULES, 'maxSize'),
};

/**
 * The merged layout rules of a format, from the format's and the devices' merged values: the
 * fields solver/layout.ts reads, each at its rule's position. (An object literal of small
 * integers and a flag, one shape for all: building it by rule name, or with the limits' doubles in
 * it, costs V8 several times as much in the layout and the search.)
 */
export function layoutRulesOf(f: readonly number[], d: readonly number[]): LayoutRules {
  return {
    pitchAlign: small(f[L.pitchAlign]!),
    heightAlign: small(f[L.heightAlign]!),
    widthAlign: small(f[L.widthAlign]!),
    offsetAlign: small(f[L.offsetAlign]!),
    sizeAlign: small(d[D.sizeAlign]!),
    implicitPlanes: f[L.implicitPlanes]! !== 0,
  };
}

/** The limits the search holds a format's layouts to (maxWidth, maxHeight, maxPitch; Infinity: none). */
export interface FormatLimits {
  readonly maxWidth: number;
  readonly maxHeight: number;
  readonly maxPitch: number;
}

export function formatLimitsOf(f: readonly number[]): FormatLimits {
  return { maxWidth: f[L.maxWidth]!, maxHeight: f[L.maxHeight]!, maxPitch: f[L.maxPitch]! };
}

/** What a heap must give (a DMA limit, a base alignment, a largest buffer), from the devices' merged values. */
export interface HeapLimits {
  readonly dmaLimit: number;
  readonly physAlign: number;
  readonly maxSize: number;
}

export function heapLimitsOf(d: ArrayLike<number>): HeapLimits {
  return { dmaLimit: d[D.dmaBits]!, physAlign: small(d[D.alignment]!), maxSize: d[D.maxSize]! };
}

// Every rule of the table reaches what the layout or the heap choice reads: a rule added to the
// table and to no consumer would be merged and then ignored.
{
  const carried = new Set<number>(Object.values(L));
  LAYOUT_RULES.forEach((r, k) => {
    if (!carried.has(k)) throw new Error(`layout rule ${r.name} is merged but nothing reads it (solver/merge-rules.ts layoutRulesOf)`);
  });
  const read = new Set<number>(Object.values(D));
  DEVICE_RULES.forEach((r, k) => {
    if (!read.has(k)) throw new Error(`device rule ${r.name} is merged but nothing reads it (solver/merge-rules.ts)`);
  });
}
