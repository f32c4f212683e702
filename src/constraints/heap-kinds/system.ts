// The system heap (drivers/dma-buf/heaps/system_heap.c): scattered pages from anywhere in RAM,
// allocated in order 8/4/0 chunks. RAM is not a pool set at boot.

import type { HeapKindRules } from './kind.js';
import { byPages } from './pages.js';

export const system: HeapKindRules = {
  ...byPages,
  kind: 'system',
  contiguous: false,
  cpuAccess: true,
  secure: false,
  scarcity: 0,
  allocator: 'pages',
  sizedPool: false,
  placeable: false,
  defaultAlignOrder: undefined,
  // RAM starts near 0 on most machines; the heap is not contiguous anyway.
  endWithoutPlace: (size) => size,
  bootAdvice: () => undefined,
};
