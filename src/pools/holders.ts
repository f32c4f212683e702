// Who holds a heap's dma-bufs: the processes whose fds or mappings reach buffers that heap exported
// (the /proc scan of `udalloc usage`), most bytes first.

import type { Usage } from '../service/usage.js';

export interface AreaHolder {
  readonly pid: number;
  readonly comm: string;
  readonly buffers: number;
  readonly bytes: number;
}

/** From one /proc scan (scanUsage): a machine's areas are all answered from the same scan. */
export function holdersOf(usage: Usage, exporter: string): AreaHolder[] {
  const by = new Map<number, { pid: number; comm: string; buffers: number; bytes: number }>();
  for (const b of usage.buffers) {
    if (b.exporter !== exporter) continue;
    for (const h of b.holders) {
      const e = by.get(h.pid) ?? { pid: h.pid, comm: h.comm, buffers: 0, bytes: 0 };
      e.buffers++;
      e.bytes += b.size;
      by.set(h.pid, e);
    }
  }
  return [...by.values()].sort((a, b) => b.bytes - a.bytes || a.pid - b.pid);
}
