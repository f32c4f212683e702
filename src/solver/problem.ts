// Compiles the active atoms of a negotiation into one merged problem: candidate formats and
// modifiers in joint preference order with their merged layout rules, and the requirements a heap
// must meet. Inactive atoms are ignored, which is how conflict explanation relaxes constraints.

import { FORMATS, type FormatInfo } from '../constraints/formats.js';
import { intersectOrdered } from '../constraints/merge.js';
import { DEVICE_RULES, LAYOUT_RULES } from '../constraints/rules/index.js';
import { accessCovers, modifiersFor, type Device, type FormatRule, type Heap, type Platform, type Request } from '../constraints/model.js';
import { MODIFIERS, modifierAppliesTo, type ModifierInfo } from '../constraints/modifiers.js';
import { HEAP_KINDS } from '../constraints/heap-kinds/index.js';
import type { Atom } from './atoms.js';
import type { LayoutRules } from './layout.js';
import { DEVICE_NEUTRAL, formatLimitsOf, heapLimitsOf, LAYOUT_NEUTRAL, layoutRulesOf, mergeDevice, mergeFormatRule, mergeWholeDevice, mergeWholeFormatRule } from './merge-rules.js';
import type { RelaxTables } from './relax.js';

export interface ModifierCandidate {
  readonly modifier: ModifierInfo;
  /** Sum over devices of the modifier's position in their lists: 0 is everyone's first choice. */
  readonly rank: number;
}

export interface FormatCandidate {
  readonly format: FormatInfo;
  readonly rank: number;
  readonly modifiers: readonly ModifierCandidate[];
  /** The devices' rules for the format merged. */
  readonly rules: LayoutRules;
  readonly maxWidth: number;
  readonly maxHeight: number;
  /** Largest pitch any plane may have (the devices' maxPitch). */
  readonly maxPitch: number;
}

export interface HeapRequirements {
  readonly contiguous: boolean;
  /** Exclusive upper bound of physical addresses every non-IOMMU device can reach. */
  readonly dmaLimit: number;
  /** Physical base alignment required by non-IOMMU devices. */
  readonly physAlign: number;
  /** Heaps every device can reach, or undefined for no restriction. */
  readonly reachable: readonly string[] | undefined;
  readonly maxSize: number;
  /** Only secure heaps (a protected buffer). */
  readonly needSecure: boolean;
  /** No secure heaps (an unprotected buffer, or a device that cannot use protected memory). */
  readonly forbidSecure: boolean;
  readonly needCpu: boolean;
  /** Heaps whose capacity counts (capacity atoms active); undefined: every heap's. */
  readonly capacityLimited: ReadonlySet<string> | undefined;
  /** Pools whose placement is relaxed: they could be moved below any DMA limit. */
  readonly movable: ReadonlySet<string>;
}

export interface Problem {
  readonly width: number;
  readonly height: number;
  readonly count: number;
  /** Computed lazily, best first: the search usually stops after the first few formats. */
  readonly candidates: Iterable<FormatCandidate>;
  readonly heap: HeapRequirements;
  /** Soft preference: best position of each heap in the devices' preferredHeaps lists. */
  readonly preferredHeapRank: ReadonlyMap<string, number>;
  /**
   * For a compiled shape: the heaps that pass every check that does not depend on the buffer's
   * size (reach, contiguity, DMA limit, security, CPU access), in platform order with their
   * preference rank; the search then checks only alignment padding, size limits and capacity.
   */
  readonly eligible?: readonly EligibleHeap[];
}

export interface EligibleHeap {
  readonly heap: Heap;
  readonly index: number;
  readonly preference: number;
}

/** Which atoms are switched on. Callers check that the underlying constraint exists; this only filters. */
interface ActiveSet {
  device(device: string, constraint: string, format?: string): boolean;
  request(constraint: Atom['constraint']): boolean;
  heap(heap: string, constraint: 'capacity' | 'placement'): boolean;
}

/** The normal negotiation: every constraint holds, no atoms need to be built. */
const ALL_ACTIVE: ActiveSet = { device: () => true, request: () => true, heap: () => true };
const NOTHING: ReadonlySet<string> = new Set();

