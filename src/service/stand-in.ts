// On the simulated kernel a buffer has no kernel object a client could receive. The service hands
// out a sealed memfd of the planned size in its place: a real fd the client can fstat, mmap, write
// and read, whose size cannot change.

import { F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, sealedMemfd } from '../kernel/memfd.js';
import { loadNative } from '../kernel/native/addon.js';

/** The memfd's name (shown as "/memfd:udalloc:<heap> <charge tag>" in /proc/<pid>/fd and maps). */
export const STAND_IN_PREFIX = 'udalloc:';

/** The heap as one word of a stand-in's name (the service's labels have a space: "heap #2" -> "heap#2"). */
export function standInWord(heap: string): string {
  return heap.replace(/\s+/g, '').slice(0, 200);
}

export function standInFor(heap: string, size: number, tag: string): number {
  return sealedMemfd(loadNative(), `${STAND_IN_PREFIX}${standInWord(heap)} ${tag}`, size, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL, heap);
}

/** The heap a stand-in's name (what follows "/memfd:udalloc:") stands for. */
export function standInHeap(rest: string): string {
  return rest.replace(/ \(deleted\)$/, '').split(' ')[0]!;
}
