// Turns a minimal correction set into concrete changes (as data, see apply.ts) and sentences. Each
// changeable atom becomes a change computed from the plan that exists once the set is relaxed: the
// pool size that holds the buffers as the kernel places them, the largest count or size that fits,
// the formats every device really lists. conflict.ts applies and checks every change before it is
// shown. Hardware facts get advice, never a fix.

import { FORMATS } from '../constraints/formats.js';
import { accessCovers, type Device, type DeviceAccess, type Heap, type Platform, type Request } from '../constraints/model.js';
import { shortModifierName } from '../constraints/modifiers.js';
import { CMA_MIN_ALIGNMENT_BYTES, cmaAreaSize, HEAP_KINDS, heapOf, type HeapEntry } from '../constraints/heap-kinds/index.js';
import { poolBytesFor, poolSizeAtBoot } from '../constraints/placement.js';
import { deviceEntry } from '../constraints/request.js';
import { LAYOUT_RULES, ruleNamed } from '../constraints/rules/index.js';
import { listText } from '../util/list-text.js';
import { sizeBoundReasons } from './size-bounds.js';
import { DEVICE_NEUTRAL, heapLimitsOf, mergeWholeDevice } from './merge-rules.js';
import { formatAddress, formatBytes } from '../constraints/units.js';
import { applyChanges, type Change, type CopyRequest } from './apply.js';
import type { Atom } from './atoms.js';
import { compileOnce, ShapeTable, type Problem } from './problem.js';
import { bestPlan, search, type CapacityOf, type Placement } from './solve.js';

export interface FixContext {
  readonly platform: Platform;
  /** The platform's compiled shapes (changed requests on the same platform share them). */
  readonly shapes: ShapeTable;
  readonly request: Request;
  readonly capacityOf: CapacityOf | undefined;
}

/** Compiled shapes for a platform a change made: the context's own when the platform did not change. */
export function shapesOf(ctx: FixContext, platform: Platform): ShapeTable {
  return platform === ctx.platform ? ctx.shapes : new ShapeTable(platform);
}

/** CMA areas and reusable reserved-memory pools are sized and placed in pageblocks (2 MiB here). */
const PAGEBLOCK = CMA_MIN_ALIGNMENT_BYTES;
/** How many alternative formats one "accept another format" fix offers. */
const MAX_FORMATS = 3;

const MiB = 2 ** 20;

const list = listText;

function deviceOf(platform: Platform, name: string): Device {
  return platform.devices.find((d) => d.name === name)!;
}

/**
 * The shared buffer's request with the changes applied, compiled on the platform they make; the
 * pools this fix grows do not limit it (their capacity does not count; where they lie is unchanged).
 */
function changedProblem(ctx: FixContext, changes: readonly Change[], growing: readonly Heap[]): { platform: Platform; problem: Problem } {
  const applied = applyChanges(ctx.platform, ctx.request, changes);
  const uncapped = growing.length > 0 ? new Set(growing.map((h) => h.name)) : undefined;
  return { platform: applied.platform, problem: compileOnce(shapesOf(ctx, applied.platform), applied.requests[0]!, uncapped) };
}

function planOf(ctx: FixContext, changes: readonly Change[], growing: readonly Heap[] = []): Placement | undefined {
  const { platform, problem } = changedProblem(ctx, changes, growing);
  return search(platform, problem, { limit: 1, capacityOf: ctx.capacityOf })[0];
}

/**
 * Of the plans the changed inputs have, the one that needs the least of the pools being grown
 * (the best ranked among equals): a pool fix asks for no more than some layout needs, even when
 * a larger, better ranked layout is what the grown pool then gets.
 */
function leastPoolPlan(ctx: FixContext, changes: readonly Change[], growing: readonly Heap[]): { plan: Placement; heap: Heap; need: number } | undefined {
  const { platform, problem } = changedProblem(ctx, changes, growing);
  let least: { plan: Placement; heap: Heap; need: number } | undefined;
  for (const plan of search(platform, problem, { limit: Infinity, capacityOf: ctx.capacityOf })) {
    const heap = growing.find((h) => h.name === plan.heap.name);
    if (!heap) continue;
    const need = poolBytesFor(heap, plan);
    if (!least || need < least.need) least = { plan, heap, need };
  }
  return least;
}