/** Where each atom sits, by owner and constraint (and format), built once per atom list. */
export interface AtomPositions {
  readonly device: Map<string, Map<string, Map<string, number>>>;
  readonly request: Map<string, number>;
  readonly heap: Map<string, Map<string, number>>;
}

/** Where each atom of a list sits (a shape's template keeps its own: see ShapeTemplate). */
export function atomPositions(atoms: readonly Atom[]): AtomPositions {
  const index: AtomPositions = { device: new Map(), request: new Map(), heap: new Map() };
  atoms.forEach((a, i) => {
    if (a.request) index.request.set(a.constraint, i);
    else if (a.device !== undefined) {
      let byConstraint = index.device.get(a.device);
      if (!byConstraint) index.device.set(a.device, (byConstraint = new Map()));
      let byFormat = byConstraint.get(a.constraint);
      if (!byFormat) byConstraint.set(a.constraint, (byFormat = new Map()));
      byFormat.set(a.format ?? '', i);
    } else if (a.heap !== undefined) {
      let byConstraint = index.heap.get(a.heap);
      if (!byConstraint) index.heap.set(a.heap, (byConstraint = new Map()));
      byConstraint.set(a.constraint, i);
    }
  });
  return index;
}

/**
 * The atoms of a request shape (atoms.ts atomTemplate()) with what is worked out from them once:
 * their positions, the conflict explainer's feasibility tables (relax.ts), and the candidate
 * format lists compile() starts from. Owned by the shape, which its prepared platform owns.
 */
export interface ShapeTemplate {
  readonly atoms: readonly Atom[];
  readonly positions: AtomPositions;
  /** relax.ts's tables; null when the platform has what they cannot express. */
  relax?: RelaxTables | null;
  readonly bases: Map<string, ReadonlyArray<readonly [number, FormatInfo]>>;
}

/** A subset of atoms, for conflict explanation: one flag per atom, found through the atom index. */
class ActiveAtoms implements ActiveSet {
  private readonly index: AtomPositions;
  private readonly on: Uint8Array;
  constructor(atoms: readonly Atom[], index: AtomPositions, active: (atom: Atom) => boolean) {
    this.index = index;
    this.on = new Uint8Array(atoms.length);
    for (let i = 0; i < atoms.length; i++) this.on[i] = active(atoms[i]!) ? 1 : 0;
  }
  device(device: string, constraint: string, format?: string): boolean {
    const i = this.index.device.get(device)?.get(constraint)?.get(format ?? '');
    return i !== undefined && this.on[i] === 1;
  }
  request(constraint: Atom['constraint']): boolean {
    const i = this.index.request.get(constraint);
    return i !== undefined && this.on[i] === 1;
  }
  heap(heap: string, constraint: 'capacity' | 'placement'): boolean {
    const i = this.index.heap.get(heap)?.get(constraint);
    return i !== undefined && this.on[i] === 1;
  }
}

function formatCandidate(format: FormatInfo, rank: number, devices: readonly Device[], request: Request, on: ActiveSet, sized: boolean, deviceValues: readonly number[]): FormatCandidate | undefined {
  const name = format.name;
  const rules = devices.flatMap((d) => {
    const rule = d.formats.get(name);
    return rule ? [{ device: d, rule }] : [];
  });
  // A device whose stated use some modifiers do not allow (EGL external_only) offers only the rest.
  const offered = (device: Device, rule: FormatRule): readonly ModifierInfo[] =>
    on.device(device.name, 'access', name) ? modifiersFor(rule, request.access.get(device.name)) : rule.modifiers;
  const restricting = rules.filter(({ device }) => on.device(device.name, 'modifiers', name));
  const lists = restricting.map(({ device, rule }) => offered(device, rule));
  // Preference is a modifier's place in each device's whole list, whatever the use filters out.
  const preference = restricting.map(({ rule }) => rule.modifiers);
  // A format nobody restricts may use any modifier (LINEAR first): relaxing an atom only ever adds options.
  const common = intersectOrdered(lists) ?? MODIFIERS;
  const modifiers = common
    .filter((m) => modifierAppliesTo(m, format) && m.layout.kind !== 'opaque')
    .map((modifier) => ({ modifier, rank: preference.reduce((sum, list) => sum + list.indexOf(modifier), 0) }))
    .sort((a, b) => a.rank - b.rank);
  if (modifiers.length === 0) return undefined;
  const merged = LAYOUT_NEUTRAL.slice();
  for (const { device, rule } of rules) mergeFormatRule(merged, rule, sized, (k) => on.device(device.name, LAYOUT_RULES[k]!.name, name));
  return { format, rank, modifiers, rules: layoutRulesOf(merged, deviceValues), ...formatLimitsOf(merged) };
}

