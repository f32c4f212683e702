// "Why this and not that": for each format the request accepts, whether it was chosen, possible or
// excluded and by which device; for each heap, the same for the buffer as laid out in the chosen (or
// first workable) format. Heap reasons come from the independent checker (verify.ts), so they name
// the device and the rule, e.g. "display: no IOMMU, heap system not contiguous".

import type { FormatInfo } from '../constraints/formats.js';
import { accessCovers, modifierAccessOf, modifiersFor, type Device, type Platform, type Request } from '../constraints/model.js';
import { modifierAppliesTo, shortModifierName, type ModifierInfo } from '../constraints/modifiers.js';
import { LAYOUT_RULES } from '../constraints/rules/index.js';
import { computeLayout } from './layout.js';
import type { Negotiation } from './negotiate.js';
import { prepare, type PreparedPlatform } from './prepared.js';
import { compile, type FormatCandidate } from './problem.js';
import { placedAlignment, sizeForAlignment, type Placement } from './solve.js';
import { violations } from './verify.js';

export type Verdict = 'chosen' | 'possible' | 'excluded';

export interface FormatVerdict {
  readonly format: string;
  readonly verdict: Verdict;
  /** Why it is excluded (empty otherwise). */
  readonly reasons: readonly string[];
}

export interface ModifierVerdict {
  readonly modifier: string;
  readonly verdict: Verdict;
  /** Why it is excluded, or why a possible one ranks below the chosen one. */
  readonly reasons: readonly string[];
}

export interface HeapVerdict {
  readonly heap: string;
  readonly verdict: Verdict;
  /** Bytes per buffer this heap would need (padded for alignment where the heap pads). */
  readonly size: number;
  readonly reasons: readonly string[];
}

export interface ChoiceExplanation {
  readonly formats: readonly FormatVerdict[];
  /**
   * For the format the heaps are judged in: every modifier some device lists for it, in the first
   * device's order, chosen, possible or excluded (and why). Empty when no format passes every device.
   */
  readonly modifiers: readonly ModifierVerdict[];
  /** The format the modifier verdicts are about (the heaps' format, else the first every device lists). */
  readonly modifiersOf: string | undefined;
  /** The layout the heap verdicts are about; absent when no format passes every device. */
  readonly layout: { readonly format: string; readonly modifier: string; readonly size: number; readonly count: number } | undefined;
  readonly heaps: readonly HeapVerdict[];
}

/** Modifiers every device takes for the format, as the request uses it (before any layout model). */
function sharedModifiers(format: FormatInfo, devices: readonly Device[], request: Request): ModifierInfo[] | undefined {
  let common: ModifierInfo[] | undefined;
  for (const d of devices) {
    const list = modifiersFor(d.formats.get(format.name)!, request.access.get(d.name));
    common = common ? common.filter((m) => list.includes(m)) : [...list];
  }
  return common?.filter((m) => modifierAppliesTo(m, format));
}

/** Device-level reasons a format cannot be used, in request device order; empty when none. */
function formatReasons(format: FormatInfo, devices: readonly Device[], request: Request): string[] {
  const reasons: string[] = [];
  for (const d of devices) {
    const rule = d.formats.get(format.name);
    if (!rule) {
      reasons.push(`${d.name} does not list ${format.name}`);
      continue;
    }
    const need = request.access.get(d.name);
    if (need !== undefined && !accessCovers(rule.access, need)) reasons.push(`${d.name} can only ${rule.access === 'read' ? 'read' : 'write'} ${format.name}, the request has it ${need}`);
    for (const r of LAYOUT_RULES) {
      const why = r.sizeBound?.exceeded(rule, request.width, request.height);
      if (why !== undefined) reasons.push(`${d.name} ${why}`);
    }
  }
  const shared = reasons.length === 0 ? sharedModifiers(format, devices, request) : undefined;
  const opaque = shared?.filter((m) => m.layout.kind === 'opaque') ?? [];
  if (shared && shared.length > 0 && shared.length === opaque.length) {
    // They do share a layout, but not one udalloc can size: say why, not "nothing in common".
    reasons.push(`every device takes ${opaque.map((m) => shortModifierName(m)).join(', ')}, but udalloc cannot lay that out (${opaque.map((m) => (m.layout.kind === 'opaque' ? m.layout.why : '')).join('; ')})`);
  } else if (shared && shared.length === 0) {
    const lists = devices.map((d) => {
      const rule = d.formats.get(format.name)!;
      return `${d.name}: ${rule.modifiers.map((m) => (rule.modifierAccess.has(m) ? `${shortModifierName(m)} (${modifierAccessOf(rule, m)} only)` : shortModifierName(m))).join(', ')}`;
    });
    reasons.push(`no modifier every device supports (${lists.join('; ')})`);
  }
  return reasons;
}

/** Each device's place for a modifier in its list ("camera #2"), for a rank's reason. */
function places(modifier: ModifierInfo, format: FormatInfo, devices: readonly Device[]): string {
  return devices.map((d) => `${d.name} #${d.formats.get(format.name)!.modifiers.indexOf(modifier) + 1}`).join(', ');
}

/**
 * Verdicts on the modifiers of the candidate format: those some device lists (the first device's
 * first), excluded when a device lacks it for the stated use or udalloc cannot lay it out; the
 * possible ones say why they rank below the chosen one (their places in the devices' lists).
 */
