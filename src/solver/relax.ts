// Feasibility of a relaxed negotiation, for conflict explanation: is there any plan when only the
// flagged atoms hold? Explaining a conflict asks this from ten to a few dozen times (core,
// correction sets), so the question is answered over tables compiled once per platform and request
// shape: each atom's position, each device's modifiers per format as a bit mask (one bit per known
// modifier), each device's reachable heaps as a mask. A check merges the active atoms with integer
// math, intersects masks, skips formats too large for every eligible heap without a layout, and
// stops at the first (format, modifier, heap) that takes the buffer; layouts are computed once per
// rule set and remembered for the rest of the explanation.
//
// The meaning is exactly compile() with an active set followed by search() with limit 1 (problem.ts,
// solve.ts): a property test holds the two equal on random platforms and random active sets.

import { FORMATS, rowBytesOf, type FormatInfo } from '../constraints/formats.js';
import { accessCovers, modifiersFor, type Device, type FormatRule, type Heap, type Platform, type Request } from '../constraints/model.js';
import { MODIFIERS, modifierAppliesTo, type ModifierInfo } from '../constraints/modifiers.js';
import { alignUp } from '../util/int.js';
import { DEVICE_RULES, LAYOUT_RULES } from '../constraints/rules/index.js';
import { DEVICE_LAYOUT, DEVICE_NEUTRAL, heapLimitsOf, L, LAYOUT_NEUTRAL, LAYOUT_SHAPING, layoutRulesOf, mergeDeviceFlags, mergeFormatRuleFlags } from './merge-rules.js';
import type { Atom } from './atoms.js';
import type { Feasible } from './minimal-sets.js';
import { computeLayout, type LayoutRules } from './layout.js';
import type { ShapeTemplate } from './problem.js';
import { framesInHeap, sizeInHeap, type CapacityOf } from './solve.js';

/** The rules of a table that have atoms: their positions in the table, and their atoms. */
interface AtomsOfRules {
  readonly positions: readonly number[];
  readonly atoms: readonly AtomIndex[];
}

function atomsOfRules(byPosition: readonly AtomIndex[]): AtomsOfRules {
  const positions: number[] = [];
  const atoms: AtomIndex[] = [];
  byPosition.forEach((atom, k) => {
    if (atom < 0) return;
    positions.push(k);
    atoms.push(atom);
  });
  return { positions, atoms };
}

/** -1: the constraint has no atom (it restricts nothing, as compile() treats a missing atom). */
type AtomIndex = number;

interface DeviceTable {
  readonly device: Device;
  readonly shared: AtomIndex;
  readonly formats: AtomIndex;
  readonly iommu: AtomIndex;
  readonly heaps: AtomIndex;
  readonly protected: AtomIndex;
  /** The device's atoms of DEVICE_RULES: their table positions and atom indices (rules that restrict nothing have none). */
  readonly rules: AtomsOfRules;
  /** The platform heaps its `heaps` list names, one bit each. */
  readonly heapMask: number;
}

interface RuleTable {
  readonly device: number;
  readonly rule: FormatRule;
  /** The rule allows the use the request states for the device (or states none). */
  readonly allowsUse: boolean;
  readonly access: AtomIndex;
  readonly modifiers: AtomIndex;
  /** The rule's atoms of LAYOUT_RULES, as DeviceTable.rules. */
  readonly layout: AtomsOfRules;
  /** Every modifier the rule lists; those it allows for the stated use. */
  readonly all: number;
  readonly forUse: number;
}

interface FormatTable {
  readonly format: FormatInfo;
  /** Position in FORMATS (a layout cache key part). */
  readonly index: number;
  readonly rules: readonly RuleTable[];
  /** The rule of each request device (by position), if it has one. */
  readonly ruleOf: readonly (RuleTable | undefined)[];
  /** Modifiers defined for the format that have a plannable layout. */
  readonly plannable: number;
}

interface HeapTable {
  readonly heap: Heap;
  readonly capacity: AtomIndex;
  readonly placement: AtomIndex;
}

