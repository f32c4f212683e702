// Platform profiles: YAML or JSON text -> a validated Platform, every heap and device rule keeping
// its source (file:line field) so that a conflict can say where a constraint came from.

import { HEAP_KINDS, heapOf } from './heap-kinds/index.js';
import { fail, readText, SourceDocument, validate, type PathKey } from './document.js';
import { findFormat, formatNames } from './formats.js';
import { findModifier, MODIFIERS, modifierAppliesTo, shortModifierName, type ModifierInfo } from './modifiers.js';
import { accessCovers, overlappingPools, PAGE_SIZE, type Device, type DeviceAccess, type FormatRule, type Heap, type Platform } from './model.js';
import { profileSchema, type RawProfile } from './schema.js';
import { deviceValues, formatRuleValues } from './rules/index.js';
import { formatAddress } from './units.js';
import { didYouMean } from '../util/suggest.js';

const powerOfTwo = (n: number): boolean => Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;

function buildHeap(raw: RawProfile['heaps'][number], index: number, src: SourceDocument): Heap {
  const kind = HEAP_KINDS[raw.kind];
  const path = ['heaps', index];
  if (raw.base !== undefined && !Number.isSafeInteger(raw.base + raw.size)) fail(src, [...path, 'size'], 'base + size is beyond 2^53', raw.size);
  // The kernel hands out pages: a pool is whole pages at a page boundary, whatever command reads it.
  if (raw.size % PAGE_SIZE !== 0) fail(src, [...path, 'size'], `not a whole number of pages (${PAGE_SIZE} bytes): did you forget a unit (256MiB)?`, raw.size);
  if (raw.base !== undefined && raw.base % PAGE_SIZE !== 0) fail(src, [...path, 'base'], `not page aligned (${PAGE_SIZE} bytes)`, raw.base);
  if (raw.base === undefined && raw.limit !== undefined && raw.size > raw.limit) fail(src, [...path, 'size'], `a pool of ${raw.size} bytes cannot lie below its limit 0x${raw.limit.toString(16)}`, raw.size);
  if (raw.base !== undefined && raw.limit !== undefined && raw.base + raw.size > raw.limit) fail(src, [...path, 'limit'], `the pool ends at 0x${(raw.base + raw.size).toString(16)}, above its limit`, raw.limit);
  // What Linux refuses (a CMA area off whole pageblocks) describes a machine that cannot boot that way.
  const refusal = kind.refusal({ base: raw.base, size: raw.size });
  if (refusal) fail(src, [...path, refusal.field], refusal.why, raw[refusal.field]);
  if (raw.kind === 'secure' && raw.cpuAccess === true) fail(src, [...path, 'cpuAccess'], 'a secure heap cannot be CPU-mappable', raw.cpuAccess);
  if (raw.maxAlign !== undefined && !powerOfTwo(raw.maxAlign)) fail(src, [...path, 'maxAlign'], 'a physical base alignment is a power of two (4096, 65536, 1MiB...)', raw.maxAlign);
  if (raw.alignOrder !== undefined && kind.defaultAlignOrder === undefined) fail(src, [...path, 'alignOrder'], 'only CMA heaps have an alignment order', raw.alignOrder);
  return heapOf(raw, src.source(path));
}

function buildFormatRule(
  formatKey: string,
  raw: NonNullable<RawProfile['devices'][number]['formats'][string]> | null,
  path: PathKey[],
  src: SourceDocument,
): FormatRule {
  const format = findFormat(formatKey);
  if (!format) fail(src, path, `unknown format${didYouMean(formatKey, formatNames())}; run "udalloc formats" for the list`, formatKey);
  const linear = MODIFIERS[0]!;
  const modifiers = raw?.modifiers ?? [linear];
  modifiers.forEach((m, i) => {
    if (!modifierAppliesTo(m, format)) fail(src, [...path, 'modifiers', i], `modifier ${shortModifierName(m)} is not defined for ${format.name}`, m.name);
    if (modifiers.indexOf(m) !== i) fail(src, [...path, 'modifiers', i], 'listed twice', m.name);
  });
  const access = raw?.access ?? 'readwrite';
  const modifierAccess = new Map<ModifierInfo, DeviceAccess>();
  for (const [key, use] of Object.entries(raw?.modifierAccess ?? {})) {
    const where = [...path, 'modifierAccess', key];
    const m = findModifier(key);
    if (!m || !modifiers.includes(m)) fail(src, where, `not one of this format's modifiers (${modifiers.map(shortModifierName).join(', ')})`, key);
    if (!accessCovers(access, use)) fail(src, where, `cannot widen the format's access (${access})`, use);
    modifierAccess.set(m, use);
  }
  // The rule table's numbers, filled in once the rule's fields are known (one object shape for every rule).
  const values: number[] = [];
  const rule: FormatRule = {
    format,
    access,
    modifierAccess,
    modifiers,
    pitchAlign: raw?.pitchAlign ?? 1,
    heightAlign: raw?.heightAlign ?? 1,
    widthAlign: raw?.widthAlign ?? 1,
    offsetAlign: raw?.offsetAlign ?? 1,
    maxWidth: raw?.maxWidth,
    maxHeight: raw?.maxHeight,
    maxPitch: raw?.maxPitch,
    implicitPlaneOffsets: (raw?.implicitPlaneOffsets ?? false) && format.planes.length > 1,
    values,
    source: src.source(path),
  };
  for (const v of formatRuleValues(rule)) values.push(v);
  return rule;
}

