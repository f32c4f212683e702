// What to do when no plan exists. Constraint atoms split into what a user can change (the request,
// pool sizes and placement, a copy step between devices) and hardware facts. Every minimal set of
// changeable atoms whose relaxation makes a plan possible (a minimal correction set, hardware held
// fixed) becomes candidate fixes: concrete changes (fixes.ts) that are applied to copies of the
// inputs, negotiated again and, through the caller's check, allocated; a fix that does not end in
// allocated buffers is never shown. When no change helps, the conflict says so and names the facts.

import { inspect, isDeepStrictEqual, type InspectOptions } from 'node:util';
import { overlappingPools, type Platform, type Request } from '../constraints/model.js';
import { DEFAULT_CMA_NAMES, heapOf, type HeapEntry } from '../constraints/heap-kinds/index.js';
import { sizeBoundReasons } from './size-bounds.js';
import { applyChanges, type Change } from './apply.js';
import { atomsOf, atomTemplate, type Atom } from './atoms.js';
import { minimalCore, minimalCorrection, type Feasible } from './minimal-sets.js';
import { changesFor, DEFAULT_AREA_SOURCE, fixText, hardwareAdvice, shapesOf, type FixContext } from './fixes.js';
import { PreparedPlatform } from './prepared.js';
import { compileActive } from './problem.js';
import { relaxation } from './relax.js';
import { bestPlan, search, type CapacityOf, type Placement } from './solve.js';

export interface Fix {
  /** One sentence: what to change, and how (the profile field, the boot parameter). */
  readonly text: string;
  /** The change as data: fields of the request file or the platform profile, new values. */
  readonly changes: readonly Change[];
  /** The correction set this fix changes. */
  readonly atoms: readonly Atom[];
  /** What the changed inputs negotiate to: the shared buffer's plan, then each copy's. */
  readonly plans: readonly Placement[];
}

export interface Conflict {
  /** The first fix's correction set: change all of these and a plan exists (hardware held fixed). */
  readonly atoms: readonly Atom[];
  /** Minimal conflicting subset: these cannot all hold together (the reason, facts included). */
  readonly core: readonly Atom[];
  /** Verified fixes, likeliest first; each alone leads to buffers that allocate. */
  readonly fixes: readonly Fix[];
  /** When nothing a user can change helps: what hardware or firmware would have to change. */
  readonly hardware: readonly string[];
}

/** A verified fix whose sentence is written when someone reads it, once (like a plan's rationale). */
class VerifiedFix implements Fix {
  readonly changes: readonly Change[];
  readonly atoms: readonly Atom[];
  readonly plans: readonly Placement[];
  #ctx: FixContext;
  #text: string | undefined;

  constructor(changes: readonly Change[], atoms: readonly Atom[], plans: readonly Placement[], ctx: FixContext) {
    this.changes = changes;
    this.atoms = atoms;
    this.plans = plans;
    this.#ctx = ctx;
  }

