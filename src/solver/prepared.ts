// A platform with everything the solver works out from it: compiled request shapes (with their
// atoms and conflict tables), the conflicts explained so far, and the last answer given. Whoever
// holds a platform for long holds one of these (the allocator, the service); nothing is kept at
// module level, and every key covers the whole request, its sources included, so that two
// callers asking the same thing in their own words never share an answer.

import type { Platform, Request } from '../constraints/model.js';
import type { FixCheck } from './conflict.js';
import type { Negotiation } from './negotiate.js';
import { ShapeTable } from './problem.js';

/** Conflicts kept per platform; the oldest are evicted so a long-running process stays bounded. */
const CONFLICTS_KEPT = 4096;

export class PreparedPlatform {
  readonly platform: Platform;
  readonly shapes: ShapeTable;
  /** Conflicts by fix check, then by the request's every field (see conflictKey()). */
  readonly #conflicts = new Map<FixCheck | undefined, Map<string, Negotiation>>();
  // The last request answered, with the options that shaped its answer (fields, not an object:
  // this is set on every negotiation).
  #lastRequest: Request | undefined;
  #lastAlternatives = 0;
  #lastCheck: FixCheck | undefined;
  #lastResult: Negotiation | undefined;

  constructor(platform: Platform) {
    this.platform = platform;
    this.shapes = new ShapeTable(platform);
  }

  /** The answer last given for this very request object with the same options, if it was the last asked. */
  lastAnswer(request: Request, alternatives: number, check: FixCheck | undefined): Negotiation | undefined {
    return this.#lastRequest === request && this.#lastAlternatives === alternatives && this.#lastCheck === check ? this.#lastResult : undefined;
  }

  remember(request: Request, alternatives: number, check: FixCheck | undefined, result: Negotiation): void {
    this.#lastRequest = request;
    this.#lastAlternatives = alternatives;
    this.#lastCheck = check;
    this.#lastResult = result;
  }

  conflict(key: string, check: FixCheck | undefined): Negotiation | undefined {
    return this.#conflicts.get(check)?.get(key);
  }

  keepConflict(key: string, check: FixCheck | undefined, result: Negotiation): void {
    let table = this.#conflicts.get(check);
    if (!table) this.#conflicts.set(check, (table = new Map()));
    if (table.size >= CONFLICTS_KEPT) table.delete(table.keys().next().value!);
    table.set(key, result);
  }
}

/** The prepared form of a platform (a new one each call: hold on to it to keep what it learns). */
export function prepare(platform: Platform | PreparedPlatform): PreparedPlatform {
  return platform instanceof PreparedPlatform ? platform : new PreparedPlatform(platform);
}