/** Even dimensions (chroma subsampling) scaled by s, at least 2x2. */
function scaled(width: number, height: number, s: number): { width: number; height: number } {
  const even = (v: number) => Math.max(2, Math.floor((v * s) / 2) * 2);
  return { width: Math.min(width, even(width)), height: Math.min(height, even(height)) };
}

/**
 * The next size up from w x h with the request's aspect ratio: the smallest scale at which either
 * even dimension grows. Undefined beyond the request's own size.
 */
function nextSizeStep(width: number, height: number, w: number, h: number): { width: number; height: number } | undefined {
  const s = Math.min((w + 2) / width, (h + 2) / height) * (1 + 1e-12);
  if (s > 1) return undefined;
  const next = scaled(width, height, s);
  return next.width > w || next.height > h ? next : undefined;
}

/**
 * The largest size with the request's aspect ratio, at most `start` times the original, for which
 * `fits` holds: `start` first (the device limits give it exactly), then a bisection of the scale,
 * then size steps up while the next one still fits (the bisection stops between two scales, not
 * at a size step), so that one step more does not fit.
 */
function fitSize(width: number, height: number, start: number, fits: (w: number, h: number) => boolean): { width: number; height: number } | undefined {
  const first = scaled(width, height, start);
  const firstFits = fits(first.width, first.height);
  let best = firstFits ? first : undefined;
  let lo = 0;
  let hi = start;
  for (let i = 0; i < 14 && !firstFits; i++) {
    const mid = (lo + hi) / 2;
    const s = scaled(width, height, mid);
    if (fits(s.width, s.height)) {
      best = s;
      lo = mid;
    } else hi = mid;
  }
  for (let next = best && nextSizeStep(width, height, best.width, best.height); next && fits(next.width, next.height); next = nextSizeStep(width, height, next.width, next.height)) best = next;
  return best;
}

/** How far the devices' own limits let the request grow: the scale factor their size bounds allow. */
function limitScale(devices: readonly Device[], request: Request, format: string | undefined): number {
  let s = 1;
  for (const d of devices) {
    const rules = format ? [d.formats.get(format)].filter((r) => r !== undefined) : [...d.formats.values()];
    for (const rule of rules) for (const r of LAYOUT_RULES) if (r.sizeBound) s = Math.min(s, r.sizeBound.scale(rule, request.width, request.height));
  }
  return s;
}

/**
 * What an access atom limits, read from the device's rule (the atom's value is for people): the one
 * use the device allows, and the modifiers it allows only for that use (none when the whole format
 * is limited).
 */
function accessLimit(platform: Platform, request: Request, atom: Atom): { allowed: DeviceAccess; modifiers: string[] } {
  const rule = deviceOf(platform, atom.device!).formats.get(atom.format!)!;
  const need = request.access.get(atom.device!)!;
  if (!accessCovers(rule.access, need)) return { allowed: rule.access, modifiers: [] };
  const narrow = [...rule.modifierAccess].filter(([, use]) => !accessCovers(use, need));
  return { allowed: narrow[0]![1], modifiers: narrow.map(([m]) => shortModifierName(m)) };
}

/** Formats a device can use as the request says it does. */
function usableFormats(device: Device, use: DeviceAccess | undefined): string[] {
  const names: string[] = [];
  for (const r of device.formats.values()) if (use === undefined || accessCovers(r.access, use)) names.push(r.format.name);
  return names;
}

/** The request for a device's own buffer: its own formats (the request's first), scaled if its limits say so. */
function copyRequest(ctx: FixContext, name: string): CopyRequest | undefined {
  const { platform, request } = ctx;
  const device = deviceOf(platform, name);
  const own = usableFormats(device, request.access.get(name));
  // The request's formats the device can use, in the request's order, then the device's others.
  const formats: string[] = [];
  for (const f of request.formats) if (own.includes(f.name)) formats.push(f.name);
  for (const f of own) if (!formats.includes(f)) formats.push(f);
  if (formats.length === 0) return undefined;
  const base: CopyRequest = { width: request.width, height: request.height, formats, devices: [deviceEntry(request, name)], count: request.count, cpu: 'none' };
  const fits = (w: number, h: number) => {
    const applied = applyChanges(platform, request, [{ target: 'copy', device: name, request: { ...base, width: w, height: h } }]);
    return bestPlan(shapesOf(ctx, applied.platform), applied.requests[1]!, ctx.capacityOf) !== undefined;
  };
  // A smaller copy only when the device's own size limits are what it cannot meet (a scaler then).
  // Otherwise the copy has the request's size, and acting on the fix finds out whether it plans.
  const scale = limitScale([device], request, undefined);
  if (scale >= 1 || fits(request.width, request.height)) return base;
  const size = fitSize(request.width, request.height, scale, fits);
  return size ? { ...base, ...size } : undefined;
}

