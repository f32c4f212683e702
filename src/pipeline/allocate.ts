// Allocating a planned pipeline: every ring with exactly the layout and heap the planner placed it
// in (not a fresh choice per ring, which could pick another heap and undo the joint placement),
// all or nothing.

import type { AllocatedBuffers, Allocator } from '../allocator/allocator.js';
import { narrowPlan, type Plan } from '../allocator/plan.js';
import { InputError } from '../errors.js';
import type { PipelinePlan, PlacedRing } from './planner.js';

export interface AllocatedRing {
  readonly ring: PlacedRing;
  readonly buffers: AllocatedBuffers;
}

/** A ring's name as buffers carry it: the edge, and its side of a conversion step. */
export function ringName(ring: PlacedRing): string {
  return ring.part === 'edge' ? ring.edge : `${ring.edge}-${ring.part}`;
}

/**
 * The ring's request negotiated by `allocator`, kept to the layout and heap the planner placed it
 * in. The planner and the allocator share the platform, so that choice is among the ranked ones;
 * when it is not (the allocator's platform is another), the error says so.
 */
export function ringPlan(allocator: Allocator, ring: PlacedRing): Plan {
  const plan = allocator.negotiate(ring.request, { against: 'capacity', alternatives: 32 });
  const want = ring.choice;
  const heap = want.heap.describe().name;
  const kept = narrowPlan(plan, (c) => c.format === want.format && c.modifierValue === want.modifierValue && c.size === want.size && c.heap.describe().name === heap);
  if (!kept) throw new InputError(`pipeline ring ${ringName(ring)}: the allocator's platform does not offer the planned ${want.format} ${want.modifier} in ${heap}: plan the pipeline on the allocator's platform`, 'platform', allocator.platform.name);
  return kept;
}

/**
 * Allocates every ring of the plan, in the order they were placed (largest first, as the planner
 * placed them), without falling back to another heap; on a failure every ring allocated so far is
 * closed and the error thrown.
 */
export function allocatePipeline(allocator: Allocator, plan: PipelinePlan): AllocatedRing[] {
  const done: AllocatedRing[] = [];
  try {
    for (const ring of plan.rings) done.push({ ring, buffers: allocator.allocateSync(ringPlan(allocator, ring), { name: ringName(ring).slice(0, 24), fallback: false }) });
    return done;
  } catch (err) {
    for (const r of done) for (const b of r.buffers) b.close();
    throw err;
  }
}
