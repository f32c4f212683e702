// Why an allocation on a real CMA heap failed with ENOMEM, said with the area's live state: exhausted
// (less free than the buffer) or fragmented (enough free, no run long enough where the buffer may
// start), who holds the heap's dma-bufs, and what would help, each answer checked as udalloc checks
// fixes: fewer buffers by fitting them on the live bitmap with the kernel's first fit, and a boot
// size by allocating the whole set on an empty simulated area of that size.

import { PAGE_SIZE, type Heap } from '../constraints/model.js';
import { HEAP_KINDS } from '../constraints/heap-kinds/index.js';
import { changedHeap } from '../solver/apply.js';
import { formatBytes } from '../constraints/units.js';
import { minimumPoolSize, poolSizeAtBoot } from '../constraints/placement.js';
import { allocateTogether } from '../kernel/sim/fix-check.js';
import { holdersOf } from './holders.js';
import { scanUsage } from '../service/usage.js';
import { fitNow, whyNoFit } from './analyse.js';
import { readCmaState } from './read.js';
import { cmaAlignmentOf } from './cma-alignment.js';

/**
 * Lines that explain a set of `count` buffers of `size` bytes failing in CMA area `area` (heap
 * `heap` of the platform), read under `root`; empty when the area cannot be read (no debugfs).
 */
export function diagnoseCmaFailure(root: string, area: string, heap: Heap, size: number, count: number): string[] {
  let state;
  try {
    state = readCmaState(root);
  } catch {
    return [];
  }
  const live = state.areas.find((a) => a.name === area);
  if (!live?.debug) return [`${area}: why it is full is unknown: ${state.missing[0] ?? 'its debugfs directory is unreadable'}`];
  const sizes = Array.from({ length: count }, () => size);
  const alignOrder = cmaAlignmentOf(root).order;
  const fit = fitNow(area, live.debug, sizes, alignOrder);
  const lines: string[] = [];
  if (fit.failed === undefined) lines.push(`${area} now: the ${count} buffer(s) would fit (memory was freed since, or pinned pages made the kernel skip a range: try again)`);
  else {
    const why = whyNoFit(fit.after, size, alignOrder);
    const after = fit.failed > 0 ? ` once ${fit.failed} of them are placed` : '';
    lines.push(why.kind === 'exhausted'
      ? `${area} is exhausted: ${formatBytes(why.free)} free${after}, less than a ${formatBytes(size)} buffer`
      : `${area} is fragmented: ${formatBytes(why.free)} free${after}, but the longest free run starting ${formatBytes(why.align)}-aligned (as a ${formatBytes(size)} buffer must) is ${formatBytes(why.alignedRun)}`);
  }
  const holders = holdersOf(scanUsage(root), area);
  lines.push(holders.length === 0 ? `no process holds a dma-buf of ${area} (that this user may see)` : `held by: ${holders.map((h) => `${h.comm} (pid ${h.pid}) ${h.buffers} buffer(s), ${formatBytes(h.bytes)}`).join('; ')}`);
  const helps: string[] = [];
  // Fewer buffers: the most that fit now, by the kernel's first fit on the live bitmap.
  if (fit.failed !== undefined && fit.failed > 0) helps.push(`${fit.failed} buffer(s) instead of ${count} fit now`);
  // A larger area at boot: the least that holds the set on an empty area, checked by allocating it there.
  const need = poolSizeAtBoot(heap, minimumPoolSize({ ...heap, size: Infinity }, size, count));
  const grown = changedHeap(heap, 'size', need);
  if (need > live.debug.pages * PAGE_SIZE && allocateTogether([grown], [{ heap: grown, size, count, buffers: undefined }])) helps.push(`an area of ${formatBytes(need)} holds them when empty: ${HEAP_KINDS[heap.kind].bootAdvice(area, need) ?? `size ${formatBytes(need)}`}`);
  else if (need <= live.debug.pages * PAGE_SIZE) helps.push(`the area is large enough when empty (${formatBytes(need)} needed): free what others hold, or allocate these earlier, before the area fragments`);
  if (helps.length > 0) lines.push(`would help: ${helps.join('; or ')}`);
  return lines;
}
