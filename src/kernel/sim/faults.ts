// Seeded fault injection: make chosen kernel calls fail the way Linux can make them fail, so tests
// can drive every error path of the allocator deterministically.

import { InputError } from '../../errors.js';
import type { Errno } from '../errno.js';
import { seededRandom } from '../../util/random.js';

/**
 * Points where the simulated kernel consults the schedule:
 * - allocate: DMA_HEAP_IOCTL_ALLOC as a whole (ENOMEM, EINTR from fatal_signal_pending in
 *   system_heap.c, EBUSY);
 * - migrate: one alloc_contig_range() inside cma_alloc (mm/cma.c) found pinned pages (EBUSY); the
 *   kernel then retries further up the area, exactly as modelled in cma.ts;
 * - dup (EMFILE), map (ENOMEM, EINTR), sync (EINTR: dma_resv waits are interruptible),
 *   setName (EBUSY: kernels before 6.x refused renaming attached buffers; ENOMEM).
 */
export type FaultPoint = 'allocate' | 'migrate' | 'dup' | 'map' | 'sync' | 'setName';

const POSSIBLE: Record<FaultPoint, readonly Errno[]> = {
  allocate: ['ENOMEM', 'EINTR', 'EBUSY'],
  migrate: ['EBUSY'],
  dup: ['EMFILE'],
  map: ['ENOMEM', 'EINTR'],
  sync: ['EINTR'],
  setName: ['EBUSY', 'ENOMEM'],
};

export interface FaultRule {
  readonly at: FaultPoint;
  readonly errno: Errno;
  /** Only calls on this heap (allocate, migrate). */
  readonly heap?: string;
  /** Fail the N-th matching call (1-based). */
  readonly call?: number;
  /** Fail each matching call with this probability (seeded). */
  readonly probability?: number;
  /** Stop after failing this many calls (default: no limit for probability, 1 for call). */
  readonly times?: number;
}

interface RuleState {
  readonly rule: FaultRule;
  seen: number;
  fired: number;
}

export class FaultInjector {
  readonly #rules: RuleState[];
  readonly #random: () => number;
  /** How many faults fired, per point; tests read it to know the storm really injected faults. */
  readonly fired: Record<FaultPoint, number> = { allocate: 0, migrate: 0, dup: 0, map: 0, sync: 0, setName: 0 };

  constructor(rules: readonly FaultRule[] = [], seed = 1) {
    rules.forEach((rule, i) => validateRule(rule, i));
    this.#rules = rules.map((rule) => ({ rule, seen: 0, fired: 0 }));
    this.#random = seededRandom(seed);
  }

  /** The errno to fail this call with, or undefined to let it proceed. */
  check(point: FaultPoint, heap?: string): Errno | undefined {
    for (const state of this.#rules) {
      const { rule } = state;
      if (rule.at !== point || (rule.heap !== undefined && rule.heap !== heap)) continue;
      state.seen++;
      const limit = rule.times ?? (rule.call !== undefined ? 1 : Infinity);
      if (state.fired >= limit) continue;
      const hit = rule.call !== undefined ? state.seen >= rule.call : this.#random() < (rule.probability ?? 0);
      if (hit) {
        state.fired++;
        this.fired[point]++;
        return rule.errno;
      }
    }
    return undefined;
  }
}

function validateRule(rule: FaultRule, i: number): void {
  const field = `faults[${i}]`;
  const possible = POSSIBLE[rule.at];
  if (!possible) throw new InputError(`${field}.at: unknown fault point ${JSON.stringify(rule.at)} (one of ${Object.keys(POSSIBLE).join(', ')})`, `${field}.at`, rule.at);
  if (!possible.includes(rule.errno)) throw new InputError(`${field}.errno: the kernel cannot fail ${rule.at} with ${rule.errno} (it can: ${possible.join(', ')})`, `${field}.errno`, rule.errno);
  if ((rule.call === undefined) === (rule.probability === undefined)) throw new InputError(`${field}: give exactly one of call or probability`, field, rule);
  if (rule.call !== undefined && !(Number.isSafeInteger(rule.call) && rule.call >= 1)) throw new InputError(`${field}.call: must be a whole number >= 1`, `${field}.call`, rule.call);
  if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) throw new InputError(`${field}.probability: must be between 0 and 1`, `${field}.probability`, rule.probability);
  if (rule.times !== undefined && !(Number.isSafeInteger(rule.times) && rule.times >= 1)) throw new InputError(`${field}.times: must be a whole number >= 1`, `${field}.times`, rule.times);
}
