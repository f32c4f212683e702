// The solver's entry point: request + platform -> best plan with ranked alternatives, or a
// conflict with its minimal correction set, core and fixes. Pure and deterministic; what a
// prepared platform learns (compiled shapes, explained conflicts) it keeps.

import { inspect, type InspectOptions } from 'node:util';
import type { Platform, Request } from '../constraints/model.js';
import { checkRequestMagnitude, deviceEntries } from '../constraints/request.js';
import { shortModifierName } from '../constraints/modifiers.js';
import { formatAddress } from '../constraints/units.js';
import { explainConflict, type Conflict, type FixCheck } from './conflict.js';
import { PreparedPlatform } from './prepared.js';
import { compile, compileAll, type Problem } from './problem.js';
import { search, type CapacityOf, type Placement } from './solve.js';

export type { Conflict, Fix, FixCheck } from './conflict.js';

export type Negotiation =
  | { readonly ok: true; readonly plan: Placement; readonly alternatives: readonly Placement[]; readonly rationale: readonly string[] }
  | { readonly ok: false; readonly conflict: Conflict };

export interface NegotiateOptions {
  /** How many ranked alternatives to return besides the best plan (default 8). */
  readonly alternatives?: number;
  /** Bytes each heap can offer now; default: its whole capacity. Results with it are not memoised. */
  readonly capacityOf?: CapacityOf;
  /**
   * Acts on each fix of a conflict (allocates its plans on an empty simulated kernel): fixes that
   * fail it are dropped. Without it, a fix is shown when the changed inputs negotiate a plan.
   */
  readonly check?: FixCheck;
  /** false: solve afresh even when the memo has the answer (benchmarks of cold negotiation). */
  readonly memo?: boolean;
}

function rationale(platform: Platform, request: Request, plan: Placement): string[] {
  return request.devices.map((name) => {
    const d = platform.devices.find((x) => x.name === name)!;
    const rule = d.formats.get(plan.format.name);
    const parts: string[] = [];
    if (rule) {
      const choice = rule.modifiers.indexOf(plan.modifier) + 1;
      parts.push(`${plan.format.name} ${shortModifierName(plan.modifier)} is its modifier choice #${choice}`);
      const need = request.access.get(name);
      if (need !== undefined) parts.push(`${need === 'readwrite' ? 'reads and writes' : `${need}s`} the buffer (${plan.format.name} access: ${rule.access})`);
      if (rule.pitchAlign > 1) parts.push(`pitch ${plan.planes[0]!.pitch} is a multiple of ${rule.pitchAlign}`);
    } else {
      parts.push(`does not restrict ${plan.format.name}`);
    }
    if (d.iommu) parts.push(`IOMMU maps any pages of ${plan.heap.name}`);
    else {
      parts.push(`no IOMMU: ${plan.heap.name} is contiguous`);
      if (d.dmaBits !== undefined) parts.push(`ends at ${formatAddress(plan.heap.end)} <= 2^${d.dmaBits}`);
      if (d.alignment > 4096) parts.push(`base aligned to ${plan.alignment} (needs ${d.alignment})`);
    }
    if (d.heaps) parts.push(`${plan.heap.name} is one of its heaps`);
    return `${name}: ${parts.join('; ')}`;
  });
}

/**
 * A successful negotiation whose rationale's sentences are written when someone reads them, once;
 * so are its alternatives when they are judged against whole capacities (no live free space that
 * could change meanwhile): a caller that takes the best plan pays for no other.
 */
class Planned {
  readonly ok = true as const;
  readonly plan: Placement;
  #alternatives: readonly Placement[] | (() => readonly Placement[]);
  #platform: Platform;
  #request: Request;
  #why: readonly string[] | undefined;

  constructor(platform: Platform, request: Request, plan: Placement, alternatives: readonly Placement[] | (() => readonly Placement[])) {
    this.plan = plan;
    this.#alternatives = alternatives;
    this.#platform = platform;
    this.#request = request;
  }