/** The feasibility tables of one request shape (kept by its ShapeTemplate). */
export interface RelaxTables {
  readonly devices: readonly DeviceTable[];
  readonly heaps: readonly HeapTable[];
  /** The request's formats; other formats some request device lists; formats none lists. */
  readonly requested: readonly FormatTable[];
  readonly listed: readonly FormatTable[];
  readonly unlisted: readonly FormatTable[];
  readonly requestFormats: AtomIndex;
  readonly size: AtomIndex;
  readonly count: AtomIndex;
  readonly cpu: AtomIndex;
  readonly protected: AtomIndex;
}

const MODIFIER_BIT = new Map<ModifierInfo, number>(MODIFIERS.map((m, i) => [m, i]));
const FORMAT_INDEX = new Map<FormatInfo, number>(FORMATS.map((f, i) => [f, i]));

/** Tables need every modifier to have a bit and every format a position; else the reference path answers. */
const MASKABLE = MODIFIERS.length <= 32;

function maskOf(modifiers: readonly ModifierInfo[]): number | undefined {
  let mask = 0;
  for (const m of modifiers) {
    const bit = MODIFIER_BIT.get(m);
    if (bit === undefined) return undefined;
    mask |= 1 << bit;
  }
  return mask;
}

function buildTables(platform: Platform, request: Request, template: ShapeTemplate): RelaxTables | undefined {
  if (!MASKABLE) return undefined;
  const where = template.positions;
  const of = (device: string, constraint: string, format = ''): AtomIndex => where.device.get(device)?.get(constraint)?.get(format) ?? -1;
  const ofRequest = (constraint: Atom['constraint']): AtomIndex => where.request.get(constraint) ?? -1;
  const ofHeap = (heap: string, constraint: Atom['constraint']): AtomIndex => where.heap.get(heap)?.get(constraint) ?? -1;
  const devices = request.devices.map((name): DeviceTable => {
    const device = platform.devices.find((d) => d.name === name)!;
    let heapMask = 0;
    platform.heaps.forEach((h, k) => {
      if (device.heaps?.includes(h.name)) heapMask |= 1 << k;
    });
    return {
      device,
      shared: of(name, 'shared'),
      formats: of(name, 'formats'),
      iommu: of(name, 'iommu'),
      heaps: of(name, 'heaps'),
      protected: of(name, 'protected'),
      rules: atomsOfRules(DEVICE_RULES.map((r) => of(name, r.name))),
      heapMask,
    };
  });
  if (platform.heaps.length > 31) return undefined;
  const formatTable = (format: FormatInfo): FormatTable | undefined => {
    const ruleOf: (RuleTable | undefined)[] = [];
    const rules: RuleTable[] = [];
    for (let i = 0; i < devices.length; i++) {
      const { device } = devices[i]!;
      const rule = device.formats.get(format.name);
      if (!rule) {
        ruleOf.push(undefined);
        continue;
      }
      const need = request.access.get(device.name);
      const all = maskOf(rule.modifiers);
      const forUse = maskOf(modifiersFor(rule, need));
      if (all === undefined || forUse === undefined) return undefined;
      const f = format.name;
      const table: RuleTable = {
        device: i,
        rule,
        allowsUse: need === undefined || accessCovers(rule.access, need),
        access: of(device.name, 'access', f),
        modifiers: of(device.name, 'modifiers', f),
        layout: atomsOfRules(LAYOUT_RULES.map((r) => of(device.name, r.name, f))),
        all,
        forUse,
      };
      ruleOf.push(table);
      rules.push(table);
    }
    let plannable = 0;
    MODIFIERS.forEach((m, bit) => {
      if (modifierAppliesTo(m, format) && m.layout.kind !== 'opaque') plannable |= 1 << bit;
    });
    return { format, index: FORMAT_INDEX.get(format) ?? -1, rules, ruleOf, plannable };
  };
  const requested: FormatTable[] = [];
  for (const f of request.formats) {
    const t = formatTable(f);
    if (!t || t.index < 0) return undefined;
    requested.push(t);
  }
  const listed: FormatTable[] = [];
  const unlisted: FormatTable[] = [];
  for (const f of FORMATS) {
    if (request.formats.includes(f)) continue;
    const t = formatTable(f);
    if (!t) return undefined;
    (t.rules.length > 0 ? listed : unlisted).push(t);
  }
  return {
    devices,
    heaps: platform.heaps.map((heap) => ({ heap, capacity: ofHeap(heap.name, 'capacity'), placement: ofHeap(heap.name, 'placement') })),
    requested,
    listed,
    unlisted,
    requestFormats: ofRequest('formats'),
    size: ofRequest('size'),
    count: ofRequest('count'),
    cpu: ofRequest('cpu'),
    protected: ofRequest('protected'),
  };
}

