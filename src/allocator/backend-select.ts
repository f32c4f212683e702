// Which kernel backend an Allocator talks to. Real heaps when the machine has them and a native
// backend for them is built; the simulated kernel otherwise, saying so.

import { existsSync } from 'node:fs';
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


/** Device nodes of the other backends (tests point them elsewhere). */
export interface BackendDevices {
  readonly ion: string;
  readonly udmabuf: string;
}
const DEVICES: BackendDevices = { ion: '/dev/ion', udmabuf: '/dev/udmabuf' };

export function selectBackend(platform: Platform, choice: BackendChoice = 'auto', sim: SimOptions = {}, heapDir = DMA_HEAP_DIR, devices: BackendDevices = DEVICES): SelectedBackend {
  if (typeof choice === 'object') return { backend: choice, reason: `${choice.kind} backend supplied by the caller` };
  switch (choice) {
    case 'sim':
      return { backend: new SimKernel(platform.heaps, sim), reason: `simulated kernel (requested) with the heaps of ${platform.origin}` };
    case 'dma-heap':
      return { backend: new DmaHeapBackend({ dir: heapDir }), reason: `dma-buf heaps in ${heapDir} (requested): ${listDirectory(heapDir).join(', ') || 'none'}` };
    case 'udmabuf':
      if (!existsSync(devices.udmabuf)) throw new InputError(`backend udmabuf: ${devices.udmabuf} does not exist (a kernel built with CONFIG_UDMABUF has it); use --backend sim to simulate the profile's heaps`, 'backend', choice);
      return { backend: new UdmabufBackend(), reason: 'udmabuf (requested): system memory through /dev/udmabuf' };
    case 'ion':
      if (!existsSync(devices.ion)) {
        const heaps = listDirectory(heapDir).length > 0;
        throw new InputError(`backend ion: ${devices.ion} does not exist (ION was removed from Linux in 5.11${heaps ? `; this kernel has dma-buf heaps in ${heapDir}: use --backend dma-heap` : '; use --backend sim to simulate the profile\'s heaps'})`, 'backend', choice);
      }
      return { backend: new IonBackend({ device: devices.ion }), reason: `ION (requested): ${devices.ion}` };
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