/** The order in which a correction set's atoms become changes. */
const CHANGE_ORDER: readonly Atom['constraint'][] = ['shared', 'access', 'formats', 'cpu', 'protected', 'capacity', 'placement', 'size', 'count'];

/**
 * The changes for a correction set, as alternatives (an "accept another format" set offers each
 * format every device lists). An empty list when some atom has no concrete change. `relaxedPlan`
 * is the plan once the set is relaxed (asked for only by the changes computed from it).
 */
export function changesFor(set: readonly Atom[], relaxedPlan: () => Placement | undefined, ctx: FixContext): Change[][] {
  const { platform, request } = ctx;
  const direct: Change[] = [];
  let entries = request.devices.map((d) => deviceEntry(request, d));
  const staying = request.devices.filter((d) => !set.some((a) => a.constraint === 'shared' && a.device === d)).map((d) => deviceOf(platform, d));
  let formatAlternatives: Change[][] = [[]];
  /** Uses the set narrows (readwrite -> the one the device can do). */
  const narrowed = new Map<string, DeviceAccess>();
  const poolsToSize: Heap[] = [];
  const poolsToPlace: Heap[] = [];
  // Direct changes first; pools after (their size comes from the relaxed plan); searched ones last.
  const order = (a: Atom) => CHANGE_ORDER.indexOf(a.constraint);
  for (const atom of set.length === 1 ? set : [...set].sort((a, b) => order(a) - order(b))) {
    switch (atom.constraint) {
      case 'shared': {
        const copy = copyRequest(ctx, atom.device!);
        if (!copy) return [];
        entries = entries.filter((e) => e !== deviceEntry(request, atom.device!));
        direct.push({ target: 'copy', device: atom.device!, request: copy });
        break;
      }
      case 'access': {
        const { allowed } = accessLimit(platform, request, atom);
        narrowed.set(atom.device!, allowed);
        entries = entries.map((e) => (e === deviceEntry(request, atom.device!) ? `${atom.device!}:${allowed}` : e));
        break;
      }
      case 'formats': {
        const have = new Set(request.formats.map((f) => f.name));
        const shared = FORMATS.filter((f) => !have.has(f.name) && staying.every((d) => usableFormats(d, request.access.get(d.name)).includes(f.name))).map((f) => f.name);
        // The relaxed plan's format first: it is the one known to work.
        const relaxed = relaxedPlan();
        const first = relaxed && shared.includes(relaxed.format.name) ? [relaxed.format.name] : [];
        const candidates = [...first, ...shared.filter((f) => !first.includes(f))];
        if (candidates.length === 0) return [];
        formatAlternatives = candidates.map((f) => [{ target: 'request', field: 'formats', value: [...request.formats.map((x) => x.name), f] }]);
        break;
      }
      case 'cpu':
        direct.push({ target: 'request', field: 'cpu', value: 'none' });
        break;
      case 'protected':
        direct.push({ target: 'request', field: 'protected', value: false });
        break;
      case 'capacity':
        // Sized after any size change below, from the plan that then exists.
        poolsToSize.push(platform.heaps.find((h) => h.name === atom.heap)!);
        break;
      case 'placement':
        poolsToPlace.push(platform.heaps.find((h) => h.name === atom.heap)!);
        break;
      case 'size':
      case 'count':
        break;
      default:
        return []; // a hardware fact: never changed by a fix
    }
  }
  // A shared buffer keeps its meaning: someone writes it and someone reads it (a device whose use
  // is not stated may do either).
  const uses = staying.map((d) => narrowed.get(d.name) ?? request.access.get(d.name));
  if (uses.length > 1 && uses.every((u) => u !== undefined) && (!uses.some((u) => u !== 'read') || !uses.some((u) => u !== 'write'))) return [];
  const unchanged = entries.length === request.devices.length && entries.every((e, i) => e === deviceEntry(request, request.devices[i]!));
  const devicesChange: Change[] = unchanged ? [] : [{ target: 'request', field: 'devices', value: entries }];
  const out: Change[][] = [];
  for (let a = 0; a < formatAlternatives.length && a <= MAX_FORMATS; a++) {
    // (Array concat and spread cost V8 far more than pushes on this path.)
    let changes: Change[] = [];
    for (const list of [devicesChange, formatAlternatives[a]!, direct]) for (const c of list) changes.push(c);
    if (set.some((a) => a.constraint === 'size')) {
      const format = relaxedPlan()?.format.name;
      const size = fitSize(request.width, request.height, limitScale(staying, request, format), (w, h) => planOf(ctx, [...changes, { target: 'request', field: 'width', value: w }, { target: 'request', field: 'height', value: h }], poolsToSize) !== undefined);
      if (!size) continue;
      changes = [...changes, { target: 'request', field: 'width', value: size.width }, { target: 'request', field: 'height', value: size.height }];
    }
    // Each pool grown to what the buffers take as the kernel places them, in the plan at this size.
    const newSizes = new Map<string, number>();
    if (poolsToSize.length > 0) {
      // A pool moved below a DMA limit by its limit alone is sized where it will lie (its size does not move it).
      const limit = dmaLimit(staying);
      const placedByLimit: Change[] = Number.isFinite(limit) ? poolsToPlace.filter((h) => h.base === undefined).map((h) => ({ target: 'heap', heap: h.name, field: 'limit', value: limit })) : [];
      const least = leastPoolPlan(ctx, [...changes, ...placedByLimit], poolsToSize);
      if (!least) continue;
      const { heap } = least;
      const size = poolSizeAtBoot(heap, least.need);
      newSizes.set(heap.name, size);
      changes = [...changes, { target: 'heap', heap: heap.name, field: 'size', value: size }];
    }
    let placed = true;
    for (const heap of poolsToPlace) {
      const limit = dmaLimit(staying);
      if (!Number.isFinite(limit)) placed = false;
      else if (heap.base === undefined) changes = [...changes, { target: 'heap', heap: heap.name, field: 'limit', value: limit }];
      else {
        const base = Math.floor((limit - (newSizes.get(heap.name) ?? heap.size)) / PAGEBLOCK) * PAGEBLOCK;
        if (base < 0) placed = false;
        else changes = [...changes, { target: 'heap', heap: heap.name, field: 'base', value: base }];
      }
    }
    if (!placed) continue;
    if (set.some((a) => a.constraint === 'count')) {
      let lo = 0;
      let hi = request.count;
      // Largest count that still plans: fewer buffers never need more room.
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (planOf(ctx, [...changes, { target: 'request', field: 'count', value: mid }])) lo = mid;
        else hi = mid;
      }
      if (lo === 0) continue;
      changes = [...changes, { target: 'request', field: 'count', value: lo }];
    }
    out.push(changes);
  }
  return out;
}