interface LayoutOutcome {
  readonly size: number;
  /** A multi-planar format's buffers (one per plane); undefined: one buffer. */
  readonly buffers: readonly number[] | undefined;
  /** The widest plane's pitch. */
  readonly pitch: number;
}

/**
 * A feasibility check over the tables of the request's shape (`template`: atomTemplate() of the
 * platform and request; flags are by the ids of its atoms), or undefined when the platform has what
 * the tables cannot express (a modifier outside the known list): the caller then asks compile() and
 * search().
 */
export function relaxation(platform: Platform, request: Request, template: ShapeTemplate, capacityOf?: CapacityOf): Feasible | undefined {
  // Built once per template, which its shape keeps.
  if (template.relax === undefined) template.relax = buildTables(platform, request, template) ?? null;
  const tables = template.relax;
  if (!tables) return undefined;
  const relaxed = new Relaxed(tables, request, capacityOf);
  return (on) => relaxed.feasible(on);
}

/**
 * Whether an atom holds: its flag is 1. A constraint without an atom (-1) does not hold; it is
 * tested before it would index the flags (V8 reads a negative typed-array index as a named
 * property, a slow lookup on every check).
 */
function holds(on: Uint8Array, atom: AtomIndex): boolean {
  return atom >= 0 && on[atom] === 1;
}

/** Feasibility checks over one shape's tables (flags read through holds()). */
class Relaxed {
  private readonly inBuffer: number[];
  private readonly free: (number | undefined)[];
  // Layouts met so far in this explanation, by rule set, modifier and format.
  private readonly ruleSets: number[] = [];
  private readonly ruleObjects: LayoutRules[] = [];
  /** The devices' merged rules (DEVICE_RULES positions), and a format's (LAYOUT_RULES positions), reused. */
  private readonly deviceValues: number[] = DEVICE_NEUTRAL.slice();
  private readonly formatValues: number[] = LAYOUT_NEUTRAL.slice();
  private readonly layouts = new Map<number, LayoutOutcome | null>();
  // What the devices in the buffer ask of every layout, merged by feasible() for takes().
  private width = 0;
  private height = 0;
  private sized = false;
  private count = 1;
  private physAlign = 1;
  private maxSize = Infinity;
  private eligible = 0;
  /** No eligible heap takes a buffer of more bytes than this (see feasible()). */
  private largestTaken = Infinity;

  constructor(
    private readonly t: RelaxTables,
    private readonly request: Request,
    capacityOf: CapacityOf | undefined,
  ) {
    this.inBuffer = new Array<number>(t.devices.length).fill(0);
    this.free = capacityOf ? t.heaps.map(({ heap }) => capacityOf(heap)) : t.heaps.map(() => undefined);
  }

