// A carveout: a /reserved-memory region handed out by a gen_pool (lib/genalloc.c,
// gen_pool_create(PAGE_SHIFT)): page granule, no alignment beyond a page, first fit. It may sit
// anywhere; its size and place are its reserved-memory node's.

import type { HeapKindRules } from './kind.js';
import { byPages } from './pages.js';

export const reservedPool = {
  ...byPages,
  contiguous: true,
  sizedPool: true,
  placeable: true,
  defaultAlignOrder: undefined,
  allocator: 'genpool',
  endWithoutPlace: () => Infinity,
  bootAdvice: (_name: string, size: number) => `at boot: the size of its /reserved-memory node (0x${size.toString(16)})`,
} as const;

export const carveout: HeapKindRules = {
  ...reservedPool,
  kind: 'carveout',
  cpuAccess: true,
  secure: false,
  scarcity: 3,
};
