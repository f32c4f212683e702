// Constraint atoms: every restriction that takes part in a negotiation, as one removable unit tied
// to its owner (a device, the request or a heap) and its source. The solver works on a set of
// active atoms; conflict explanation switches atoms off to find minimal sets.

import { formatAddress, formatBytes } from '../constraints/units.js';
import { accessCovers, PAGE_SIZE, type Device, type DeviceAccess, type Platform, type Request } from '../constraints/model.js';
import { shortModifierName } from '../constraints/modifiers.js';
import { atomPositions, type ShapeTable, type ShapeTemplate } from './problem.js';
import { HEAP_KINDS } from '../constraints/heap-kinds/index.js';

export type AtomConstraint =
  | 'formats'
  | 'access'
  | 'modifiers'
  | 'pitchAlign'
  | 'heightAlign'
  | 'offsetAlign'
  | 'implicitPlanes'
  | 'maxWidth'
  | 'maxHeight'
  | 'maxPitch'
  | 'iommu'
  | 'dmaBits'
  | 'alignment'
  | 'heaps'
  | 'sizeAlign'
  | 'maxSize'
  | 'protected'
  | 'cpu'
  | 'capacity'
  // Request: the buffer's size (the device limits maxWidth, maxHeight and maxSize bound it).
  | 'size'
  // Request: the number of buffers.
  | 'count'
  // Heap: where a contiguous pool lies (its end, against devices' DMA limits).
  | 'placement'
  // Device: it shares the one buffer with the others (the alternative is its own buffer and a copy).
  | 'shared';

export interface Atom {
  readonly id: number;
  /** Device name, when the atom belongs to a device. */
  readonly device?: string;
  /** Heap name, when the atom belongs to a heap (capacity). */
  readonly heap?: string;
  /** True when the atom belongs to the request. */
  readonly request?: boolean;
  /** Format the atom is about (per-format rules). */
  readonly format?: string;
  readonly constraint: AtomConstraint;
  readonly value: string | number | boolean | readonly string[];
  readonly source: string;
  /**
   * True for what a user can change: the request (formats, size, count, CPU use, protection, how a
   * device uses the buffer), pool sizes and placement, and adding a copy step between devices.
   * False for hardware facts (a device's formats, modifiers, alignments, IOMMU, DMA reach...):
   * those are never "fixed", they are the reason.
   */
  readonly changeable: boolean;
}

/**
 * Atoms in the order explanations try to keep them: hardware facts first (they are never blamed
 * while a change elsewhere helps), then the changes, the likeliest fix last. A device's access to
 * a format is a fact; the request's statement of how the device uses the buffer (the access atom)
 * is the likelier mistake, so it is blamed before pools grow.
 */
const KEEP_ORDER: readonly AtomConstraint[] = [
  'iommu',
  'dmaBits',
  'alignment',
  'heaps',
  'protected',
  'maxWidth',
  'maxHeight',
  'maxPitch',
  'maxSize',
  'pitchAlign',
  'heightAlign',
  'offsetAlign',
  'implicitPlanes',
  'sizeAlign',
  'modifiers',
  'formats',
  'shared',
  'cpu',
  'placement',
  'count',
  'capacity',
  'access',
  'size',
];

/** Kinds of atom a user can change (see Atom.changeable); request.protected only when true. */
const CHANGEABLE: ReadonlySet<AtomConstraint> = new Set(['access', 'cpu', 'capacity', 'size', 'count', 'placement', 'shared']);

type NewAtom = Omit<Atom, 'id' | 'changeable'> & { readonly changeable?: boolean };