function modifierVerdicts(format: FormatInfo, candidate: FormatCandidate | undefined, devices: readonly Device[], request: Request, plans: readonly Placement[], chosen: ModifierInfo | undefined): ModifierVerdict[] {
  const listed: ModifierInfo[] = [];
  for (const d of devices) for (const m of d.formats.get(format.name)!.modifiers) if (!listed.includes(m)) listed.push(m);
  const best = chosen ?? candidate?.modifiers[0]?.modifier;
  const rankOf = (m: ModifierInfo) => candidate?.modifiers.find((c) => c.modifier === m)?.rank;
  return listed.map((m): ModifierVerdict => {
    const name = shortModifierName(m);
    if (m === chosen) return { modifier: name, verdict: 'chosen', reasons: [] };
    const reasons: string[] = [];
    for (const d of devices) {
      const rule = d.formats.get(format.name)!;
      const need = request.access.get(d.name);
      if (!rule.modifiers.includes(m)) reasons.push(`${d.name} does not take ${format.name} as ${name}`);
      else if (!modifiersFor(rule, need).includes(m)) reasons.push(`${d.name} can only ${modifierAccessOf(rule, m)} ${format.name} as ${name}, the request has it ${need}`);
    }
    if (reasons.length === 0 && !modifierAppliesTo(m, format)) reasons.push(`not defined for ${format.name}`);
    if (reasons.length === 0 && m.layout.kind === 'opaque') reasons.push(`udalloc cannot lay it out (${m.layout.why})`);
    if (reasons.length > 0) return { modifier: name, verdict: 'excluded', reasons };
    if (chosen !== undefined && !plans.some((p) => p.format === format && p.modifier === m)) return { modifier: name, verdict: 'excluded', reasons: ['laid out, but no heap qualifies for it'] };
    const rank = rankOf(m);
    const bestRank = best !== undefined ? rankOf(best) : undefined;
    // Ranked by the sum of its places in the devices' lists (0: everyone's first choice).
    const why = best !== undefined && rank !== undefined && bestRank !== undefined && best !== m ? [`ranks after ${shortModifierName(best)}: places ${places(m, format, devices)} against ${places(best, format, devices)}`] : [];
    return { modifier: name, verdict: 'possible', reasons: why };
  });
}

/** Explains the negotiation's choices; `result` is negotiate()'s answer for the same request. */
export function explainChoices(on: Platform | PreparedPlatform, request: Request, result: Negotiation): ChoiceExplanation {
  const prepared = prepare(on);
  const platform = prepared.platform;
  const devices = request.devices.map((n) => platform.devices.find((d) => d.name === n)!);
  const plans: readonly Placement[] = result.ok ? [result.plan, ...result.alternatives] : [];
  const reasonsOf = new Map(request.formats.map((f) => [f, formatReasons(f, devices, request)]));
  const formats = request.formats.map((format): FormatVerdict => {
    if (result.ok && result.plan.format === format) return { format: format.name, verdict: 'chosen', reasons: [] };
    const reasons = reasonsOf.get(format)!;
    if (reasons.length > 0) return { format: format.name, verdict: 'excluded', reasons };
    if (plans.some((p) => p.format === format)) return { format: format.name, verdict: 'possible', reasons: [] };
    return { format: format.name, verdict: 'excluded', reasons: ['laid out, but no heap qualifies for it'] };
  });

  // The heaps are judged for the chosen layout, or for the first format every device accepts.
  const problem = compile(prepared.shapes, request);
  const reference = result.ok ? result.plan.format : request.formats.find((f) => reasonsOf.get(f)!.length === 0);
  let candidate: FormatCandidate | undefined;
  for (const c of problem.candidates) {
    if (c.format !== reference) continue;
    candidate = c;
    break;
  }
  const modifier = result.ok ? result.plan.modifier : candidate?.modifiers[0]?.modifier;
  const layout = candidate && modifier ? computeLayout(candidate.format, modifier, request.width, request.height, candidate.rules) : undefined;
  // The modifiers are judged for the same format, or for the first every device lists at all.
  const judged = candidate?.format ?? request.formats.find((f) => devices.every((d) => d.formats.has(f.name)));
  const modifiers = judged ? modifierVerdicts(judged, candidate, devices, request, plans, result.ok ? result.plan.modifier : undefined) : [];
  if (!candidate || !modifier || !layout) return { formats, modifiers, modifiersOf: judged?.name, layout: undefined, heaps: [] };

  const heaps = platform.heaps.map((heap): HeapVerdict => {
    const buffers = layout.buffers?.map((b) => sizeForAlignment(heap, b, problem.heap.physAlign) ?? b);
    const size = buffers ? buffers.reduce((a, b) => a + b, 0) : (sizeForAlignment(heap, layout.size, problem.heap.physAlign) ?? layout.size);
    const placement: Placement = { heap, format: candidate.format, modifier, planes: layout.planes, size, buffers, used: layout.used, alignment: placedAlignment(heap, size, buffers), count: request.count, rank: [] };
    const reasons = violations(platform, request, placement);
    if (result.ok && result.plan.heap === heap) return { heap: heap.name, verdict: 'chosen', size, reasons: [] };
    return { heap: heap.name, verdict: reasons.length > 0 ? 'excluded' : 'possible', size, reasons };
  });
  return { formats, modifiers, modifiersOf: judged?.name, layout: { format: candidate.format.name, modifier: shortModifierName(modifier), size: layout.size, count: request.count }, heaps };
}
