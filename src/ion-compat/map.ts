// The ION map: for each ION heap id a legacy program uses, the dma-buf heap its buffers come from on
// this machine, chosen by udalloc's solver for the devices that id's buffers are for (or, for an id
// with no devices, by its ION type), written as the small text file native/ion reads.

import type { Heap, Platform } from '../constraints/model.js';
import { FORMATS } from '../constraints/formats.js';
import { DEFAULT_CMA_NAMES } from '../constraints/heap-kinds/index.js';
import { makeRequest } from '../constraints/load.js';
import { negotiate } from '../solver/negotiate.js';
import { atomLabel, atomValueText } from '../solver/atoms.js';
import { InputError } from '../errors.js';
import { didYouMean } from '../util/suggest.js';

/** enum ion_heap_type, by the names the map file uses (ion.h, 4.12+). */
export const ION_TYPES = ['system', 'system_contig', 'carveout', 'chunk', 'dma'] as const;
export type IonType = (typeof ION_TYPES)[number];

/** Where native/ion looks for the map unless UDALLOC_ION_MAP names another file (native/ion/ion_core.h). */
export const ION_MAP_PATH = '/etc/udalloc/ion-map';
export const ION_MAP_ENV = 'UDALLOC_ION_MAP';
/** ION heap ids are bits of a 32-bit mask. */
const MAX_ID = 31;

export interface IonHeapSpec {
  readonly id: number;
  readonly type: IonType;
  readonly name: string;
  /** The devices this id's buffers are for ("camera:write"); none: the CPU alone. */
  readonly devices: readonly string[];
}

/**
 * One id per ION type, numbered as the type (what the staging driver's heap types were, and the
 * ids many vendor device trees gave them): system 0, system-contig 1, carveout 2, DMA (CMA) 4.
 * An integrator names the ids their programs really use with --heap.
 */
export const DEFAULT_ION_HEAPS: readonly IonHeapSpec[] = [
  { id: 0, type: 'system', name: 'ion_system_heap', devices: [] },
  { id: 1, type: 'system_contig', name: 'ion_system_contig_heap', devices: [] },
  { id: 2, type: 'carveout', name: 'ion_carveout_heap', devices: [] },
  { id: 4, type: 'dma', name: 'ion_cma_heap', devices: [] },
];

export interface IonMapEntry {
  readonly spec: IonHeapSpec;
  /** The dma-buf heap, or undefined: left out of the map, for `why`. */
  readonly heap: Heap | undefined;
  /** Its device, which the map names and native/ion opens. */
  readonly path: string | undefined;
  readonly why: string;
  /** How the shim asks the service for a buffer of this id (devices only): a format, a width in pixels and the row the plan gives it. */
  readonly request: { readonly format: string; readonly width: number; readonly rowBytes: number } | undefined;
}

/** Parses --heap ID:TYPE[:NAME][=DEVICE:USE,...]. */
export function parseIonHeap(text: string, platform: Platform): IonHeapSpec {
  const m = /^(\d{1,2}):([a-z_]+)(?::([A-Za-z0-9_.,-]{1,31}))?(?:=(.+))?$/.exec(text.trim());
  if (!m) throw new InputError(`--heap ${JSON.stringify(text)}: expected ID:TYPE[:NAME][=DEVICE:USE,...], e.g. 4:dma:ion_cma_heap=camera:write,display:read`, 'heap', text);
  const id = Number(m[1]);
  if (id > MAX_ID) throw new InputError(`--heap ${text}: id ${id}: ION heap ids are 0 to ${MAX_ID} (bits of heap_id_mask)`, 'heap', text);
  const type = m[2] as IonType;
  if (!ION_TYPES.includes(type)) throw new InputError(`--heap ${text}: type ${JSON.stringify(m[2])}: the ION types are ${ION_TYPES.join(', ')}${didYouMean(m[2]!, ION_TYPES)}`, 'heap', text);
  const devices = m[4] ? m[4].split(',').map((d) => d.trim()) : [];
  const names = platform.devices.map((d) => d.name);
  for (const d of devices) {
    const [name, use] = d.split(':');
    if (!names.includes(name!)) throw new InputError(`--heap ${text}: device ${JSON.stringify(name)}: no device of that name in platform ${platform.name}${didYouMean(name!, names)} (devices: ${names.join(', ')})`, 'heap', text);
    if (use !== 'read' && use !== 'write' && use !== 'readwrite') throw new InputError(`--heap ${text}: ${d}: say what the device does with the buffer: ${name}:read, ${name}:write or ${name}:readwrite`, 'heap', text);
  }
  // Without a name, the one the default map gives that type.
  return { id, type, name: m[3] ?? DEFAULT_ION_HEAPS.find((h) => h.type === type)?.name ?? `ion_${type}_heap`, devices };
}

/** ION types whose buffers are physically contiguous: their dma-buf heap must be too. */
function needsContiguous(type: IonType): boolean {
  return type !== 'system';
}