function deviceAtoms(device: Device, need: DeviceAccess | undefined, shared: string | undefined, push: (a: NewAtom) => void): void {
  const d = device.name;
  const s = device.sources;
  if (shared !== undefined) push({ device: d, constraint: 'shared', value: true, source: shared });
  push({ device: d, constraint: 'formats', value: [...device.formats.keys()], source: s['formats']! });
  for (const rule of device.formats.values()) {
    const format = rule.format.name;
    // Only a rule that excludes the stated use restricts anything.
    if (need !== undefined) {
      const narrow = [...rule.modifierAccess].filter(([, use]) => !accessCovers(use, need)).map(([m, use]) => `${shortModifierName(m)}: ${use}`);
      // The value is the format's access when that excludes the use, else the modifiers that do.
      if (!accessCovers(rule.access, need)) push({ device: d, format, constraint: 'access', value: rule.access, source: rule.source });
      else if (narrow.length > 0) push({ device: d, format, constraint: 'access', value: narrow, source: rule.source });
    }
    push({ device: d, format, constraint: 'modifiers', value: rule.modifiers.map(shortModifierName), source: rule.source });
    if (rule.pitchAlign > 1) push({ device: d, format, constraint: 'pitchAlign', value: rule.pitchAlign, source: rule.source });
    if (rule.heightAlign > 1) push({ device: d, format, constraint: 'heightAlign', value: rule.heightAlign, source: rule.source });
    if (rule.offsetAlign > 1) push({ device: d, format, constraint: 'offsetAlign', value: rule.offsetAlign, source: rule.source });
    if (rule.implicitPlaneOffsets) push({ device: d, format, constraint: 'implicitPlanes', value: true, source: rule.source });
    if (rule.maxWidth !== undefined) push({ device: d, format, constraint: 'maxWidth', value: rule.maxWidth, source: rule.source });
    if (rule.maxHeight !== undefined) push({ device: d, format, constraint: 'maxHeight', value: rule.maxHeight, source: rule.source });
    if (rule.maxPitch !== undefined) push({ device: d, format, constraint: 'maxPitch', value: rule.maxPitch, source: rule.source });
  }
  if (!device.iommu) {
    push({ device: d, constraint: 'iommu', value: false, source: s['iommu']! });
    // Without an IOMMU the device sees physical addresses: its DMA mask and base alignment apply to them.
    if (device.dmaBits !== undefined && device.dmaBits < 53) push({ device: d, constraint: 'dmaBits', value: device.dmaBits, source: s['dmaBits']! });
    if (device.alignment > PAGE_SIZE) push({ device: d, constraint: 'alignment', value: device.alignment, source: s['alignment']! });
  }
  if (device.heaps) push({ device: d, constraint: 'heaps', value: device.heaps, source: s['heaps']! });
  if (device.sizeAlign > 1) push({ device: d, constraint: 'sizeAlign', value: device.sizeAlign, source: s['sizeAlign']! });
  if (device.maxSize !== undefined) push({ device: d, constraint: 'maxSize', value: device.maxSize, source: s['maxSize']! });
  if (device.protected !== 'optional') push({ device: d, constraint: 'protected', value: device.protected, source: s['protected']! });
}

/**
 * Every atom has the same fields in the same order (absent owners undefined), so that the code
 * that walks atom lists (explanations run through them dozens of times) meets one object shape.
 */
function makeAtom(id: number, owner: Omit<NewAtom, 'value' | 'source'>, value: Atom['value'], source: string, changeable: boolean): Atom {
  return { id, device: owner.device, heap: owner.heap, request: owner.request === true, format: owner.format, constraint: owner.constraint, value, source, changeable };
}

/**
 * The request's own atoms carry its values and where it said them, and so do the devices' shared
 * atoms (the request's device list puts them there); the others are the shape's.
 */
function requestAtom(template: Atom, request: Request): Atom {
  const { id, changeable } = template;
  switch (template.constraint) {
    case 'shared':
      return makeAtom(id, template, true, request.sources['devices']!, changeable);
    case 'formats':
      return makeAtom(id, template, request.formats.map((f) => f.name), request.sources['formats']!, changeable);
    case 'size':
      // A size the stream or sensor sets is a fact of this request, not a change to offer.
      return makeAtom(id, template, `${request.width}x${request.height}`, request.fixedSize ? request.sources['fixedSize']! : request.sources['width']!, changeable && !request.fixedSize);
    case 'count':
      return makeAtom(id, template, request.count, request.sources['count']!, changeable);
    case 'cpu':
      return makeAtom(id, template, request.cpu, request.sources['cpu']!, changeable);
    default:
      return makeAtom(id, template, request.protected, request.sources['protected']!, changeable);
  }
}

/**
 * The atoms of a request's shape (devices, uses, formats, CPU access, protection, whether it asks
 * for more than one buffer) in atomize()'s order, worked out once per shape: the device and heap
 * atoms are the ones every request of the shape gets; the request's own atoms stand in for those
 * atomsOf() fills in. The same array comes back for every request of the shape.
 */
export function atomTemplate(shapes: ShapeTable, request: Request): ShapeTemplate {
  const pair = shapes.shapeOf(request).templates;
  const many = request.count > 1 ? 1 : 0;
  const made = pair[many];
  if (made) return made;
  const atoms = sortedAtoms(shapes.platform, request);
  return (pair[many] = { atoms, positions: atomPositions(atoms), bases: new Map() });
}

