// Heap occupancy as a table (text) or objects (--json), shared by `heaps` and `alloc`.

import { formatAddress, formatBytes } from '../constraints/units.js';
import type { Allocator } from '../allocator/allocator.js';

export interface HeapRow {
  name: string;
  kind: string;
  base: number | null;
  end: number | null;
  capacity: number;
  used: number;
  free: number;
  largestFree: number;
  contiguous: boolean;
  cpuAccess: boolean;
  path: string;
}

export function heapRows(dev: Allocator): HeapRow[] {
  return dev.stats().heaps.map((h) => {
    const d = h.heap.describe();
    return {
      name: d.name,
      kind: d.kind,
      base: d.base ?? null,
      end: d.end ?? null,
      capacity: h.capacity,
      used: h.used,
      free: h.free,
      largestFree: h.largestFree,
      contiguous: d.contiguous,
      cpuAccess: d.cpuAccess,
      path: d.path,
    };
  });
}

export function heapTable(rows: readonly HeapRow[]): string {
  const header = ['HEAP', 'KIND', 'RANGE', 'CAPACITY', 'USED', 'LARGEST FREE'];
  const body = rows.map((r) => [
    r.name,
    r.kind,
    r.base !== null ? `${formatAddress(r.base)}-${formatAddress(r.end!)}` : r.end !== null ? `placed below ${formatAddress(r.end)}` : r.kind === 'system' ? '(any RAM pages)' : '(placed at boot)',
    formatBytes(r.capacity),
    formatBytes(r.used),
    formatBytes(r.largestFree),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  return [header, ...body].map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
