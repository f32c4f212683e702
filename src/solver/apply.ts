// Fixes as data: a change a user can make to the request or to a pool, and how to apply a list of
// them to copies of the inputs. Field names are those of the request file and the platform profile,
// so a program can apply a fix to its own files. Pure: nothing here touches the kernel.

import { formatNamed } from '../constraints/formats.js';
import { HEAP_KINDS, heapOf, type HeapEntry } from '../constraints/heap-kinds/index.js';
import { DEVICE_ACCESS, type CpuAccess, type DeviceAccess, type Heap, type Platform, type Request } from '../constraints/model.js';

/** A request for a buffer of its own, given to a device that leaves the shared one. */
export interface CopyRequest {
  readonly width: number;
  readonly height: number;
  readonly formats: readonly string[];
  readonly devices: readonly string[];
  readonly count: number;
  readonly cpu: CpuAccess;
}

export type Change =
  | { readonly target: 'request'; readonly field: 'formats' | 'devices'; readonly value: readonly string[] }
  | { readonly target: 'request'; readonly field: 'width' | 'height' | 'count'; readonly value: number }
  | { readonly target: 'request'; readonly field: 'cpu'; readonly value: CpuAccess }
  | { readonly target: 'request'; readonly field: 'protected'; readonly value: boolean }
  | { readonly target: 'heap'; readonly heap: string; readonly field: 'size' | 'base' | 'limit'; readonly value: number }
  /** A second buffer for `device`, filled by a copy (or conversion, or scaling) from the shared one. */
  | { readonly target: 'copy'; readonly device: string; readonly request: CopyRequest }
  /** A pool the board lacks, as an entry of the profile's `heaps:` list (the kernel's default CMA area). */
  | { readonly target: 'new-heap'; readonly heap: HeapEntry };

/** The inputs after a fix: the platform and one request per buffer (the shared one first). */
export interface Applied {
  readonly platform: Platform;
  readonly requests: readonly Request[];
}

function parseEntry(entry: string): { name: string; use: DeviceAccess | undefined } {
  const at = entry.lastIndexOf(':');
  const use = at > 0 ? entry.slice(at + 1) : '';
  if ((DEVICE_ACCESS as readonly string[]).includes(use)) return { name: entry.slice(0, at), use: use as DeviceAccess };
  return { name: entry, use: undefined };
}

function withDevices(request: Request, entries: readonly string[]): Request {
  const access = new Map<string, DeviceAccess>();
  const devices = entries.map((e) => {
    const { name, use } = parseEntry(e);
    if (use !== undefined) access.set(name, use);
    return name;
  });
  return { ...request, devices, access };
}

function formatsByName(names: readonly string[]): Request['formats'] {
  return names.map((n) => {
    const f = formatNamed(n);
    if (!f) throw new Error(`fix names an unknown format ${n}`);
    return f;
  });
}

/** The heap with a new size, base or limit; its end and largest buffer follow (as the loader derives them). */
export function changedHeap(heap: Heap, field: 'size' | 'base' | 'limit', value: number): Heap {
  const size = field === 'size' ? value : heap.size;
  const base = field === 'base' ? value : heap.base;
  const kind = HEAP_KINDS[heap.kind];
  let end: number;
  if (field === 'limit') end = value;
  else if (base !== undefined) end = base + size;
  // A heap placed by no base or limit ends where its kind puts it (RAM's end follows its size).
  else end = heap.end === kind.endWithoutPlace(heap.size) ? kind.endWithoutPlace(size) : heap.end;
  return { ...heap, size, base: field === 'limit' ? undefined : base, end, maxBuffer: kind.maxBuffer(size) };
}

export function applyChanges(platform: Platform, request: Request, changes: readonly Change[]): Applied {
  let heaps = platform.heaps;
  let shared: Request = request;
  const copies: Request[] = [];
  for (const c of changes) {
    switch (c.target) {
      case 'heap':
        heaps = heaps.map((h) => (h.name === c.heap ? changedHeap(h, c.field, c.value) : h));
        break;
      case 'new-heap':
        heaps = [...heaps, heapOf(c.heap, `a fix: a ${c.heap.kind} heap the board does not have yet`)];
        break;
      case 'copy': {
        const r = withDevices({ ...request, width: c.request.width, height: c.request.height, count: c.request.count, cpu: c.request.cpu, protected: false }, c.request.devices);
        copies.push({ ...r, formats: formatsByName(c.request.formats) });
        break;
      }
      case 'request':
        switch (c.field) {
          case 'formats':
            shared = { ...shared, formats: formatsByName(c.value) };
            break;
          case 'devices':
            shared = withDevices(shared, c.value);
            break;
          case 'width':
          case 'height':
          case 'count':
            shared = { ...shared, [c.field]: c.value };
            break;
          case 'cpu':
            shared = { ...shared, cpu: c.value };
            break;
          case 'protected':
            shared = { ...shared, protected: c.value };
            break;
        }
        break;
    }
  }
  return { platform: heaps === platform.heaps ? platform : { ...platform, heaps }, requests: [shared, ...copies] };
}