  get alternatives(): readonly Placement[] {
    const a = this.#alternatives;
    return typeof a === 'function' ? (this.#alternatives = a()) : a;
  }

  get rationale(): readonly string[] {
    return (this.#why ??= rationale(this.#platform, this.#request, this.plan));
  }

  /** JSON.stringify and structured logs see the rationale like the other fields. */
  toJSON(): { ok: true; plan: Placement; alternatives: readonly Placement[]; rationale: readonly string[] } {
    return { ok: true, plan: this.plan, alternatives: this.alternatives, rationale: this.rationale };
  }

  /** So does console.log. */
  [inspect.custom](_depth: number, options: InspectOptions): string {
    return inspect(this.toJSON(), options);
  }
}

/**
 * The best plan, with its alternatives: searched at once against live free space (it may change),
 * else when first read. Undefined when no plan exists.
 */
function planOf(platform: Platform, request: Request, problem: Problem, options: NegotiateOptions): Planned | undefined {
  const { capacityOf } = options;
  const limit = 1 + (options.alternatives ?? 8);
  if (capacityOf) {
    const plans = search(platform, problem, { limit, capacityOf });
    return plans.length > 0 ? new Planned(platform, request, plans[0]!, plans.slice(1)) : undefined;
  }
  const best = search(platform, problem, { limit: 1 })[0];
  return best && new Planned(platform, request, best, () => search(platform, problem, { limit }).slice(1));
}

function solveFresh(prepared: PreparedPlatform, request: Request, options: NegotiateOptions, memo: boolean): Negotiation {
  checkRequestMagnitude(request);
  const capacityOf = options.capacityOf;
  const problem = compile(prepared.shapes, request);
  const planned = planOf(prepared.platform, request, problem, options);
  if (planned) return planned;
  // No plan: only now build the atoms, relax them and try the fixes. Explanations are kept, by
  // every field of the request (its sources too: a conflict names them) and the options.
  const key = memo ? conflictKey(request, options) : undefined;
  const known = key !== undefined ? prepared.conflict(key, options.check) : undefined;
  if (known) return known;
  const result: Negotiation = { ok: false, conflict: explainConflict(prepared, request, { capacityOf, check: options.check }) };
  if (key !== undefined) prepared.keepConflict(key, options.check, result);
  return result;
}

/** Every field of the request, sources included, and the options that shape an answer. */
export function conflictKey(request: Request, options: NegotiateOptions): string {
  const sources = Object.keys(request.sources).sort().map((k) => `${k}=${request.sources[k]}`);
  return JSON.stringify([request.width, request.height, request.formats.map((f) => f.name), deviceEntries(request), request.cpu, request.protected, request.count, request.fixedSize, sources, options.alternatives ?? 8]);
}

/**
 * Negotiates a plan. Deterministic. Given a PreparedPlatform (prepare()), what it works out is kept
 * there: request shapes compiled once, conflicts explained once, the last answer given again for
 * the same request object. Given a bare Platform, everything is worked out afresh.
 */
export function negotiate(platform: Platform | PreparedPlatform, request: Request, options: NegotiateOptions = {}): Negotiation {
  if (!(platform instanceof PreparedPlatform)) {
    // Nothing prepared: merge and search directly; a platform is prepared only if a conflict needs explaining.
    checkRequestMagnitude(request);
    const full = compileAll(platform, request);
    const problem = { width: request.width, height: request.height, count: request.count, candidates: full.candidates, heap: full.heap, preferredHeapRank: full.preferredHeapRank };
    const planned = planOf(platform, request, problem, options);
    if (planned) return planned;
    // Nothing is kept for a bare platform: the conflict is explained over a preparation of its own.
    return { ok: false, conflict: explainConflict(new PreparedPlatform(platform), request, { capacityOf: options.capacityOf, check: options.check }) };
  }
  // Answers that depend on live free space are never kept.
  if (options.capacityOf || options.memo === false) return solveFresh(platform, request, options, false);
  const alternatives = options.alternatives ?? 8;
  const last = platform.lastAnswer(request, alternatives, options.check);
  if (last) return last;
  const result = solveFresh(platform, request, options, true);
  platform.remember(request, alternatives, options.check, result);
  return result;
}