  get text(): string {
    return (this.#text ??= fixText(this.atoms, this.changes, this.plans, this.#ctx));
  }

  /** JSON.stringify and structured logs see the text like the other fields. */
  toJSON(): Fix {
    return { text: this.text, changes: this.changes, atoms: this.atoms, plans: this.plans };
  }

  /** So does console.log. */
  [inspect.custom](_depth: number, options: InspectOptions): string {
    return inspect(this.toJSON(), options);
  }
}

/**
 * Acts on a fix: allocates every plan together on empty heaps of `platform` (the simulated kernel,
 * supplied by the caller: the solver itself never touches a kernel). True when all allocate.
 */
export type FixCheck = (platform: Platform, plans: readonly Placement[]) => boolean;

/** How many alternative fixes to look for (each costs a few searches and one allocation check). */
const MAX_FIXES = 8;

/**
 * Minimal correction sets over the changeable atoms: every single one, then pairs; else one by
 * deletion. `reason` flags a conflicting core with its premise: a set that changes none of those
 * leaves them all holding, and so no plan, which spares trying it.
 */
function correctionSets(choices: readonly Atom[], on: Uint8Array, feasible: Feasible, reason: Uint8Array): Atom[][] {
  const feasibleWithout = (a: Atom, b?: Atom): boolean => {
    on.fill(1);
    on[a.id] = 0;
    if (b) on[b.id] = 0;
    return feasible(on);
  };
  const sets: Atom[][] = [];
  const single = new Set<number>();
  for (const a of choices) {
    if (reason[a.id] === 1 && feasibleWithout(a)) {
      sets.push([a]);
      single.add(a.id);
    }
  }
  const rest = choices.filter((a) => !single.has(a.id));
  // No set of the rest can help when none of it is in the reason, or when relaxing all of it
  // together does not (relaxing more only ever widens the search).
  on.fill(1);
  for (const a of rest) on[a.id] = 0;
  const restHelps = rest.some((a) => reason[a.id] === 1) && feasible(on);
  if (sets.length < MAX_FIXES && restHelps) {
    for (let i = 0; i < rest.length && sets.length < MAX_FIXES * 2; i++) {
      for (let j = i + 1; j < rest.length; j++) {
        if (reason[rest[i]!.id] === 0 && reason[rest[j]!.id] === 0) continue;
        if (feasibleWithout(rest[i]!, rest[j]!)) sets.push([rest[i]!, rest[j]!]);
      }
    }
  }
  if (sets.length > 0 || !restHelps) return sets;
  on.fill(1);
  return [minimalCorrection(choices, on, feasible)];
}

export interface ExplainOptions {
  readonly capacityOf?: CapacityOf;
  readonly check?: FixCheck;
}

export function explainConflict(prepared: PreparedPlatform, request: Request, options: ExplainOptions = {}): Conflict {
  const { capacityOf, check } = options;
  const { platform, shapes } = prepared;
  const template = atomTemplate(shapes, request);
  const atoms = atomsOf(template, request);
  // Whether a plan exists with only the flagged atoms holding: over the shape's precompiled tables
  // (relax.ts), or by compiling and searching when the tables cannot express the platform.
  // (compile() is given the template: same ids, and its atom positions are kept with it.)
  const feasible: Feasible = relaxation(platform, request, template, capacityOf) ?? ((on) => search(platform, compileActive(platform, request, template, (a) => on[a.id] === 1), { limit: 1, capacityOf }).length > 0);
  // One array of flags serves every feasibility question in turn (each sets all of it first).
  const flags = new Uint8Array(atoms.length);
  const allHold = () => flags.fill(1);
  const relaxedPlan = (removed: readonly Atom[]): Placement | undefined => {
    const ids = new Set(removed.map((a) => a.id));
    return search(platform, compileActive(platform, request, template, (a) => !ids.has(a.id)), { limit: 1, capacityOf })[0];
  };

  // The reason: a minimal conflicting subset, with every device kept in the shared buffer (that is
  // the premise of the request) and the correction set's atoms dropped last, so that they show.
  // An unprotected buffer stays unprotected too: it is a premise, not a reason.
  const premise = (a: Atom) => a.constraint === 'shared' || (a.request === true && a.constraint === 'protected' && !a.changeable);
  const choices: Atom[] = [];
  const shared: Atom[] = [];
  const others: Atom[] = [];
  // Devices' facts are dropped after the other atoms, so the core names the hardware behind it. (A
  // heap's capacity that no boot setting changes, RAM, is a fact too, but is dropped with the rest:
  // the core names it only when it is what conflicts.)
  const facts: Atom[] = [];
  for (const a of atoms) {
    if (a.changeable) choices.push(a);
    if (premise(a)) shared.push(a);
    else {
      others.push(a);
      if (!a.changeable && a.device !== undefined) facts.push(a);
    }
  }
  const coreFor = (prefer: readonly Atom[]) => {
    const last = facts.slice();
    for (const a of prefer) if (!premise(a)) last.push(a);
    return minimalCore(others, allHold(), feasible, last);
  };
  // The core with only the facts preferred; a fix's atoms preferred too give the core shown with it.
  const firstCore = coreFor([]);
  const hardwareOnly = (correction: readonly Atom[]): Conflict => {
    let core = firstCore;
    // Nothing conflicts but the premise itself (an unprotected buffer and only secure heaps): say that.
    if (core.length === 0) core = minimalCore(atoms.filter((a) => a.constraint !== 'shared'), allHold(), feasible, shared);
    // The facts, and the uses the request states that no fix may change (one that would leave the
    // buffer without a writer or a reader): both are what stands in the way.
    const reasons = core.filter((a) => !a.changeable || a.constraint === 'access');
    return { atoms: correction.length > 0 ? correction : reasons, core, fixes: [], hardware: reasons.map((a) => hardwareAdvice(a, core, request)) };
  };

  const reason = new Uint8Array(atoms.length);
  for (const a of firstCore) reason[a.id] = 1;
  for (const a of shared) reason[a.id] = 1;
  const sets = correctionSets(choices, flags, feasible, reason);
  if (sets.length === 0) return withDefaultArea(prepared, request, options) ?? hardwareOnly([]);

  const ctx: FixContext = { platform, shapes, request, capacityOf };
  const fixes: Fix[] = [];
  // Change lists already acted on (two correction sets can come to the same changes).
  const tried: (readonly Change[])[] = [];
  for (const set of sets) {
    // The plan the relaxed inputs have, found only when a change is computed from it.
    let relaxed: { plan: Placement | undefined } | undefined;
    const plan = () => (relaxed ??= { plan: relaxedPlan(set) }).plan;
    for (const changes of changesFor(set, plan, ctx)) {
      if (tried.some((t) => isDeepStrictEqual(t, changes))) continue;
      tried.push(changes);
      const plans = actOn(ctx, changes, check);
      if (plans) fixes.push(new VerifiedFix(changes, set, plans, ctx));
    }
  }
  // Every change that helps in principle failed when acted on (a device left alone cannot get a
  // buffer of its own, say): what remains is the hardware.
  if (fixes.length === 0) return withDefaultArea(prepared, request, options) ?? hardwareOnly(sets[0]!);
  // A smaller size is the real cause's fix when a device's limits bound it, else one among others.
  if (fixes.length > 1) {
    const order = sizeBounded(platform, request) ? FIX_ORDER : FIX_ORDER_SIZE_LATER;
    fixes.sort((a, b) => fixOrder(a, platform, order) - fixOrder(b, platform, order));
  }
  const chosen = fixes.slice(0, MAX_FIXES);
  const atomsChanged = chosen[0]!.atoms;
  return { atoms: atomsChanged, core: atomsChanged.some((a) => !premise(a)) ? coreFor(atomsChanged) : firstCore, fixes: chosen, hardware: [] };
}

/**
 * A board without a CMA area still has the kernel's default one for the asking: `cma=` at boot
 * makes it (kernel/dma/contiguous.c dma_contiguous_reserve(), below the architecture's DMA limit
 * unless the parameter places it), and CONFIG_DMABUF_HEAPS_CMA exports it as a dma-buf heap
 * (drivers/dma-buf/heaps/cma_heap.c, named after the area: "reserved" for one made by cma=). When
 * nothing else helps, the conflict is explained again with that area present and empty; its fixes
 * (grow the area, place it below a DMA limit) become the adding of the area, acted on like any other.
 */
function withDefaultArea(prepared: PreparedPlatform, request: Request, options: ExplainOptions): Conflict | undefined {
  const { platform } = prepared;
  // Only contiguity is what the area gives: offered when a device without an IOMMU shares the buffer.
  if (platform.heaps.some((h) => h.kind === 'cma') || request.devices.every((d) => platform.devices.find((x) => x.name === d)!.iommu)) return undefined;
  const name = DEFAULT_CMA_NAMES.find((n) => !platform.heaps.some((h) => h.name === n));
  if (name === undefined) return undefined;
  const area = heapOf({ name, kind: 'cma', size: 0 }, DEFAULT_AREA_SOURCE);
  const withArea = new PreparedPlatform({ ...platform, heaps: [...platform.heaps, area] });
  const there = explainConflict(withArea, request, options);
  if (there.fixes.length === 0) return undefined;
  const ctx: FixContext = { platform: withArea.platform, shapes: withArea.shapes, request, capacityOf: options.capacityOf };
  const fixes = there.fixes.map((f) => new VerifiedFix(addingArea(f.changes, name), f.atoms, f.plans, ctx));
  return { ...there, fixes };
}

/** A fix's changes to the absent area (its size, limit or base) as the one change that adds it. */
function addingArea(changes: readonly Change[], name: string): Change[] {
  const entry: { -readonly [K in keyof HeapEntry]: HeapEntry[K] } = { name, kind: 'cma', size: 0 };
  const rest: Change[] = [];
  for (const c of changes) {
    if (c.target === 'heap' && c.heap === name) entry[c.field] = c.value;
    else rest.push(c);
  }
  return [...rest, { target: 'new-heap', heap: entry }];
}

/** Applies the changes, negotiates every resulting buffer, and allocates them together. */
function actOn(ctx: FixContext, changes: readonly Change[], check: FixCheck | undefined): Placement[] | undefined {
  const { platform, request } = ctx;
  const applied = applyChanges(platform, request, changes);
  const shapes = shapesOf(ctx, applied.platform);
  const plans: Placement[] = [];
  // A pool grown or moved onto another is no pool a board can have (pools that already overlap,
  // as a sizing replay's unbounded ones do, are not the fix's doing).
  if (applied.platform !== platform && overlappingPools(applied.platform.heaps) && !overlappingPools(platform.heaps)) return undefined;
  // The changed platform is judged empty, as the check allocates it: a live allocator's free space
  // belongs to the pools as they are, not as the fix would make them.
  for (const r of applied.requests) {
    const plan = bestPlan(shapes, r);
    if (!plan) return undefined;
    plans.push(plan);
  }
  if (check && !check(applied.platform, plans)) return undefined;
  return plans;
}

/** The real cause first: a size a device bounds, then the request's formats and uses, pools, copies. */
const FIX_ORDER: readonly Atom['constraint'][] = ['size', 'formats', 'access', 'capacity', 'count', 'placement', 'cpu', 'protected', 'shared'];
/** The order when no device's limits bound the size: a smaller size is one fix among others. */
const FIX_ORDER_SIZE_LATER: readonly Atom['constraint'][] = ['formats', 'access', 'capacity', 'count', 'size', 'placement', 'cpu', 'protected', 'shared'];

/** Whether some device's size bounds (maxWidth, maxHeight, maxPitch, maxSize...) are below what the request asks for. */
function sizeBounded(platform: Platform, request: Request): boolean {
  return sizeBoundReasons(platform, request, false).length > 0;
}

function fixOrder(fix: Fix, platform: Platform, order: readonly Atom['constraint'][]): number {
  const ranks = fix.atoms.map((a) => order.indexOf(a.constraint) * 10 + (platform.heaps.find((h) => h.name === a.heap)?.scarcity ?? 0));
  // Single changes before pairs; among equals, the order of the most preferred atom, and among
  // pools the most plentiful kind (growing CMA before a carveout).
  return fix.atoms.length * 1000 + Math.min(...ranks);
}
