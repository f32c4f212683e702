// Which kernel backend an Allocator talks to. Real heaps when the machine has them and a native
// backend for them is built; the simulated kernel otherwise, saying so.

import { existsSync, readdirSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { Platform } from '../constraints/model.js';
import type { KernelBackend } from '../kernel/backend.js';
import { SimKernel, type SimOptions } from '../kernel/sim/kernel.js';

export type BackendChoice = 'auto' | 'sim' | KernelBackend;

export interface SelectedBackend {
  readonly backend: KernelBackend;
  /** One line for humans: which backend and why. */
  readonly reason: string;
}

/** Where Linux publishes dma-buf heaps (drivers/dma-buf/dma-heap.c creates /dev/dma_heap/<name>). */
export const DMA_HEAP_DIR = '/dev/dma_heap';

function liveHeaps(dir: string): string[] {
  if (!existsSync(dir)) return [];
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function selectBackend(platform: Platform, choice: BackendChoice = 'auto', sim: SimOptions = {}, heapDir = DMA_HEAP_DIR): SelectedBackend {
  if (typeof choice === 'object') return { backend: choice, reason: `${choice.kind} backend supplied by the caller` };
  if (choice === 'sim') return { backend: new SimKernel(platform.heaps, sim), reason: `simulated kernel (requested) with the heaps of ${platform.origin}` };
  if (choice !== 'auto') throw new InputError(`backend ${JSON.stringify(choice)}: expected auto or sim`, 'backend', choice);
  const live = liveHeaps(heapDir);
  const why = live.length > 0 ? `${heapDir} has ${live.join(', ')}, but this build has no native dma-heap backend` : `no ${heapDir} on this machine`;
  return { backend: new SimKernel(platform.heaps, sim), reason: `simulated kernel (${why}) with the heaps of ${platform.origin}` };
}