/**
 * The device lists the format, for the way the request says it uses the buffer (unless that
 * access atom is relaxed). A device whose use the request does not state may use any of its rules.
 */
function usable(device: Device, format: string, request: Request, on: ActiveSet): boolean {
  const rule = device.formats.get(format);
  if (!rule) return false;
  const need = request.access.get(device.name);
  return need === undefined || accessCovers(rule.access, need) || !on.device(device.name, 'access', format);
}

/**
 * What compile() merges for a request's shape (devices and their uses, formats, CPU access,
 * protection), which every request of that shape shares whatever its size and count: the
 * platform's tables for that set of devices. Kept per platform, so a cold negotiation of a known
 * shape lays out, places and ranks without merging the devices' rules again.
 */
export interface CompiledShape {
  readonly candidates: readonly FormatCandidate[];
  readonly heap: HeapRequirements;
  readonly preferredHeapRank: ReadonlyMap<string, number>;
  readonly eligible: readonly EligibleHeap[];
  /** Its atoms for one buffer and for more than one (a count atom), made when a conflict needs them. */
  readonly templates: [ShapeTemplate | undefined, ShapeTemplate | undefined];
}

/** The heaps that pass every check not depending on the buffer's size, with their preference rank. */
export function eligibleHeaps(platform: Platform, req: HeapRequirements, preferred: ReadonlyMap<string, number>): EligibleHeap[] {
  const out: EligibleHeap[] = [];
  const heaps = platform.heaps;
  for (let index = 0; index < heaps.length; index++) {
    const heap = heaps[index]!;
    if (req.reachable && !req.reachable.includes(heap.name)) continue;
    if (req.contiguous && !heap.contiguous) continue;
    if (heap.end > req.dmaLimit && !req.movable.has(heap.name)) continue;
    if (req.needSecure && !heap.secure) continue;
    if (req.forbidSecure && heap.secure) continue;
    if (req.needCpu && !heap.cpuAccess) continue;
    out.push({ heap, index, preference: preferred.get(heap.name) ?? 1000 });
  }
  return out;
}

const SHAPES_PER_PLATFORM = 1024;

/**
 * Compiled shapes of one platform, found by walking the request's shape one part at a time (CPU
 * use, protection, each format, each device and its use) through maps keyed by those values
 * themselves: no key string is built and hashed per lookup, which mattered for the short-lived
 * requests conflict explanation checks its fixes with. Every part of a shape is a key, so two
 * requests share a compiled shape only when they have the same shape.
 */
interface ShapeNode {
  readonly next: Map<unknown, ShapeNode>;
  shape?: CompiledShape;
}

/** Separates the formats from the devices in a shape's path. */
const DEVICES = Symbol('devices');

function child(node: ShapeNode, key: unknown): ShapeNode {
  let next = node.next.get(key);
  if (!next) node.next.set(key, (next = { next: new Map() }));
  return next;
}

/** Whether two requests have the same shape: the parts a shape is found by (ShapeTable). */
function sameShape(a: Request, b: Request): boolean {
  if (a.cpu !== b.cpu || a.protected !== b.protected || a.formats.length !== b.formats.length || a.devices.length !== b.devices.length) return false;
  for (let i = 0; i < a.formats.length; i++) if (a.formats[i] !== b.formats[i]) return false;
  for (let i = 0; i < a.devices.length; i++) {
    const d = a.devices[i]!;
    if (d !== b.devices[i] || a.access.get(d) !== b.access.get(d)) return false;
  }
  return true;
}