/** Exclusive upper bound of the addresses every device without an IOMMU reaches (the rule table's merge). */
function dmaLimit(devices: readonly Device[]): number {
  const values = DEVICE_NEUTRAL.slice();
  for (const d of devices) mergeWholeDevice(values, d);
  return heapLimitsOf(values).dmaLimit;
}

function describePlan(p: Placement): string {
  return `${p.format.name} ${shortModifierName(p.modifier)} in ${p.heap.name}`;
}

/** Why the request's size is too large for its devices (their size bounds), at most two reasons. */
function sizeLimits(ctx: FixContext): string[] {
  const { platform, request } = ctx;
  return sizeBoundReasons(platform, request).slice(0, 2);
}

function atomText(atom: Atom, changes: readonly Change[], plans: readonly Placement[], ctx: FixContext): string {
  const { platform, request } = ctx;
  const plan = plans[0]!;
  const requestChange = (field: string) => changes.find((c) => c.target === 'request' && c.field === field) as { value: unknown } | undefined;
  switch (atom.constraint) {
    case 'size': {
      const w = requestChange('width')!.value as number;
      const h = requestChange('height')!.value as number;
      const why = sizeLimits(ctx);
      return `${why.length > 0 ? `${why.join('; ')}: ` : ''}ask for ${w}x${h} instead of ${request.width}x${request.height}`;
    }
    case 'formats': {
      const formats = requestChange('formats')!.value as string[];
      const added = formats[formats.length - 1]!;
      const devices = request.devices.filter((d) => !changes.some((c) => c.target === 'copy' && c.device === d));
      const takers = devices.length === 1 ? `${devices[0]} takes it` : devices.length === 2 ? `both ${list(devices)} take it` : `${list(devices)} all take it`;
      return `accept ${added} in the request (${takers}): --format ${formats.join(',')}`;
    }
    case 'access': {
      const d = atom.device!;
      const entry = (requestChange('devices')!.value as string[]).find((e) => e.startsWith(`${d}:`))!;
      const use = request.access.get(d)!;
      const { allowed, modifiers } = accessLimit(platform, request, atom);
      return `${d} can only ${allowed === 'read' ? 'read' : 'write'} ${atom.format}${modifiers.length > 0 ? ` as ${list(modifiers)}` : ''}, and the request has it ${use === 'readwrite' ? 'reading and writing' : `${use === 'read' ? 'reading' : 'writing'}`}: if it only ${allowed === 'read' ? 'reads' : 'writes'} the buffer, say ${entry}`;
    }
    case 'count': {
      const k = requestChange('count')!.value as number;
      return `ask for ${k} buffer${k === 1 ? '' : 's'} instead of ${request.count} (${describePlan(plan)} holds ${k} of ${formatBytes(plan.size)})`;
    }
    case 'capacity': {
      const heap = platform.heaps.find((h) => h.name === atom.heap)!;
      const size = (changes.find((c) => c.target === 'heap' && c.heap === heap.name && c.field === 'size') as { value: number }).value;
      const need = poolBytesFor(heap, plan);
      const padded = need > plan.size * plan.count;
      const rounded = size > need ? `, rounded up to whole ${formatBytes(PAGEBLOCK)} pageblocks as CMA areas are` : '';
      return `grow ${heap.name} from ${formatBytes(heap.size)} to ${formatBytes(size)} (the buffers take ${need} bytes: ${plan.count} x ${plan.size}${padded ? `, each placed on a ${formatBytes(plan.alignment)} boundary as the kernel aligns them` : ''}${rounded}); ${HEAP_KINDS[heap.kind].bootAdvice(heap.name, size)}`;
    }
    case 'placement': {
      const heap = platform.heaps.find((h) => h.name === atom.heap)!;
      const change = changes.find((c) => c.target === 'heap' && c.heap === heap.name && (c.field === 'limit' || c.field === 'base')) as { field: 'limit' | 'base'; value: number };
      const staying = request.devices.filter((d) => !changes.some((c) => c.target === 'copy' && c.device === d)).map((d) => deviceOf(platform, d));
      const limit = dmaLimit(staying);
      const who = staying.filter((d) => dmaLimit([d]) === limit).map((d) => `${d.name} (${d.dmaBits}-bit DMA, no IOMMU)`);
      const reach = `${list(who)} reach${who.length === 1 ? 'es' : ''} only addresses below ${formatAddress(limit)}`;
      const mib = cmaAreaSize(heap.size) / MiB;
      const boot = heap.kind === 'cma' ? `boot with cma=${mib}M@0-${formatAddress(limit)}, or give its /reserved-memory node alloc-ranges below ${formatAddress(limit)}` : `place its /reserved-memory reg below ${formatAddress(limit)}`;
      if (!Number.isFinite(heap.end)) {
        return `${reach}, and where ${heap.name} lies is unknown (the profile gives no base or limit: ${heap.source}): if it lies below ${formatAddress(limit)}, say limit: ${formatAddress(limit)} in its profile entry; to make sure it does, ${boot}`;
      }
      const where = change.field === 'base' ? `move ${heap.name} to ${formatAddress(change.value)} (it ends at ${formatAddress(heap.end)})` : `keep ${heap.name} below ${formatAddress(limit)} (it may reach ${formatAddress(heap.end)})`;
      return `${reach}: ${where}; ${boot}`;
    }
    case 'cpu':
      return `set cpu: none and let a device copy the data out${plan.heap.cpuAccess ? '' : ` (${plan.heap.name}, where it fits, cannot be mapped by the CPU)`}`;
    case 'protected':
      return `allocate an unprotected buffer (then ${describePlan(plan)})`;
    case 'shared': {
      const d = atom.device!;
      const copies = changes.filter((c) => c.target === 'copy');
      const index = copies.findIndex((c) => c.device === d);
      const mine = plans[1 + index]!;
      const copy = copies[index]! as { request: CopyRequest };
      const staying = request.devices.filter((n) => !copies.some((c) => c.device === n));
      const verb = staying.length === 1 ? 'uses' : 'share';
      const scaledTo = copy.request.width !== request.width ? ` at ${copy.request.width}x${copy.request.height}` : '';
      const step =
        scaledTo !== '' ? `scales ${request.width}x${request.height} to ${copy.request.width}x${copy.request.height}${mine.format !== plan.format ? ` and converts ${plan.format.name} to ${mine.format.name}` : ''}`
        : mine.format !== plan.format ? `converts ${plan.format.name} to ${mine.format.name}`
        : mine.modifier !== plan.modifier ? `converts the layout ${shortModifierName(plan.modifier)} to ${shortModifierName(mine.modifier)}`
        : 'is a plain copy';
      return `give ${d} its own buffer and copy into it: ${list(staying)} ${verb} ${describePlan(plan)}, ${d} gets ${describePlan(mine)}${scaledTo}; the copy step (GPU, 2D engine or CPU) ${step}`;
    }
    default:
      return '';
  }
}

