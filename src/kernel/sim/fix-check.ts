// Acting on a fix before it is shown: the solver proposes changes and negotiates them; this
// allocates the resulting plans together on empty heaps of the changed platform, on the simulated
// kernel (which follows Linux's heap placement). A fix whose buffers do not all allocate is dropped.
// A pool too large to simulate page by page (a sizing replay plans against unbounded pools) is
// judged by the same placement rules the simulator follows, from constraints/placement.ts.

import { poolBytesFor } from '../../constraints/placement.js';
import type { Heap, Platform } from '../../constraints/model.js';
import { SimKernel } from './kernel.js';
import type { FixCheck, Placement } from '../../solver/index.js';

/** Beyond this a pool's page bitmap would not fit in memory comfortably: 16 GiB is 4M pages. */
const SIMULATED_MAX = 16 * 2 ** 30;

/** What is allocated of a set: its heap, and `count` buffers (or multi-planar frames of `buffers`) of `size`. */
export type AllocatedSet = Pick<Placement, 'size' | 'count' | 'buffers'> & { readonly heap: { readonly name: string } };

/** Whether every set allocates together, in order, on empty heaps like `heaps` (by name). */
export function allocateTogether(heaps: readonly Heap[], sets: readonly AllocatedSet[]): boolean {
  const huge = heaps.filter((h) => h.size > SIMULATED_MAX);
  for (const heap of huge) {
    // Each plan's buffers take their stride from the pool's start; plans are summed (conservative).
    const need = sets.filter((p) => p.heap.name === heap.name).reduce((sum, p) => sum + poolBytesFor(heap, p), 0);
    if (need > heap.size) return false;
  }
  const simulated = heaps.filter((h) => h.size <= SIMULATED_MAX);
  if (simulated.length === 0) return true;
  const total = sets.reduce((sum, p) => sum + p.count * (p.buffers?.length ?? 1), 0);
  const kernel = new SimKernel(simulated, { maxFds: total + 16 });
  const fds: number[] = [];
  try {
    for (const set of sets) {
      if (!simulated.some((h) => h.name === set.heap.name)) continue;
      // Frame by frame, and a multi-planar frame plane by plane, as the allocator asks.
      for (let i = 0; i < set.count; i++) for (const size of set.buffers ?? [set.size]) fds.push(kernel.allocate(set.heap.name, size));
    }
    return true;
  } catch {
    return false;
  } finally {
    for (const fd of fds) kernel.close(fd);
  }
}

export const allocatesOnEmptyHeaps: FixCheck = (platform: Platform, plans: readonly Placement[]): boolean => {
  const used = new Map<string, Heap>();
  for (const p of plans) used.set(p.heap.name, platform.heaps.find((h) => h.name === p.heap.name) ?? p.heap);
  return allocateTogether([...used.values()], plans);
};
