// ION's system-contig heap (drivers/staging/android/ion/ion_system_contig_heap.c): one
// alloc_pages(get_order(len)) block with the tail freed, so N buffers take N x their size; no
// buffer beyond MAX_PAGE_ORDER pages; its place is the buddy allocator's. RAM, not a boot pool.

import { MAX_PAGE_ORDER, PAGE_SIZE } from '../model.js';
import type { HeapKindRules } from './kind.js';
import { byPages } from './pages.js';

export const systemContig: HeapKindRules = {
  ...byPages,
  kind: 'system-contig',
  contiguous: true,
  cpuAccess: true,
  secure: false,
  scarcity: 1,
  allocator: 'pages-block',
  sizedPool: false,
  placeable: false,
  defaultAlignOrder: undefined,
  maxAlign: () => PAGE_SIZE << MAX_PAGE_ORDER,
  maxBuffer: (size) => Math.min(size, PAGE_SIZE << MAX_PAGE_ORDER),
  endWithoutPlace: () => Infinity,
  bootAdvice: () => undefined,
};
