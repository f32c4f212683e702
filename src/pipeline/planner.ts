// Plans every buffer ring of a pipeline together. Each edge gets one shared layout when its
// producer and consumers have one; otherwise a conversion step on a converter the pipeline names
// splits it into two rings (producer -> converter, converter -> consumers). Among the ways to serve
// each edge, fewer conversion steps win, then less memory. Then all rings of all edges are placed
// together on an empty simulated kernel of the platform's heaps (largest ring first, each in the
// first of its ranked heaps with room, alignment padding included): a pipeline whose edges fit one
// at a time but not together is a conflict, and its fixes (a shallower ring, a larger pool) are the
// ones that place when applied.

import { choiceOf, type PlanChoice } from '../allocator/plan.js';
import { handleOfHeap, type HeapHandle } from '../allocator/heap-handle.js';
import { makeRequest } from '../constraints/load.js';
import type { Request } from '../constraints/model.js';
import { SimKernel } from '../kernel/sim/kernel.js';
import { allocatesOnEmptyHeaps } from '../kernel/sim/fix-check.js';
import { negotiate, type Conflict } from '../solver/negotiate.js';
import type { Placement } from '../solver/solve.js';
import type { RequestFields } from '../constraints/load.js';
import type { Platform } from '../constraints/model.js';
import { formatBytes } from '../constraints/units.js';
import { changedHeap } from '../solver/apply.js';
import { InputError } from '../errors.js';
import { CPU, type EdgeSpec, type PipelineSpec } from './description.js';

/** One ring of buffers: an edge's, or one half of an edge split by a conversion step. */
export interface Ring {
  readonly edge: string;
  /** 'edge': the edge's own ring; 'in'/'out': the rings before and after its conversion step. */
  readonly part: 'edge' | 'in' | 'out';
  readonly producer: string;
  readonly consumers: readonly string[];
  /** The request the ring's buffers satisfy (devices with their uses, size, depth, formats, CPU access). */
  readonly request: RequestFields;
}

export interface PlacedRing extends Ring {
  /** The layout and heap the ring's buffers take. */
  readonly choice: PlanChoice;
  /** depth x buffer size. */
  readonly bytes: number;
}

export interface ConversionStep {
  readonly edge: string;
  readonly converter: string;
  readonly from: string;
  readonly to: string;
}

export interface PipelinePlan {
  readonly name: string;
  /** Every ring, in the order they were placed (largest first). */
  readonly rings: readonly PlacedRing[];
  readonly steps: readonly ConversionStep[];
  /** Bytes per heap the rings take, with the heap's capacity. */
  readonly pools: ReadonlyArray<{ readonly heap: string; readonly kind: string; readonly bytes: number; readonly capacity: number }>;
  readonly bytes: number;
}

export interface PipelineFix {
  readonly text: string;
  /** The pipeline and platform with the fix applied (it plans and places). */
  readonly pipeline: PipelineSpec;
  readonly platform: Platform;
}

export interface PipelineConflict {
  /** The edge that cannot be served, or undefined when every edge can but not all together. */
  readonly edge: string | undefined;
  readonly why: string;
  /** The constraints that stand in the way (an edge's conflict), one line each. */
  readonly constraints: readonly string[];
  readonly fixes: readonly PipelineFix[];
}

export type PipelineResult = { readonly ok: true; readonly plan: PipelinePlan } | { readonly ok: false; readonly conflict: PipelineConflict };

/** The ways to serve one edge, best first: its own ring, or a conversion step on each converter. */
interface Option {
  readonly rings: readonly Ring[];
  /** Each ring's request and ranked placements (negotiated once, placed as often as needed). */
  readonly plans: ReadonlyArray<{ readonly request: Request; readonly ranked: readonly Placement[] }>;
  readonly steps: number;
  /** Bytes of the rings' best plans (the tie-break after steps). */
  readonly bytes: number;
  readonly converter?: string;
}

const use = (device: string, access: 'read' | 'write') => `${device}:${access}`;

/**
 * The request of a ring from `producer` to `consumers`: each device with its use, and the CPU (an
 * endpoint or a converter: it maps linear buffers) as the request's CPU access.
 */
function ringRequest(edge: EdgeSpec, producer: string, consumers: readonly string[], formats: readonly string[] | undefined, size: { readonly width: number; readonly height: number } = edge): RequestFields {
  const reads = consumers.includes(CPU);
  const writes = producer === CPU;
  const cpu = reads && writes ? 'readwrite' : reads ? 'read' : writes ? 'write' : undefined;
  return {
    width: size.width,
    height: size.height,
    count: edge.depth,
    // A sensor mode's size is the size; a negotiable stream's may shrink in a fix.
    fixedSize: !edge.negotiable,
    devices: [...(writes ? [] : [use(producer, 'write')]), ...consumers.filter((c) => c !== CPU).map((c) => use(c, 'read'))],
    ...(cpu ? { cpu } : {}),
    ...(formats ? { formats: [...formats] } : {}),
  };
}

