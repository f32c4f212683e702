// Charges: a buffer the service handed to a client stays charged to that client while any process
// still holds it (an fd or a mapping, found by inode in a usage scan: never by what the client
// says), including a process the client passed it to; it stops being charged once no one holds it.

import type { HeapKind } from '../constraints/model.js';
import type { Usage } from './usage.js';

/** A buffer the service allocated for a client. */
export interface Allocation {
  readonly inode: number;
  readonly kind: HeapKind;
  readonly size: number;
}

export interface Charge {
  /** Bytes per heap kind of the client's buffers still held by some process. */
  readonly bytes: Partial<Record<HeapKind, number>>;
  /** The buffers still held (what a quota refusal lists). */
  readonly held: readonly Allocation[];
  /** The buffers no process holds any more: the service forgets them. */
  readonly released: readonly Allocation[];
}

export function chargeOf(usage: Usage, allocations: readonly Allocation[]): Charge {
  const live = new Set(usage.buffers.map((b) => b.inode));
  const held = allocations.filter((a) => live.has(a.inode));
  const bytes: Partial<Record<HeapKind, number>> = {};
  for (const a of held) bytes[a.kind] = (bytes[a.kind] ?? 0) + a.size;
  return { bytes, held, released: allocations.filter((a) => !live.has(a.inode)) };
}