  feasible(on: Uint8Array): boolean {
    const { t, request, inBuffer } = this;
    const devices = t.devices;
    // The request: a relaxed size stands for "some smaller size" (1x1), a relaxed count for one buffer.
    const sized = holds(on, t.size);
    this.sized = sized;
    this.width = sized ? request.width : 1;
    this.height = sized ? request.height : 1;
    this.count = request.count > 1 && !holds(on, t.count) ? 1 : request.count;

    // Devices in the shared buffer, and what they ask of a heap.
    let contiguous = false;
    let reach = -1;
    let needSecure = request.protected && holds(on, t.protected);
    let forbidSecure = !request.protected && holds(on, t.protected);
    let anyFormatsHold = false;
    const values = this.deviceValues;
    for (let k = 0; k < values.length; k++) values[k] = DEVICE_NEUTRAL[k]!;
    for (let i = 0; i < devices.length; i++) {
      const d = devices[i]!;
      if (i > 0 && !holds(on, d.shared)) {
        inBuffer[i] = 0;
        continue;
      }
      inBuffer[i] = 1;
      const device = d.device;
      if (holds(on, d.formats)) anyFormatsHold = true;
      const physical = !device.iommu && holds(on, d.iommu);
      if (physical) contiguous = true;
      mergeDeviceFlags(values, device, physical, sized, on, d.rules.positions, d.rules.atoms);
      if (device.heaps && holds(on, d.heaps)) reach &= d.heapMask;
      if (holds(on, d.protected)) {
        if (device.protected === 'required') needSecure = true;
        else if (device.protected === 'forbidden') forbidSecure = true;
      }
    }
    const { dmaLimit, physAlign, maxSize } = heapLimitsOf(values);
    const needCpu = holds(on, t.cpu) && request.cpu !== 'none';

    // Heaps that pass every check not depending on the buffer's size (problem.ts eligibleHeaps()).
    let eligible = 0;
    for (let k = 0; k < t.heaps.length; k++) {
      const { heap, placement } = t.heaps[k]!;
      if ((reach & (1 << k)) === 0) continue;
      if (contiguous && !heap.contiguous) continue;
      if (heap.end > dmaLimit && !(placement >= 0 && on[placement] === 0)) continue;
      if (needSecure && !heap.secure) continue;
      if (forbidSecure && heap.secure) continue;
      if (needCpu && !heap.cpuAccess) continue;
      eligible |= 1 << k;
    }
    if (eligible === 0) return false;
    this.eligible = eligible;
    // An upper bound on the bytes any eligible heap can take per buffer: padding only adds bytes,
    // and holding `count` buffers takes at least `count` times the size (capacity, free space). A
    // format whose least possible size is above it needs no layout worked out (takes()).
    let largestTaken = 0;
    for (let k = 0; k < t.heaps.length; k++) {
      if ((eligible & (1 << k)) === 0) continue;
      const { heap, capacity } = t.heaps[k]!;
      let most = maxSize;
      if (holds(on, capacity)) {
        most = Math.min(most, heap.maxBuffer, heap.size / this.count);
        const free = this.free[k];
        if (free !== undefined) most = Math.min(most, free / this.count);
      }
      largestTaken = Math.max(largestTaken, most);
    }
    this.largestTaken = largestTaken;
    this.physAlign = physAlign;
    this.maxSize = maxSize;

    for (const ft of t.requested) if (this.takes(ft, on)) return true;
    if (holds(on, t.requestFormats)) return false;
    for (const ft of t.listed) if (this.takes(ft, on)) return true;
    // A format no request device lists passes only when no device's format list holds.
    if (anyFormatsHold) return false;
    for (const ft of t.unlisted) if (this.takes(ft, on)) return true;
    return false;
  }