function buildDevice(raw: RawProfile['devices'][number], index: number, heapNames: string[], src: SourceDocument): Device {
  const path: PathKey[] = ['devices', index];
  for (const field of ['heaps', 'preferredHeaps'] as const) {
    raw[field]?.forEach((h, i) => {
      if (!heapNames.includes(h)) fail(src, [...path, field, i], `no heap of that name in this platform${didYouMean(h, heapNames)}`, h);
    });
  }
  const formats = new Map<string, FormatRule>();
  for (const [key, rule] of Object.entries(raw.formats)) {
    const f = buildFormatRule(key, rule, [...path, 'formats', key], src);
    if (formats.has(f.format.name)) fail(src, [...path, 'formats', key], `${f.format.name} is listed twice`, key);
    formats.set(f.format.name, f);
  }
  // A physical address alignment is a power of two (an address's low bits being zero); no other
  // value describes what a DMA engine or a heap can do.
  if (raw.alignment !== undefined && !powerOfTwo(raw.alignment)) fail(src, [...path, 'alignment'], 'a physical base alignment is a power of two (4096, 65536, 1MiB...)', raw.alignment);
  const sources: Record<string, string> = {};
  for (const field of ['iommu', 'dmaBits', 'heaps', 'preferredHeaps', 'alignment', 'sizeAlign', 'maxSize', 'coherent', 'protected', 'formats']) {
    sources[field] = src.source([...path, field], field in raw);
  }
  const values: number[] = [];
  const device: Device = {
    name: raw.name,
    iommu: raw.iommu ?? false,
    dmaBits: raw.dmaBits,
    heaps: raw.heaps,
    preferredHeaps: raw.preferredHeaps ?? [],
    alignment: raw.alignment ?? PAGE_SIZE,
    sizeAlign: raw.sizeAlign ?? 1,
    maxSize: raw.maxSize,
    coherent: raw.coherent ?? false,
    protected: raw.protected ?? 'optional',
    formats,
    sources,
    values,
  };
  for (const v of deviceValues(device)) values.push(v);
  return device;
}

function uniqueNames(items: { name: string }[], what: 'heaps' | 'devices', src: SourceDocument): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.name)) fail(src, [what, i, 'name'], `two ${what} are named ${item.name}`, item.name);
    seen.add(item.name);
  });
}

/** Parses a platform profile from YAML or JSON text. `origin` names it in messages (a file path). */
export function parsePlatform(text: string, origin = 'profile'): Platform {
  const src = new SourceDocument(text, origin);
  const raw = validate(profileSchema, src.data(), src, 'profile');
  uniqueNames(raw.heaps, 'heaps', src);
  uniqueNames(raw.devices, 'devices', src);
  const heaps = raw.heaps.map((h, i) => buildHeap(h, i, src));
  const overlap = overlappingPools(heaps);
  if (overlap) {
    const [a, b] = overlap;
    const i = heaps.indexOf(b);
    fail(src, ['heaps', i, 'base'], `${b.name} starts inside ${a.name} (${formatAddress(a.base!)}-${formatAddress(a.base! + a.size)}): pools with fixed places cannot overlap`, formatAddress(b.base!));
  }
  const heapNames = heaps.map((h) => h.name);
  const devices = raw.devices.map((d, i) => buildDevice(d, i, heapNames, src));
  return { name: raw.name ?? origin, heaps, devices, origin };
}

export function loadPlatform(file: string): Platform {
  // "-" is standard input; messages call it so.
  return parsePlatform(readText(file, 'platform profile'), file === '-' ? 'stdin' : file);
}