function ringsOf(edge: EdgeSpec, converter?: string): Ring[] {
  if (converter === undefined) return [{ edge: edge.name, part: 'edge', producer: edge.from, consumers: edge.to, request: ringRequest(edge, edge.from, edge.to, edge.formats) }];
  // The edge's formats are what its producer writes: they bind the ring into the conversion step.
  return [
    { edge: edge.name, part: 'in', producer: edge.from, consumers: [converter], request: ringRequest(edge, edge.from, [converter], edge.formats) },
    { edge: edge.name, part: 'out', producer: converter, consumers: edge.to, request: ringRequest(edge, converter, edge.to, undefined, edge.scaleTo) },
  ];
}

/** What planning reads many times: the platform, its heaps as handles, and a simulated kernel to place on. */
interface Planning {
  readonly platform: Platform;
  readonly handles: ReadonlyMap<string, HeapHandle>;
  /** Empty between placements: every try frees what it took. */
  readonly kernel: SimKernel;
}

function planning(platform: Platform): Planning {
  const handles = new Map(platform.heaps.map((h, i) => [h.name, handleOfHeap(i + 1, h, h.size, `sim:${h.name}`)]));
  return { platform, handles, kernel: new SimKernel(platform.heaps, { maxFds: 2 ** 20 }) };
}

/** Ranked fallbacks each ring keeps for placement (other heaps, other layouts). */
const ALTERNATIVES = 8;

/**
 * One way to serve an edge: its own ring (no converter) or a conversion step on `converter`, each
 * ring negotiated once; or why it cannot: the rings' conflict, or devices that take no format for
 * their use (a consumer that only writes).
 */
function wayOf(p: Planning, edge: EdgeSpec, converter: string | undefined): { option: Option } | { conflict: Conflict } | { unusable: string } {
  const rings = ringsOf(edge, converter);
  const plans: Array<{ request: Request; ranked: Placement[] }> = [];
  for (const r of rings) {
    let request: Request;
    try {
      request = makeRequest(p.platform, r.request);
    } catch (err) {
      if (!(err instanceof InputError && err.field === 'formats')) throw err;
      return { unusable: err.message.replace(/^[^:]*: request field formats is missing, and /, '').replace(/; set it with .*$/, '') };
    }
    const result = negotiate(p.platform, request, { alternatives: ALTERNATIVES, check: allocatesOnEmptyHeaps });
    if (!result.ok) return { conflict: result.conflict };
    plans.push({ request, ranked: [result.plan, ...result.alternatives] });
  }
  return { option: { rings, plans, steps: converter === undefined ? 0 : 1, bytes: plans.reduce((sum, x) => sum + x.ranked[0]!.size * x.ranked[0]!.count, 0), ...(converter !== undefined ? { converter } : {}) } };
}

/** The conversion steps that serve an edge, least memory first (a converter that is one of the edge's own devices would read and write the same ring: not a step). */
function stepsOf(p: Planning, edge: EdgeSpec, converters: readonly string[]): Option[] {
  return converters
    .filter((c) => c !== edge.from && !edge.to.includes(c))
    .flatMap((c) => {
      const way = wayOf(p, edge, c);
      return 'option' in way ? [way.option] : [];
    })
    .sort((a, b) => a.bytes - b.bytes);
}

/**
 * Places the chosen rings together, largest first, each in the first of its ranked placements
 * whose heap has room for all its buffers (as allocate() falls back); then frees them all, so the
 * kernel is empty again for the next try.
 */