  /** Whether some modifier of the format lays out and some eligible heap takes the buffer. */
  private takes(ft: FormatTable, on: Uint8Array): boolean {
    const { inBuffer, sized } = this;
    const devices = this.t.devices;
    // Every device whose format list holds must list the format for the use the request states.
    for (let i = 0; i < devices.length; i++) {
      if (inBuffer[i] === 0 || !holds(on, devices[i]!.formats)) continue;
      const r = ft.ruleOf[i];
      if (!r || (!r.allowsUse && holds(on, r.access))) return false;
    }
    let restricted = false;
    let common = 0;
    const values = this.formatValues;
    for (let k = 0; k < values.length; k++) values[k] = LAYOUT_NEUTRAL[k]!;
    for (const r of ft.rules) {
      if (inBuffer[r.device] === 0) continue;
      if (holds(on, r.modifiers)) {
        const offered = holds(on, r.access) ? r.forUse : r.all;
        common = restricted ? common & offered : offered;
        restricted = true;
      }
      mergeFormatRuleFlags(values, r.rule, sized, on, r.layout.positions, r.layout.atoms);
    }
    // Every layout holds at least the luma plane's pixels (layout.ts: whole chroma samples, pitch
    // and rows only grow, AFBC and SAND pad): too many bytes for every heap, no layout can do.
    const format = ft.format;
    if (rowBytesOf(format.planes[0]!, alignUp(this.width, format.hsub)) * alignUp(this.height, format.vsub) > this.largestTaken) return false;
    let modifiers = (restricted ? common : -1) & ft.plannable;
    if (modifiers === 0) return false;
    // Limits are checked here; the rule set (the layouts' cache key) holds only what shapes a layout.
    if (this.width > values[L.maxWidth]! || this.height > values[L.maxHeight]!) return false;
    const maxPitch = values[L.maxPitch]!;
    const ruleSet = this.ruleSetOf(values);
    const heaps = this.t.heaps;
    while (modifiers !== 0) {
      const low = modifiers & -modifiers;
      modifiers ^= low;
      const layout = this.layoutOf(ft, 31 - Math.clz32(low), ruleSet);
      if (layout === null || layout.pitch > maxPitch) continue;
      for (let k = 0; k < heaps.length; k++) {
        if ((this.eligible & (1 << k)) === 0) continue;
        const { heap, capacity } = heaps[k]!;
        const count = holds(on, capacity) ? this.count : undefined;
        if (layout.buffers === undefined ? sizeInHeap(heap, layout.size, this.physAlign, this.maxSize, count, this.free[k]) !== undefined : framesInHeap(heap, layout.buffers, this.physAlign, this.maxSize, count, this.free[k]) !== undefined) return true;
      }
    }
    return false;
  }

  /** The position of a merged rule set (what shapes a layout, the devices' layout rules, whether the size holds) among those met. */
  private ruleSetOf(values: readonly number[]): number {
    const { ruleSets, deviceValues } = this;
    const width = LAYOUT_SHAPING.length + DEVICE_LAYOUT.length + 1;
    const sized = this.sized ? 1 : 0;
    sets: for (let i = 0; i < ruleSets.length; i += width) {
      for (let j = 0; j < LAYOUT_SHAPING.length; j++) if (ruleSets[i + j] !== values[LAYOUT_SHAPING[j]!]) continue sets;
      for (let j = 0; j < DEVICE_LAYOUT.length; j++) if (ruleSets[i + LAYOUT_SHAPING.length + j] !== deviceValues[DEVICE_LAYOUT[j]!]) continue sets;
      if (ruleSets[i + width - 1] === sized) return i / width;
    }
    for (const k of LAYOUT_SHAPING) ruleSets.push(values[k]!);
    for (const k of DEVICE_LAYOUT) ruleSets.push(deviceValues[k]!);
    ruleSets.push(sized);
    this.ruleObjects.push(layoutRulesOf(values, deviceValues));
    return this.ruleObjects.length - 1;
  }

  private layoutOf(ft: FormatTable, bit: number, ruleSet: number): LayoutOutcome | null {
    const key = (ruleSet * 32 + bit) * FORMATS.length + ft.index;
    let outcome = this.layouts.get(key);
    if (outcome === undefined) {
      // The rule set records whether the size holds: its layouts are of the request's size or 1x1.
      const layout = computeLayout(ft.format, MODIFIERS[bit]!, this.width, this.height, this.ruleObjects[ruleSet]!);
      let pitch = 0;
      if (layout) for (const plane of layout.planes) pitch = Math.max(pitch, plane.pitch);
      outcome = layout ? { size: layout.size, buffers: layout.buffers, pitch } : null;
      this.layouts.set(key, outcome);
    }
    return outcome;
  }
}
