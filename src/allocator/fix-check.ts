// Acting on a fix before it is shown: the solver proposes changes and negotiates them; this
// allocates the resulting plans together on empty heaps of the changed platform, on the simulated
// kernel (which follows Linux's heap placement). A fix whose buffers do not all allocate is dropped.

import type { Platform } from '../constraints/model.js';
import { SimKernel } from '../kernel/sim/kernel.js';
import type { FixCheck, Placement } from '../solver/index.js';

export const allocatesOnEmptyHeaps: FixCheck = (platform: Platform, plans: readonly Placement[]): boolean => {
  const total = plans.reduce((sum, p) => sum + p.count, 0);
  const kernel = new SimKernel(platform.heaps, { maxFds: total + 16 });
  const fds: number[] = [];
  try {
    for (const plan of plans) for (let i = 0; i < plan.count; i++) fds.push(kernel.allocate(plan.heap.name, plan.size));
    return true;
  } catch {
    return false;
  } finally {
    for (const fd of fds) kernel.close(fd);
  }
};