function place(p: Planning, chosen: readonly Option[]): { placed: PlacedRing[] } | { failed: Ring; heaps: string[] } {
  const planned = chosen.flatMap((o) => o.rings.map((r, i) => ({ r, ...o.plans[i]! })));
  const bytesOf = (x: { ranked: readonly Placement[] }) => x.ranked[0]!.size * x.ranked[0]!.count;
  planned.sort((a, b) => bytesOf(b) - bytesOf(a) || a.r.edge.localeCompare(b.r.edge));
  const placed: PlacedRing[] = [];
  const taken: number[] = [];
  // Scattered pages come from anywhere in RAM (drivers/dma-buf/heaps/system_heap.c falls back to
  // order-0 pages): only the total counts, so such a heap is counted, not placed page by page.
  const counted = new Map<string, number>();
  try {
    for (const { r, request, ranked } of planned) {
      const fits = ranked.find((placement) => {
        if (!placement.heap.contiguous) {
          const used = (counted.get(placement.heap.name) ?? 0) + placement.size * placement.count;
          if (used > placement.heap.size) return false;
          counted.set(placement.heap.name, used);
          return true;
        }
        const mine: number[] = [];
        try {
          for (let i = 0; i < placement.count; i++) for (const size of placement.buffers ?? [placement.size]) mine.push(p.kernel.allocate(placement.heap.name, size));
          taken.push(...mine);
          return true;
        } catch {
          for (const fd of mine) p.kernel.close(fd);
          return false;
        }
      });
      if (!fits) return { failed: r, heaps: [...new Set(ranked.map((x) => x.heap.name))] };
      placed.push({ ...r, choice: choiceOf(fits, request, p.handles.get(fits.heap.name)!), bytes: fits.size * fits.count });
    }
    return { placed };
  } finally {
    for (const fd of taken) p.kernel.close(fd);
  }
}

function planOf(spec: PipelineSpec, platform: Platform, placed: PlacedRing[], chosen: ReadonlyMap<string, Option>): PipelinePlan {
  const pools = new Map<string, { heap: string; kind: string; bytes: number; capacity: number }>();
  for (const r of placed) {
    const d = r.choice.heap.describe();
    const pool = pools.get(d.name) ?? { heap: d.name, kind: d.kind, bytes: 0, capacity: platform.heaps.find((h) => h.name === d.name)?.size ?? 0 };
    pool.bytes += r.bytes;
    pools.set(d.name, pool);
  }
  const steps: ConversionStep[] = [];
  for (const [edge, option] of chosen) {
    if (option.converter === undefined) continue;
    const ins = placed.find((r) => r.edge === edge && r.part === 'in')!;
    const out = placed.find((r) => r.edge === edge && r.part === 'out')!;
    // A scaling step says the sizes too.
    const scaled = ins.choice.width !== out.choice.width || ins.choice.height !== out.choice.height;
    const side = (c: PlanChoice) => `${c.format} ${c.modifier}${scaled ? ` ${c.width}x${c.height}` : ''}`;
    steps.push({ edge, converter: option.converter, from: side(ins.choice), to: side(out.choice) });
  }
  return { name: spec.name, rings: placed, steps, pools: [...pools.values()], bytes: placed.reduce((s, r) => s + r.bytes, 0) };
}

/** Bounds the search over combinations of the edges' ways (pipelines have few edges). */
const MAX_COMBINATIONS = 256;

/**
 * Every edge's best way first; when those rings do not fit together, combinations that change the
 * way of one edge, then of two, in order of total steps, then bytes (a bounded search).
 */
function solve(p: Planning, spec: PipelineSpec, platform: Platform, options: Map<string, Option[]>): { plan: PipelinePlan } | { failed: Ring; heaps: string[] } {
  const edges = spec.edges.map((e) => e.name);
  const best = new Map(edges.map((e) => [e, options.get(e)![0]!]));
  const first = place(p, [...best.values()]);
  if ('placed' in first) return { plan: planOf(spec, platform, first.placed, best) };
  // The best ways do not fit together: every edge's conversion steps are looked at too.
  for (const edge of spec.edges) {
    const ways = options.get(edge.name)!;
    if (!ways.some((o) => o.steps > 0)) ways.push(...stepsOf(p, edge, spec.converters));
  }
  const combos: Array<Map<string, Option>> = [];
  const changed = (changes: ReadonlyArray<[string, Option]>) => new Map([...best, ...changes]);
  const singles = edges.flatMap((e) => options.get(e)!.slice(1).map((o) => [e, o] as [string, Option]));
  for (const one of singles) combos.push(changed([one]));
  for (let i = 0; i < singles.length && combos.length < MAX_COMBINATIONS; i++) for (let j = i + 1; j < singles.length && combos.length < MAX_COMBINATIONS; j++) if (singles[i]![0] !== singles[j]![0]) combos.push(changed([singles[i]!, singles[j]!]));
  const cost = (c: Map<string, Option>) => [...c.values()].reduce((a, o) => [a[0]! + o.steps, a[1]! + o.bytes], [0, 0]);
  combos.sort((a, b) => cost(a)[0]! - cost(b)[0]! || cost(a)[1]! - cost(b)[1]!);
  for (const chosen of combos) {
    const result = place(p, [...chosen.values()]);
    if ('placed' in result) return { plan: planOf(spec, platform, result.placed, chosen) };
  }
  return first;
}

