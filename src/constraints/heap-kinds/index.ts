// The heap kinds, one entry each: everything that differs by kind is read from here.

import type { HeapKind } from '../model.js';
import { carveout } from './carveout.js';
import { cma } from './cma.js';
import type { HeapKindRules } from './kind.js';
import { secure } from './secure.js';
import { system } from './system.js';
import { systemContig } from './system-contig.js';

export const HEAP_KINDS: Readonly<Record<HeapKind, HeapKindRules>> = {
  system,
  'system-contig': systemContig,
  cma,
  carveout,
  secure,
};

export type { HeapKindRules, KernelAllocator } from './kind.js';
export { CMA_MIN_ALIGNMENT_BYTES, DEFAULT_CMA_ALIGNMENT, DEFAULT_CMA_NAMES, cmaAreaSize, cmaAlignOrder } from './cma.js';
