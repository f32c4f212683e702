// Errors of the allocator API, each carrying what a caller needs to act on it.

import type { Request } from '../constraints/model.js';
import type { Conflict } from '../solver/negotiate.js';
import { conflictLines } from '../solver/conflict-text.js';
import type { Errno } from '../kernel/errno.js';
import type { HeapHandle } from './heap-handle.js';

/** negotiate() found no plan: `conflict` holds the conflicting constraints and fixes. */
export class ConflictError extends Error {
  /** `request` is the one that conflicts (its size and CPU use go into each fix's layouts in JSON). */
  constructor(
    readonly conflict: Conflict,
    readonly request: Request,
  ) {
    super(conflictLines(conflict).join('\n'));
    this.name = 'ConflictError';
  }
}

export interface FailedAttempt {
  readonly heap: HeapHandle;
  readonly errno: Errno;
  /** Buffers of the set that had been allocated (and were released) when this attempt failed. */
  readonly allocated: number;
}

/** allocate() could not place the buffers in any ranked plan; everything taken was released. */
export class AllocationError extends Error {
  constructor(
    readonly attempts: readonly FailedAttempt[],
    detail: string,
  ) {
    super(`allocation failed on every ranked plan (${attempts.map((a) => `${a.heap.describe().name} (${a.heap.describe().kind}): ${a.errno} after ${a.allocated} buffer(s)`).join('; ')}): ${detail}`);
    this.name = 'AllocationError';
  }
}

/** A DmaBuffer or CpuView was used after close()/end(). */
export class ClosedError extends Error {
  constructor(what: string) {
    super(`${what} was used after it was closed`);
    this.name = 'ClosedError';
  }
}
