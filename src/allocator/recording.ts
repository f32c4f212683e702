// What the allocator tells a recorder (sim/record.ts's TraceRecorder is one): each buffer set it
// hands out, once, and when the last buffer of the set is closed. The allocator owns this
// interface so that it never depends on the sizing code that reads the records.

import type { Request } from '../constraints/model.js';

export interface AllocationRecorder {
  /** A set of `count` buffers was allocated for `request`; returns the id its free will use. */
  alloc(request: Request, count: number): string;
  /** The last buffer of the set `id` was closed. */
  free(id: string): void;
}

/** A recorded set: its id and how many of its buffers are still open. */
export interface RecordedSet {
  readonly id: string;
  open: number;
}
