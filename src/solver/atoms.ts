// Constraint atoms: every restriction that takes part in a negotiation, as one removable unit tied
// to its owner (a device, the request or a heap) and its source. The solver works on a set of
// active atoms; conflict explanation switches atoms off to find minimal sets.

import { formatAddress, formatBytes } from '../constraints/units.js';
import type { Device, DeviceAccess, FormatRule, Platform, Request } from '../constraints/model.js';
import { NEUTRAL, RULES, ruleNamed, type AtomValue, type ConstraintRule, type LayoutRule, type RuleName } from '../constraints/rules/index.js';
import { atomPositions, type ShapeTable, type ShapeTemplate } from './problem.js';
import { HEAP_KINDS } from '../constraints/heap-kinds/index.js';

/** A device rule's atom (constraints/rules), or one of the request's or a heap's. */
export type AtomConstraint =
  | RuleName
  // Request: the formats it accepts (a device's formats atom shares the name), CPU use, protection.
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
  readonly value: AtomValue;
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
  ...RULES.filter((r) => !('statedByRequest' in r)).map((r) => r.name),
  'shared',
  'cpu',
  'placement',
  'count',
  'capacity',
  ...RULES.filter((r) => 'statedByRequest' in r).map((r) => r.name),
  'size',
];

/** Kinds of atom a user can change (see Atom.changeable); request.protected only when true. */
const CHANGEABLE: ReadonlySet<AtomConstraint> = new Set<AtomConstraint>(['cpu', 'capacity', 'size', 'count', 'placement', 'shared', ...RULES.filter((r) => 'statedByRequest' in r).map((r) => r.name)]);

type NewAtom = Omit<Atom, 'id' | 'changeable'> & { readonly changeable?: boolean };

/** A device's atoms, rule by rule of the table (per format for those stated per format). */
function deviceAtoms(device: Device, need: DeviceAccess | undefined, shared: string | undefined, push: (a: NewAtom) => void): void {
  const d = device.name;
  if (shared !== undefined) push({ device: d, constraint: 'shared', value: true, source: shared });
  for (const rule of RULES as readonly ConstraintRule[]) {
    const constraint = rule.name as RuleName;
    if (rule.scope === 'device') {
      if (rule.physical && device.iommu) continue;
      const v = rule.read(device);
      if (v !== NEUTRAL[rule.merge]) push({ device: d, constraint, value: rule.atomValue ? rule.atomValue(device) : v, source: device.sources[rule.name]! });
    } else if (rule.scope === 'structural' && rule.per === 'device') {
      const value = rule.atom(device, undefined, need);
      if (value !== undefined) push({ device: d, constraint, value, source: device.sources[rule.name]! });
    } else {
      for (const f of device.formats.values()) {
        const value = rule.scope === 'format' ? formatRuleValue(rule, f) : rule.atom(device, f, need);
        if (value !== undefined) push({ device: d, format: f.format.name, constraint, value, source: f.source });
      }
    }
  }
}

function formatRuleValue(rule: LayoutRule, f: FormatRule): AtomValue | undefined {
  const v = rule.read(f);
  if (v === NEUTRAL[rule.merge]) return undefined;
  return rule.atomValue ? rule.atomValue(v) : v;
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
  if (a.constraint === 'capacity') return formatBytes(a.value as number);
  const rule = a.device !== undefined ? ruleNamed(a.constraint) : undefined;
  return rule?.valueText ? rule.valueText(a.value) : String(a.value);
}
