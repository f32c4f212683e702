// The solver's entry point: request + platform -> best plan with ranked alternatives, or a
// conflict with its minimal correction set, core and fixes. Pure and deterministic; results for
// static capacities are memoised by request fingerprint.

import { inspect, type InspectOptions } from 'node:util';
import type { Platform, Request } from '../constraints/model.js';
import { checkRequestMagnitude, deviceEntries } from '../constraints/request.js';
import { shortModifierName } from '../constraints/modifiers.js';
import { formatAddress } from '../constraints/units.js';
import { explainConflict, type Conflict, type FixCheck } from './conflict.js';
import { compile } from './problem.js';
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

/** A successful negotiation whose rationale's sentences are written when someone reads them, once. */
class Planned {
  readonly ok = true as const;
  readonly plan: Placement;
  readonly alternatives: readonly Placement[];
  #platform: Platform;
  #request: Request;
  #why: readonly string[] | undefined;

  constructor(platform: Platform, request: Request, plans: Placement[]) {
    this.plan = plans[0]!;
    this.alternatives = plans.slice(1);
    this.#platform = platform;
    this.#request = request;
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

function solveFresh(platform: Platform, request: Request, options: NegotiateOptions): Negotiation {
  checkRequestMagnitude(request);
  const capacityOf = options.capacityOf;
  const limit = 1 + (options.alternatives ?? 8);
  const plans = search(platform, compile(platform, request), { limit, capacityOf });
  if (plans.length > 0) return new Planned(platform, request, plans);
  // No plan: only now build the atoms, relax them and try the fixes.
  return { ok: false, conflict: explainConflict(platform, request, { capacityOf, check: options.check }) };
}

function fingerprint(request: Request, options: NegotiateOptions): string {
  return [request.width, request.height, request.formats.map((f) => f.name).join(','), deviceEntries(request).join(','), request.cpu, request.protected, request.count, options.alternatives ?? 8, options.check ? 'checked' : ''].join('|');
}

/** Results kept per platform; the oldest are evicted so a long-running process stays bounded. */
const MEMO_ENTRIES = 4096;
const memo = new WeakMap<Platform, Map<string, Negotiation>>();
const memoByRequest = new WeakMap<Request, { key: string; platform: Platform; result: Negotiation }>();

/** Negotiates a plan. Deterministic; repeated requests on the same platform are answered from a memo. */
export function negotiate(platform: Platform, request: Request, options: NegotiateOptions = {}): Negotiation {
  if (options.capacityOf || options.memo === false) return solveFresh(platform, request, options);
  const alternativesKey = `${options.alternatives ?? 8}${options.check ? 'checked' : ''}`;
  const cached = memoByRequest.get(request);
  if (cached && cached.platform === platform && cached.key === alternativesKey) return cached.result;
  let table = memo.get(platform);
  if (!table) memo.set(platform, (table = new Map()));
  const key = fingerprint(request, options);
  let result = table.get(key);
  if (!result) {
    result = solveFresh(platform, request, options);
    if (table.size >= MEMO_ENTRIES) table.delete(table.keys().next().value!);
    table.set(key, result);
  }
  memoByRequest.set(request, { key: alternativesKey, platform, result });
  return result;
}
