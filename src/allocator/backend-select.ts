// Which kernel backend an Allocator talks to. Real heaps when the machine has them and a native
// backend for them is built; the simulated kernel otherwise, saying so.

import { listDirectory } from '../util/fs.js';
import { InputError } from '../errors.js';
import type { Platform } from '../constraints/model.js';
import type { KernelBackend } from '../kernel/backend.js';
import { SimKernel, type SimOptions } from '../kernel/sim/kernel.js';
import { DmaHeapBackend } from '../kernel/dma-heap/backend.js';
import { UdmabufBackend } from '../kernel/udmabuf/backend.js';
import { IonBackend } from '../kernel/ion/backend.js';

export type BackendChoice = 'auto' | 'sim' | 'dma-heap' | 'udmabuf' | 'ion' | KernelBackend;
export const BACKEND_NAMES = ['auto', 'sim', 'dma-heap', 'udmabuf', 'ion'] as const;

export interface SelectedBackend {
  readonly backend: KernelBackend;
  /** One line for humans: which backend and why. */
  readonly reason: string;
}

/** Where Linux publishes dma-buf heaps (drivers/dma-buf/dma-heap.c creates /dev/dma_heap/<name>). */
export const DMA_HEAP_DIR = '/dev/dma_heap';


export function selectBackend(platform: Platform, choice: BackendChoice = 'auto', sim: SimOptions = {}, heapDir = DMA_HEAP_DIR): SelectedBackend {
  if (typeof choice === 'object') return { backend: choice, reason: `${choice.kind} backend supplied by the caller` };
  switch (choice) {
    case 'sim':
      return { backend: new SimKernel(platform.heaps, sim), reason: `simulated kernel (requested) with the heaps of ${platform.origin}` };
    case 'dma-heap':
      return { backend: new DmaHeapBackend({ dir: heapDir }), reason: `dma-buf heaps in ${heapDir} (requested): ${listDirectory(heapDir).join(', ') || 'none'}` };
    case 'udmabuf':
      return { backend: new UdmabufBackend(), reason: 'udmabuf (requested): system memory through /dev/udmabuf' };
    case 'ion':
      return { backend: new IonBackend(), reason: 'ION (requested): /dev/ion' };
    case 'auto':
      break;
    default:
      throw new InputError(`backend ${JSON.stringify(choice)}: expected one of ${BACKEND_NAMES.join(', ')}`, 'backend', choice);
  }
  const live = listDirectory(heapDir);
  if (live.length > 0) {
    try {
      return { backend: new DmaHeapBackend({ dir: heapDir }), reason: `dma-buf heaps in ${heapDir}: ${live.join(', ')}` };
    } catch (err) {
      return { backend: new SimKernel(platform.heaps, sim), reason: `simulated kernel (${heapDir} has ${live.join(', ')}, but ${(err as Error).message}) with the heaps of ${platform.origin}` };
    }
  }
  return { backend: new SimKernel(platform.heaps, sim), reason: `simulated kernel (no ${heapDir} on this machine) with the heaps of ${platform.origin}` };
}