/** What planning found before any fix is looked for: the plan, an edge no way serves, or rings that do not fit together. */
type Attempt = { plan: PipelinePlan } | { edge: EdgeSpec; conflict: Conflict } | { failed: Ring; heaps: string[] };

function attempt(platform: Platform, spec: PipelineSpec): Attempt {
  const p = planning(platform);
  const options = new Map<string, Option[]>();
  for (const edge of spec.edges) {
    if (edge.via !== undefined) {
      // The file asks for this conversion step: it is the only way, and one that cannot be is bad input.
      const way = wayOf(p, edge, edge.via);
      if (!('option' in way)) throw new InputError(`${spec.origin}: pipeline field edges.${edge.name}.via = "${edge.via}": ${edge.via} cannot convert this edge: ${'unusable' in way ? way.unusable : way.conflict.core.map((a) => `${a.device ?? a.heap ?? 'edge'}.${a.constraint} = ${Array.isArray(a.value) ? a.value.join(', ') : String(a.value)}`).join('; ')}`, `edges.${edge.name}.via`, edge.via);
      options.set(edge.name, [way.option]);
      continue;
    }
    if (edge.scaleTo !== undefined) {
      // Frames change size on the way: only a conversion step serves the edge.
      const ways = stepsOf(p, edge, spec.converters);
      if (ways.length === 0) throw new InputError(`${spec.origin}: pipeline field edges.${edge.name}.scaleTo = "${edge.scaleTo.width}x${edge.scaleTo.height}": no converter (${spec.converters.join(', ')}) can take ${edge.from}'s frames and write ${edge.to.join(', ')}'s`, `edges.${edge.name}.scaleTo`, edge.scaleTo);
      options.set(edge.name, ways);
      continue;
    }
    // Conversion steps are looked at only for an edge without a ring of its own, or when the rings do not fit together.
    const own = wayOf(p, edge, undefined);
    const ways = 'option' in own ? [own.option] : stepsOf(p, edge, spec.converters);
    if (ways.length === 0) {
      if ('conflict' in own) return { edge, conflict: own.conflict };
      throw new InputError(`${spec.origin}: pipeline field edges.${edge.name}: ${'unusable' in own ? own.unusable : 'its devices take no format for their uses'}`, `edges.${edge.name}`, edge.name);
    }
    options.set(edge.name, ways);
  }
  return solve(p, spec, platform, options);
}

/** Whether the pipeline plans and places (a fix is judged by this; no fixes of fixes). */
function places(platform: Platform, spec: PipelineSpec): boolean {
  try {
    return 'plan' in attempt(platform, spec);
  } catch (err) {
    if (err instanceof InputError) return false;
    throw err;
  }
}

/** Plans and places a pipeline on a platform: every ring of every edge, together. */
export function planPipeline(platform: Platform, spec: PipelineSpec): PipelineResult {
  const found = attempt(platform, spec);
  if ('plan' in found) return { ok: true, plan: found.plan };
  if ('edge' in found) return { ok: false, conflict: edgeConflict(platform, spec, found.edge, found.conflict) };
  return { ok: false, conflict: jointConflict(platform, spec, found) };
}

/** An edge no shared layout and no conversion step serves: its conflict, and the fixes that plan the whole pipeline. */
function edgeConflict(platform: Platform, spec: PipelineSpec, edge: EdgeSpec, conflict: Conflict): PipelineConflict {
  const fixes: PipelineFix[] = [];
  const tryFix = (text: string, pipeline: PipelineSpec, p: Platform = platform) => {
    if (places(p, pipeline)) fixes.push({ text, pipeline, platform: p });
  };
  // A conversion step the pipeline does not offer yet: each device that reads and writes buffers, and the CPU.
  for (const c of [CPU, ...platform.devices.map((d) => d.name)]) {
    if (spec.converters.includes(c) || c === edge.from || edge.to.includes(c)) continue;
    const device = platform.devices.find((d) => d.name === c);
    if (device && !([...device.formats.values()].some((f) => f.access !== 'write') && [...device.formats.values()].some((f) => f.access !== 'read'))) continue;
    tryFix(`add ${c} as a converter (converters: [${[...spec.converters, c].join(', ')}]): a conversion step on edge ${edge.name}`, { ...spec, converters: [...spec.converters, c] });
    if (fixes.length >= 3) break;
  }
  // The edge's own fixes that are changes of its request (formats, size, depth).
  for (const f of conflict.fixes) {
    const changes = f.changes;
    if (changes.length === 0 || !changes.every((c) => c.target === 'request' && (c.field === 'formats' || c.field === 'width' || c.field === 'height' || c.field === 'count'))) continue;
    let changed: EdgeSpec = edge;
    for (const c of changes) {
      if (c.target !== 'request') continue;
      if (c.field === 'formats') changed = { ...changed, formats: [...(c.value as readonly string[])] };
      if (c.field === 'width') changed = { ...changed, width: c.value as number };
      if (c.field === 'height') changed = { ...changed, height: c.value as number };
      if (c.field === 'count') changed = { ...changed, depth: c.value as number };
    }
    tryFix(`edge ${edge.name}: ${f.text}`, { ...spec, edges: spec.edges.map((e) => (e.name === edge.name ? changed : e)) });
  }
  return {
    edge: edge.name,
    why: `edge ${edge.name} (${edge.from} -> ${edge.to.join(', ')}): no layout all its devices share${spec.converters.length > 0 ? `, and no conversion step on ${spec.converters.join(', ')} serves it` : ', and the pipeline names no converter'}`,
    constraints: conflict.core.map((a) => `${a.device ?? a.heap ?? 'edge'}.${a.constraint} = ${Array.isArray(a.value) ? a.value.join(', ') : String(a.value)}${a.changeable ? '' : ' (hardware)'}    (${a.source})`),
    fixes,
  };
}