/** Where the kernel's default CMA area comes from when a board has none (conflict.ts offers to add it). */
export const DEFAULT_AREA_SOURCE = "the kernel's default CMA area, which this board does not have (cma= at boot makes it)";

/** The sentence for adding the kernel's default CMA area (a 'new-heap' change): its size and place, and why. */
function addedAreaText(entry: HeapEntry, plans: readonly Placement[], ctx: FixContext): string {
  const plan = plans[0]!;
  const need = poolBytesFor(heapOf(entry, DEFAULT_AREA_SOURCE), plan);
  const mib = entry.size / MiB;
  const physical = ctx.request.devices.map((d) => deviceOf(ctx.platform, d)).filter((d) => !d.iommu);
  const where = entry.limit !== undefined ? `@0-${formatAddress(entry.limit)}` : '';
  const limited = physical.filter((d) => dmaLimit([d]) === entry.limit);
  const why = entry.limit !== undefined && limited.length > 0 ? `, below ${formatAddress(entry.limit)} where ${list(limited.map((d) => `${d.name} (${d.dmaBits}-bit DMA)`))} reach${limited.length === 1 ? 'es' : ''}` : '';
  const without = physical.length > 0 ? `${list(physical.map((d) => d.name))} ha${physical.length === 1 ? 's' : 've'} no IOMMU and this board has no CMA area: ` : 'this board has no CMA area: ';
  return `${without}boot with cma=${mib}M${where} to give it the kernel's default one, ${formatBytes(entry.size)}${why} (the buffers take ${need} bytes: ${plan.count} x ${plan.size}); Linux exports it as the dma-buf heap ${entry.name} (CONFIG_DMABUF_HEAPS_CMA)`;
}

