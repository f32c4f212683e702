// The heap kinds, one entry each: everything that differs by kind is read from here.

import type { Heap, HeapKind } from '../model.js';
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

/** A heap as a profile's `heaps:` entry states it (the fields a fix may write, the rest defaulted by kind). */
export interface HeapEntry {
  readonly name: string;
  readonly kind: HeapKind;
  readonly size: number;
  readonly base?: number | undefined;
  readonly limit?: number | undefined;
  readonly contiguous?: boolean | undefined;
  readonly cpuAccess?: boolean | undefined;
  readonly cached?: boolean | undefined;
  readonly maxAlign?: number | undefined;
  readonly alignOrder?: number | undefined;
}

/**
 * The heap an entry describes, its kind's defaults filled in: its end (base + size, else its limit,
 * else where its kind puts it), alignment and largest buffer. The profile loader checks an entry
 * first; fixes that add a pool build it here too.
 */
export function heapOf(entry: HeapEntry, source: string): Heap {
  const kind = HEAP_KINDS[entry.kind];
  const end = entry.base !== undefined ? entry.base + entry.size : (entry.limit ?? kind.endWithoutPlace(entry.size));
  const alignOrder = kind.defaultAlignOrder === undefined ? undefined : (entry.alignOrder ?? kind.defaultAlignOrder);
  return {
    name: entry.name,
    kind: entry.kind,
    base: entry.base,
    size: entry.size,
    end,
    contiguous: entry.contiguous ?? kind.contiguous,
    cpuAccess: entry.cpuAccess ?? kind.cpuAccess,
    secure: kind.secure,
    cached: entry.cached ?? true,
    maxAlign: entry.maxAlign ?? kind.maxAlign(alignOrder),
    alignOrder,
    maxBuffer: kind.maxBuffer(entry.size),
    scarcity: kind.scarcity,
    source,
  };
}