/** One platform's compiled shapes (a PreparedPlatform holds one). */
export class ShapeTable {
  readonly platform: Platform;
  #root: ShapeNode = { next: new Map() };
  #size = 0;
  /**
   * The last request compiled and its shape: a caller negotiating one Request object again and
   * again skips the walk. (Kept here rather than in a WeakMap keyed by requests, whose every new
   * entry costs V8 ~0.6 us, more than a walk.)
   */
  #lastRequest: Request | undefined;
  #lastShape: CompiledShape | undefined;

  constructor(platform: Platform) {
    this.platform = platform;
  }

  /** The platform's merged tables for the request's shape (the last request's remembered). */
  shapeOf(request: Request): CompiledShape {
    const last = this.#lastRequest;
    if (last === request) return this.#lastShape!;
    // A new request object of the last one's shape (an application asking again): compared part by part.
    const shape = last !== undefined && sameShape(request, last) ? this.#lastShape! : this.shapeFor(request);
    this.#lastRequest = request;
    this.#lastShape = shape;
    return shape;
  }

  /** The same, without remembering the request as the last one (for requests made for one look). */
  shapeFor(request: Request): CompiledShape {
    // A long-running process meeting ever new shapes starts the table afresh now and then.
    if (this.#size >= SHAPES_PER_PLATFORM) {
      this.#root = { next: new Map() };
      this.#size = 0;
    }
    let node = child(child(this.#root, request.cpu), request.protected);
    for (const f of request.formats) node = child(node, f);
    node = child(node, DEVICES);
    for (const d of request.devices) node = child(child(node, d), request.access.get(d));
    if (node.shape) return node.shape;
    const full = compileAll(this.platform, request);
    const shape: CompiledShape = { candidates: full.candidates, heap: full.heap, preferredHeapRank: full.preferredHeapRank, eligible: eligibleHeaps(this.platform, full.heap, full.preferredHeapRank), templates: [undefined, undefined] };
    node.shape = shape;
    this.#size++;
    return shape;
  }
}

function problemOf(request: Request, shape: CompiledShape): Problem {
  return { width: request.width, height: request.height, count: request.count, candidates: shape.candidates, heap: shape.heap, preferredHeapRank: shape.preferredHeapRank, eligible: shape.eligible };
}

/**
 * Merges the request's devices' constraints: every constraint holds, and the merge is the
 * platform's, kept per request shape in `shapes`.
 */
export function compile(shapes: ShapeTable, request: Request): Problem {
  return problemOf(request, shapes.shapeOf(request));
}

/** compileWith() with every atom holding: the general merge, which compileAll() must equal (tests). */
export function compileEveryAtom(platform: Platform, request: Request): Problem {
  return compileWith(platform, request, ALL_ACTIVE, undefined);
}

/**
 * compile() with only the active atoms counting (conflict explanation). A shape's template brings
 * its atom positions and base format lists; other atom lists are indexed afresh.
 */
export function compileActive(platform: Platform, request: Request, atoms: readonly Atom[] | ShapeTemplate, active: (atom: Atom) => boolean): Problem {
  const template = 'positions' in atoms ? atoms : undefined;
  const list = template ? template.atoms : (atoms as readonly Atom[]);
  return compileWith(platform, request, new ActiveAtoms(list, template?.positions ?? atomPositions(list), active), template?.bases);
}

/**
 * compile() for a request made for one look (conflict explanation builds many to check its fixes),
 * optionally with the capacity of the `uncapped` heaps not counting: the request is not remembered
 * as the last one, which stays the request being explained.
 */
export function compileOnce(shapes: ShapeTable, request: Request, uncapped?: ReadonlySet<string>): Problem {
  const problem = problemOf(request, shapes.shapeFor(request));
  if (!uncapped) return problem;
  // Heaps whose capacity does not count (a fix that grows them sizes them from this plan): as
  // compile() with their capacity atoms off, the rest of the merge being the shape's.
  const capacityLimited = new Set(shapes.platform.heaps.filter((h) => (problem.heap.capacityLimited?.has(h.name) ?? true) && !uncapped.has(h.name)).map((h) => h.name));
  return { ...problem, heap: { ...problem.heap, capacityLimited } };
}

/** The candidate formats with their preference ranks, for the request's formats atom and the listing device. */
function baseFormats(request: Request, requestFormatsHold: boolean, lister: Device | undefined, cache: Map<string, ReadonlyArray<readonly [number, FormatInfo]>> | undefined): ReadonlyArray<readonly [number, FormatInfo]> {
  const key = `${requestFormatsHold ? 1 : 0}${lister?.name ?? ''}`;
  let base = cache?.get(key);
  if (!base) {
    const all = requestFormatsHold ? request.formats : [...request.formats, ...FORMATS.filter((f) => !request.formats.includes(f))];
    base = all.map((f, rank) => [rank, f] as const).filter(([, f]) => !lister || lister.formats.has(f.name));
    cache?.set(key, base);
  }
  return base;
}

/**
 * compileWith() with every constraint holding, written out without closures, generators or
 * intermediate lists: what a negotiation on a platform nothing has prepared, and every new shape,
 * costs. A property test holds it equal to compileWith(ALL_ACTIVE).
 */
export function compileAll(platform: Platform, request: Request): { candidates: FormatCandidate[]; heap: HeapRequirements; preferredHeapRank: Map<string, number> } {
  const devices: Device[] = [];
  for (const name of request.devices) devices.push(platform.devices.find((d) => d.name === name)!);
  // The devices' own rules (the physical ones for those without an IOMMU), then each format's.
  const deviceValues = DEVICE_NEUTRAL.slice();
  let contiguous = false;
  for (const d of devices) {
    if (!d.iommu) contiguous = true;
    mergeWholeDevice(deviceValues, d);
  }
  const lister = devices[0]!;
  const candidates: FormatCandidate[] = [];
  const merged = LAYOUT_NEUTRAL.slice();
  formats: for (let rank = 0; rank < request.formats.length; rank++) {
    const format = request.formats[rank]!;
    if (!lister.formats.has(format.name)) continue;
    const lists: (readonly ModifierInfo[])[] = [];
    const preference: (readonly ModifierInfo[])[] = [];
    for (let k = 0; k < merged.length; k++) merged[k] = LAYOUT_NEUTRAL[k]!;
    for (const d of devices) {
      const rule = d.formats.get(format.name);
      const need = request.access.get(d.name);
      if (!rule || (need !== undefined && !accessCovers(rule.access, need))) continue formats;
      lists.push(modifiersFor(rule, need));
      preference.push(rule.modifiers);
      mergeWholeFormatRule(merged, rule);
    }
    const modifiers: ModifierCandidate[] = [];
    for (const modifier of lists[0]!) {
      if (!modifierAppliesTo(modifier, format) || modifier.layout.kind === 'opaque') continue;
      let shared = true;
      for (let i = 1; i < lists.length && shared; i++) shared = lists[i]!.includes(modifier);
      if (!shared) continue;
      let sum = 0;
      for (const list of preference) sum += list.indexOf(modifier);
      modifiers.push({ modifier, rank: sum });
    }
    if (modifiers.length === 0) continue;
    if (modifiers.length > 1) modifiers.sort((a, b) => a.rank - b.rank);
    const limits = formatLimitsOf(merged);
    candidates.push({ format, rank, modifiers, rules: layoutRulesOf(merged, deviceValues), maxWidth: limits.maxWidth, maxHeight: limits.maxHeight, maxPitch: limits.maxPitch });
  }
  let needSecure = request.protected;
  let forbidSecure = !request.protected;
  let reachable: string[] | undefined;
  const preferredHeapRank = new Map<string, number>();
  for (const d of devices) {
    if (d.protected === 'required') needSecure = true;
    if (d.protected === 'forbidden') forbidSecure = true;
    if (d.heaps) reachable = reachable ? reachable.filter((h) => d.heaps!.includes(h)) : [...d.heaps];
    for (let i = 0; i < d.preferredHeaps.length; i++) {
      const h = d.preferredHeaps[i]!;
      const known = preferredHeapRank.get(h);
      if (known === undefined || i < known) preferredHeapRank.set(h, i);
    }
  }
  const limits = heapLimitsOf(deviceValues);
  return {
    candidates,
    heap: { contiguous, dmaLimit: limits.dmaLimit, physAlign: limits.physAlign, maxSize: limits.maxSize, reachable, needSecure, forbidSecure, needCpu: request.cpu !== 'none', capacityLimited: undefined, movable: NOTHING },
    preferredHeapRank,
  };
}

function compileWith(platform: Platform, request: Request, on: ActiveSet, bases: ShapeTemplate['bases'] | undefined): Problem {
  // A device that stops sharing the buffer (its own buffer and a copy step) leaves the negotiation;
  // the first device always stays (it has no 'shared' atom).
  const devices = request.devices.filter((n, i) => i === 0 || on.device(n, 'shared')).map((n) => platform.devices.find((d) => d.name === n)!);
  // The request's size is bounded by the devices' maxWidth, maxHeight and maxSize; relaxing it lifts them.
  const sized = on.request('size');

  // Formats: the request's list when its atom is active, else every known format (request's first);
  // a device whose format list holds narrows them to its formats (conflict explanation relaxes the
  // request's formats often: the ~100 known formats are then skipped without a look).
  const lister = devices.find((d) => on.device(d.name, 'formats'));
  const base = baseFormats(request, on.request('formats'), lister, bases);
  const candidates = function* (): Generator<FormatCandidate> {
    for (const [rank, format] of base) {
      if (!devices.every((d) => !on.device(d.name, 'formats') || usable(d, format.name, request, on))) continue;
      const c = formatCandidate(format, rank, devices, request, on, sized, deviceValues);
      if (c) yield c;
    }
  };

  // Without an IOMMU a device sees physical addresses: contiguity, DMA mask and alignment apply.
  const physical = devices.filter((d) => !d.iommu && on.device(d.name, 'iommu'));
  const deviceValues = DEVICE_NEUTRAL.slice();
  for (const d of devices) mergeDevice(deviceValues, d, physical.includes(d), sized, (k) => on.device(d.name, DEVICE_RULES[k]!.name));
  const needSecure = (request.protected && on.request('protected')) || devices.some((d) => d.protected === 'required' && on.device(d.name, 'protected'));
  const forbidSecure =
    (!request.protected && on.request('protected')) || devices.some((d) => d.protected === 'forbidden' && on.device(d.name, 'protected'));
  const reachableLists = devices.filter((d) => d.heaps && on.device(d.name, 'heaps')).map((d) => d.heaps!);

  const limits = heapLimitsOf(deviceValues);
  const preferredHeapRank = new Map<string, number>();
  for (const d of devices) {
    d.preferredHeaps.forEach((h, i) => preferredHeapRank.set(h, Math.min(preferredHeapRank.get(h) ?? Infinity, i)));
  }

  return {
    // A relaxed size may shrink as far as it must: the smallest buffer stands for "some smaller size".
    width: sized ? request.width : 1,
    height: sized ? request.height : 1,
    count: request.count > 1 && !on.request('count') ? 1 : request.count,
    candidates: { [Symbol.iterator]: candidates },
    heap: {
      contiguous: physical.length > 0,
      dmaLimit: limits.dmaLimit,
      physAlign: limits.physAlign,
      maxSize: limits.maxSize,
      reachable: intersectOrdered(reachableLists),
      needSecure,
      forbidSecure,
      needCpu: request.cpu !== 'none' && on.request('cpu'),
      capacityLimited: new Set(platform.heaps.filter((h) => on.heap(h.name, 'capacity')).map((h) => h.name)),
      movable: on === ALL_ACTIVE ? NOTHING : new Set(platform.heaps.filter((h) => h.contiguous && HEAP_KINDS[h.kind].placeable && !on.heap(h.name, 'placement')).map((h) => h.name)),
    },
    preferredHeapRank,
  };
}