/** The fix as one sentence: each change of the set, joined. */
export function fixText(set: readonly Atom[], changes: readonly Change[], plans: readonly Placement[], ctx: FixContext): string {
  const added = changes.find((c) => c.target === 'new-heap');
  // The area added is one sentence, whichever of its atoms (size, place) the set relaxes.
  const rest = added ? set.filter((a) => a.heap !== added.heap.name) : set;
  const parts = [...(added ? [addedAreaText(added.heap, plans, ctx)] : []), ...rest.map((a) => atomText(a, changes, plans, ctx)).filter((t) => t !== '')];
  return parts.length === 1 ? parts[0]! : `both: ${parts.join('; and ')}`;
}

/** What hardware or firmware would have to change, for a fact in the core of a conflict no request change resolves. */
export function hardwareAdvice(atom: Atom, core: readonly Atom[], request: Request): string {
  const where = `(${atom.source})`;
  const rule = atom.device !== undefined ? ruleNamed(atom.constraint) : undefined;
  if (rule) return rule.advice({ device: atom.device!, format: atom.format, value: atom.value, where }, { request, core });
  // The request's and the heaps' own facts.
  switch (atom.constraint) {
    case 'formats':
      return `the request accepts only ${list(atom.value as string[])} ${where}`;
    case 'size':
      return `the size is set by what produces the frames, ${String(atom.value)} ${where}: a device that takes it needs a scaler in between`;
    case 'capacity':
      // Only a heap no boot setting sizes (RAM) has a capacity that is a fact.
      return `${atom.heap} is the machine's RAM, ${formatBytes(atom.value as number)} ${where}: no boot setting gives it more; fewer or smaller buffers fit`;
    case 'protected':
      return request.protected ? `the buffer must be protected ${where}` : `the buffer is not protected ${where}, and only a secure heap could hold it`;
    default:
      return `${atom.device ?? atom.heap ?? 'request'}: ${atom.constraint} ${where}`;
  }
}
