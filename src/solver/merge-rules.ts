// The rule table's numbers (constraints/rules) merged across the devices sharing a buffer: each
// format's layout rules and limits, and what every heap must give. One loop over the table serves
// the normal merge, the merge with some atoms switched off (conflict explanation) and the
// relaxation tables: a rule added to the table is merged everywhere.

import { combine, DEVICE_RULES, LAYOUT_RULES, NEUTRAL } from '../constraints/rules/index.js';
import type { Device, FormatRule } from '../constraints/model.js';
import type { LayoutRules } from './layout.js';

/** Each layout rule's neutral value, by table position. */
export const LAYOUT_NEUTRAL: readonly number[] = LAYOUT_RULES.map((r) => NEUTRAL[r.merge]);
/** Each device rule's neutral value, by table position. */
export const DEVICE_NEUTRAL: readonly number[] = DEVICE_RULES.map((r) => NEUTRAL[r.merge]);

/** Which of a device's atoms hold, by table position (absent: all of them). */
export type Holds = (position: number) => boolean;

/** Merges a device's rule for the format into `acc` (LAYOUT_RULES positions). A relaxed size (`sized` false) lifts the size bounds. */
export function mergeFormatRule(acc: number[], rule: FormatRule, sized: boolean, holds?: Holds): void {
  for (let k = 0; k < LAYOUT_RULES.length; k++) {
    const r = LAYOUT_RULES[k]!;
    if ((!sized && r.liftedBySize) || (holds !== undefined && !holds(k))) continue;
    acc[k] = combine(r.merge, acc[k]!, r.read(rule));
  }
}

/** Merges a device's own rules into `acc` (DEVICE_RULES positions); the physical ones only for a device without an IOMMU whose iommu atom holds. */
export function mergeDevice(acc: number[], device: Device, physical: boolean, sized: boolean, holds?: Holds): void {
  for (let k = 0; k < DEVICE_RULES.length; k++) {
    const r = DEVICE_RULES[k]!;
    if ((r.physical && !physical) || (!sized && r.liftedBySize) || (holds !== undefined && !holds(k))) continue;
    acc[k] = combine(r.merge, acc[k]!, r.read(device));
  }
}

const LAYOUT_TEMPLATE: Readonly<Record<string, number>> = {
  ...Object.fromEntries(LAYOUT_RULES.map((r) => [r.name, NEUTRAL[r.merge]])),
  ...Object.fromEntries(DEVICE_RULES.filter((r) => r.target === 'layout').map((r) => [r.field, NEUTRAL[r.merge]])),
};

/** The merged layout rules of a format, by name, from the format's and the devices' merged values. */
export function layoutRulesOf(format: readonly number[], device: readonly number[]): LayoutRules {
  // A copy of one literal keeps one object shape; only values that restrict are written.
  const out: Record<string, number> = { ...LAYOUT_TEMPLATE };
  for (let k = 0; k < LAYOUT_RULES.length; k++) if (format[k] !== LAYOUT_NEUTRAL[k]) out[LAYOUT_RULES[k]!.name] = format[k]!;
  for (let k = 0; k < DEVICE_RULES.length; k++) {
    const r = DEVICE_RULES[k]!;
    if (r.target === 'layout' && device[k] !== DEVICE_NEUTRAL[k]) out[r.field] = device[k]!;
  }
  return out as unknown as LayoutRules;
}

/** What a heap must give (a DMA limit, a base alignment, a largest buffer), from the devices' merged values. */
export interface HeapLimits {
  readonly dmaLimit: number;
  readonly physAlign: number;
  readonly maxSize: number;
}

export function heapLimitsOf(device: readonly number[]): HeapLimits {
  const out: Record<string, number> = {};
  for (let k = 0; k < DEVICE_RULES.length; k++) {
    const r = DEVICE_RULES[k]!;
    if (r.target === 'heap') out[r.field] = device[k]!;
  }
  return out as unknown as HeapLimits;
}

/**
 * mergeFormatRule() where the atoms that hold are flags (`on[atoms[k]] === 1`, an index -1 for a
 * rule without an atom reading as not holding): the relaxation tables' form, without a closure per call.
 */
export function mergeFormatRuleFlags(acc: number[], rule: FormatRule, sized: boolean, on: Uint8Array, atoms: readonly number[]): void {
  for (let k = 0; k < LAYOUT_RULES.length; k++) {
    const r = LAYOUT_RULES[k]!;
    if ((!sized && r.liftedBySize) || on[atoms[k]!] !== 1) continue;
    acc[k] = combine(r.merge, acc[k]!, r.read(rule));
  }
}

/** mergeDevice() with flags, as mergeFormatRuleFlags(). */
export function mergeDeviceFlags(acc: number[], device: Device, physical: boolean, sized: boolean, on: Uint8Array, atoms: readonly number[]): void {
  for (let k = 0; k < DEVICE_RULES.length; k++) {
    const r = DEVICE_RULES[k]!;
    if ((r.physical && !physical) || (!sized && r.liftedBySize) || on[atoms[k]!] !== 1) continue;
    acc[k] = combine(r.merge, acc[k]!, r.read(device));
  }
}