/** A shape's atoms for one request: its own atoms (and its devices' shared atoms) with its values and sources. */
export function atomsOf(template: ShapeTemplate, request: Request): Atom[] {
  return template.atoms.map((a) => (a.request || a.constraint === 'shared' ? requestAtom(a, request) : a));
}

/** Every atom of a negotiation, sorted so that explanations blame the most changeable ones. */
export function atomize(platform: Platform, request: Request): Atom[] {
  return sortedAtoms(platform, request);
}

function sortedAtoms(platform: Platform, request: Request): Atom[] {
  const atoms: NewAtom[] = [];
  const push = (a: NewAtom): void => void atoms.push(a);
  // Every device but the first may leave the shared buffer for one of its own, with a copy step
  // between them; the first (usually the producer) anchors the buffer, so that relaxing only ever
  // removes devices from it.
  request.devices.forEach((name, i) => deviceAtoms(platform.devices.find((d) => d.name === name)!, request.access.get(name), i > 0 ? request.sources['devices']! : undefined, push));
  // The request's format list is changeable; relaxing it still leaves every device's own list.
  push({ request: true, constraint: 'formats', value: request.formats.map((f) => f.name), source: request.sources['formats']!, changeable: true });
  push({ request: true, constraint: 'size', value: `${request.width}x${request.height}`, source: request.sources['width']! });
  if (request.count > 1) push({ request: true, constraint: 'count', value: request.count, source: request.sources['count']! });
  if (request.cpu !== 'none') push({ request: true, constraint: 'cpu', value: request.cpu, source: request.sources['cpu']! });
  // Protected buffers live only in secure heaps, and unprotected ones never do: both are atoms so
  // that relaxing one only ever widens the choice of heaps. Only a protected buffer is a choice to
  // undo: nobody who did not ask for protection is told to protect.
  push({ request: true, constraint: 'protected', value: request.protected, source: request.sources['protected']!, changeable: request.protected });
  for (const heap of platform.heaps) {
    const kind = HEAP_KINDS[heap.kind];
    // A pool sized at boot can be grown there; RAM cannot (its capacity is a fact of the machine).
    push({ heap: heap.name, constraint: 'capacity', value: heap.size, source: heap.source, changeable: kind.sizedPool });
    // A contiguous pool's position can be chosen at boot (reg, alloc-ranges, cma=...@start-end).
    if (heap.contiguous && kind.placeable) push({ heap: heap.name, constraint: 'placement', value: Number.isFinite(heap.end) ? heap.end : 'unknown', source: heap.source });
  }
  const rank = (a: NewAtom): number => KEEP_ORDER.indexOf(a.constraint);
  // Among pools, blame the most plentiful one last-kept: growing CMA is the usual fix, not a carveout.
  const scarcity = (a: NewAtom): number => -(platform.heaps.find((h) => h.name === a.heap)?.scarcity ?? 0);
  return atoms
    .map((a, i) => ({ a, i }))
    .sort((x, y) => rank(x.a) - rank(y.a) || scarcity(x.a) - scarcity(y.a) || x.i - y.i)
    .map(({ a }, id) => makeAtom(id, a, a.value, a.source, a.changeable ?? CHANGEABLE.has(a.constraint)));
}

/** "display.dmaBits", "camera.NV12.pitchAlign", "request.cpu", "heap linux,cma capacity". */
export function atomLabel(atom: Atom): string {
  if (atom.heap !== undefined) return `heap ${atom.heap} ${atom.constraint}`;
  const owner = atom.request ? 'request' : atom.device!;
  return atom.format ? `${owner}.${atom.format}.${atom.constraint}` : `${owner}.${atom.constraint}`;
}

/** An atom's value for people: byte counts with units, lists comma-separated. */
export function atomValueText(a: Atom): string {
  if (Array.isArray(a.value)) return a.value.join(', ');
  if (a.constraint === 'placement') return typeof a.value === 'number' ? `ends at ${formatAddress(a.value)}` : 'unknown (no base or limit)';
  if (a.constraint === 'shared') return 'shares the buffer';
  if (a.constraint === 'capacity' || a.constraint === 'maxSize' || a.constraint === 'alignment' || a.constraint === 'sizeAlign') return formatBytes(a.value as number);
  return String(a.value);
}
