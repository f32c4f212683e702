// Heaps as applications see them: opaque handles. The seeds are explicit that applications must not
// pick heaps by name (names differ from board to board and kernel to kernel); the solver picks.
// describe() exists for logs and diagnostics, not for branching on.

import { inspect } from 'node:util';
import type { Heap, HeapKind } from '../constraints/model.js';

export interface HeapDescription {
  readonly name: string;
  readonly kind: HeapKind;
  readonly base: number | undefined;
  /** Highest physical address + 1 a buffer of the heap can occupy, when known (base + size, or a limit). */
  readonly end: number | undefined;
  readonly capacity: number;
  readonly contiguous: boolean;
  readonly cpuAccess: boolean;
  readonly path: string;
}

/**
 * The handle of a profile's heap: its description from the profile (a system heap's end is RAM's,
 * not a limit, so none is given), with the capacity and path of the kernel heap behind it.
 */
export function handleOfHeap(id: number, heap: Heap, capacity: number, path: string): HeapHandle {
  return new HeapHandle(id, { name: heap.name, kind: heap.kind, base: heap.base, end: Number.isFinite(heap.end) && heap.kind !== 'system' ? heap.end : undefined, capacity, contiguous: heap.contiguous, cpuAccess: heap.cpuAccess, path });
}

const descriptions = new WeakMap<HeapHandle, HeapDescription>();

export class HeapHandle {
  /** A small number, stable for the life of the Allocator, for telling handles apart in logs. */
  readonly id: number;

  /** @internal Created by the allocator only. */
  constructor(id: number, description: HeapDescription) {
    this.id = id;
    descriptions.set(this, description);
  }

  /** What the heap is, for diagnostics. Do not choose heaps by these values. */
  describe(): HeapDescription {
    return descriptions.get(this)!;
  }

  toString(): string {
    return `[heap #${this.id}]`;
  }

  toJSON(): string {
    return this.toString();
  }

  /** console.log / util.inspect: the handle and, for the person reading the log, what it is. */
  [inspect.custom](): string {
    const d = this.describe();
    return `HeapHandle #${this.id} (${d.name}, ${d.kind})`;
  }
}

/** @internal The kernel name behind a handle. */
export function heapName(handle: HeapHandle): string {
  return descriptions.get(handle)!.name;
}