/** Every edge plans alone but the rings do not fit together: shallower rings or a larger pool. */
function jointConflict(platform: Platform, spec: PipelineSpec, failed: { failed: Ring; heaps: string[] }): PipelineConflict {
  const fixes: PipelineFix[] = [];
  // A shallower ring on one edge: the deepest that still places, per edge, deepest edges first.
  for (const edge of [...spec.edges].sort((a, b) => b.depth - a.depth)) {
    for (let depth = edge.depth - 1; depth >= 1; depth--) {
      const pipeline = { ...spec, edges: spec.edges.map((e) => (e.name === edge.name ? { ...e, depth } : e)) };
      if (places(platform, pipeline)) {
        fixes.push({ text: `edge ${edge.name}: depth ${depth} instead of ${edge.depth}`, pipeline, platform });
        break;
      }
    }
  }
  // A smaller frame on a negotiable edge: the largest of its size x k/16 (same aspect, even sides) that places.
  for (const edge of spec.edges.filter((e) => e.negotiable)) {
    const scaled = (k: number): PipelineSpec => {
      const even = (n: number) => Math.max(2, Math.floor((n * k) / 16 / 2) * 2);
      return { ...spec, edges: spec.edges.map((e) => (e.name === edge.name ? { ...e, width: even(edge.width), height: even(edge.height) } : e)) };
    };
    let lo = 0;
    let hi = 16;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (places(platform, scaled(mid))) lo = mid;
      else hi = mid;
    }
    if (lo > 0) {
      const pipeline = scaled(lo);
      const e = pipeline.edges.find((x) => x.name === edge.name)!;
      fixes.push({ text: `edge ${edge.name}: ${e.width}x${e.height} instead of ${edge.width}x${edge.height} (its size is negotiable)`, pipeline, platform });
    }
  }
  // A larger pool: the first heap the ring that did not fit could use, grown to the least size that places.
  const heap = platform.heaps.find((h) => h.name === failed.heaps[0]);
  if (heap) {
    const step = 2 ** 21;
    const grown = (size: number): Platform => ({ ...platform, heaps: platform.heaps.map((h) => (h === heap ? changedHeap(h, 'size', size) : h)) });
    let hi = heap.size + step;
    while (hi < heap.size * 64 && !places(grown(hi), spec)) hi = heap.size + (hi - heap.size) * 2;
    if (places(grown(hi), spec)) {
      let lo = heap.size;
      while (hi - lo > step) {
        const mid = lo + Math.ceil((hi - lo) / 2 / step) * step;
        if (mid >= hi) break;
        if (places(grown(mid), spec)) hi = mid;
        else lo = mid;
      }
      fixes.push({ text: `grow ${heap.name} from ${formatBytes(heap.size)} to ${formatBytes(hi)}`, pipeline: spec, platform: grown(hi) });
    }
  }
  const r = failed.failed;
  return {
    edge: undefined,
    why: `every edge plans alone, but not all rings fit together: edge ${r.edge}${r.part === 'edge' ? '' : ` (${r.part === 'in' ? 'before' : 'after'} its conversion step)`} (${r.request.count} x ${r.request.width}x${r.request.height}) finds no room in ${failed.heaps.join(', ')} once the larger rings are placed`,
    constraints: [],
    fixes,
  };
}