/** The heap an id without devices gets: by its type. */
function heapByType(platform: Platform, type: IonType): { heap: Heap | undefined; why: string } {
  const usable = platform.heaps.filter((h) => h.cpuAccess && !h.secure);
  const pick = (kinds: readonly string[], prefer?: (h: Heap) => boolean) => {
    const all = usable.filter((h) => kinds.includes(h.kind));
    return all.find((h) => prefer?.(h) ?? false) ?? all[0];
  };
  switch (type) {
    case 'system': {
      const heap = pick(['system']);
      return heap ? { heap, why: 'ION_HEAP_TYPE_SYSTEM: the system heap (pages from anywhere)' } : { heap: undefined, why: 'this machine has no system heap (CONFIG_DMABUF_HEAPS_SYSTEM)' };
    }
    case 'system_contig': {
      const heap = pick(['system-contig']);
      return heap ? { heap, why: 'ION_HEAP_TYPE_SYSTEM_CONTIG: a heap of contiguous pages' } : { heap: undefined, why: 'this machine has no heap of contiguous system pages (mainline Linux has none among its dma-buf heaps): give the programs the DMA id, or name the devices of this id (--heap) so that the solver picks' };
    }
    case 'carveout':
    case 'chunk': {
      const heap = pick(['carveout']);
      return heap ? { heap, why: `ION_HEAP_TYPE_${type.toUpperCase()}: a carveout heap` } : { heap: undefined, why: 'this machine has no carveout heap' };
    }
    case 'dma': {
      const heap = pick(['cma'], (h) => DEFAULT_CMA_NAMES.includes(h.name));
      return heap ? { heap, why: `ION_HEAP_TYPE_DMA: ${DEFAULT_CMA_NAMES.includes(heap.name) ? 'the default CMA area' : 'a CMA area'}` } : { heap: undefined, why: 'this machine has no CMA heap (CONFIG_DMABUF_HEAPS_CMA and a CMA area: cma= or a linux,cma region)' };
    }
  }
}

/** A format every device of the id takes, linear, in one plane (the service's request for bytes of a row). */
function commonFormat(platform: Platform, devices: readonly string[]) {
  const rules = devices.map((d) => {
    const [name, use] = d.split(':');
    return { device: platform.devices.find((x) => x.name === name)!, use: use! };
  });
  return FORMATS.find((f) => f.planes.length === 1 && !f.bayer && !f.planeBuffers && Number.isInteger(f.planes[0]!.bits / 8) && rules.every(({ device, use }) => {
    const rule = device.formats.get(f.name);
    return rule !== undefined && rule.modifiers.some((m) => m.layout.kind === 'linear') && (rule.access === 'readwrite' || rule.access === use || use === 'read' && rule.access === 'read');
  }));
}

/** The dma-buf heap udalloc's solver picks for the id's devices, among those of its ION type's kind of memory. */
function heapForDevices(platform: Platform, spec: IonHeapSpec): Omit<IonMapEntry, 'spec' | 'path'> {
  const format = commonFormat(platform, spec.devices);
  if (!format) return { heap: undefined, why: `${spec.devices.join(', ')} share no linear single-plane format (udalloc asks for an ION buffer as rows of one plane): name other devices for this id, or none (its ION type then decides)`, request: undefined };
  const cpp = format.planes[0]!.bits / 8;
  const width = Math.max(1, Math.floor(4096 / cpp));
  const request = makeRequest(platform, { devices: [...spec.devices], formats: [format.name], width, height: 16, count: 1, cpu: 'readwrite' });
  const result = negotiate(platform, request, { alternatives: 32 });
  if (!result.ok) return { heap: undefined, why: `no heap serves ${spec.devices.join(', ')}: these cannot all hold: ${result.conflict.core.map((a) => `${atomLabel(a)} = ${atomValueText(a)}`).join('; ')}`, request: undefined };
  const ranked = [result.plan, ...result.alternatives];
  const fit = ranked.find((p) => !needsContiguous(spec.type) || p.heap.contiguous);
  if (!fit) return { heap: undefined, why: `the solver's plans for ${spec.devices.join(', ')} are in ${[...new Set(ranked.map((p) => p.heap.name))].join(', ')}, none physically contiguous as ION_HEAP_TYPE_${spec.type.toUpperCase()} promises`, request: undefined };
  return { heap: fit.heap, why: `the solver's plan for ${spec.devices.join(', ')}${fit === result.plan ? '' : ` (its first contiguous one, as ION_HEAP_TYPE_${spec.type.toUpperCase()} promises)`}`, request: { format: format.name, width, rowBytes: fit.planes[0]!.pitch } };
}

export function ionMap(platform: Platform, specs: readonly IonHeapSpec[]): IonMapEntry[] {
  const ids = new Set<number>();
  for (const s of specs) {
    if (ids.has(s.id)) throw new InputError(`--heap: id ${s.id} is given twice`, 'heap', s.id);
    ids.add(s.id);
  }
  return specs.map((spec) => {
    const chosen = spec.devices.length === 0 ? { ...heapByType(platform, spec.type), request: undefined } : heapForDevices(platform, spec);
    return { spec, ...chosen, path: chosen.heap ? `/dev/dma_heap/${chosen.heap.name}` : undefined };
  });
}

/** The map file: the heaps native/ion serves, then, as comments, those left out and why. */
export function ionMapText(entries: readonly IonMapEntry[], options: { platform: string; bus: string | undefined; date: string }): string {
  const lines = [
    '# udalloc ion-map: the ION heaps legacy programs see, and the dma-buf heap each one allocates from.',
    `# Written by \`udalloc ion-map\` for platform ${options.platform} on ${options.date}. Read by native/ion (LD_PRELOAD libudalloc-ion.so, libion.so).`,
    '# heap <id> <type> <name> <dma-heap> direct|service [<format> <width> <row bytes> <devices>]',
  ];
  if (options.bus !== undefined) lines.push(`bus ${options.bus}`);
  for (const e of entries) {
    if (!e.heap) continue;
    const via = options.bus !== undefined && e.request ? `service ${e.request.format} ${e.request.width} ${e.request.rowBytes} ${e.spec.devices.join(',')}` : 'direct';
    lines.push(`heap ${e.spec.id} ${e.spec.type} ${e.spec.name} ${e.path} ${via}    # ${e.why}`);
  }
  for (const e of entries) if (!e.heap) lines.push(`# left out: id ${e.spec.id} (${e.spec.type}, ${e.spec.name}): ${e.why}`);
  return `${lines.join('\n')}\n`;
}
