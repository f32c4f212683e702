// Reading profiles and requests: YAML or JSON text -> validated model objects. Every error names
// the file, line, field path and offending value; every constraint keeps a source string so a
// conflict explanation can say where it came from.

import { LIMITS, readInputText } from '../util/input-file.js';
import { overlappingPools } from './model.js';
import { formatAddress } from './units.js';
import { HEAP_KINDS } from './heap-kinds/index.js';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { InputError, showValue } from '../errors.js';
import { didYouMean } from '../util/suggest.js';
import { findFormat, formatNames, type FormatInfo } from './formats.js';
import { findModifier, MODIFIERS, modifierAppliesTo, shortModifierName, type ModifierInfo } from './modifiers.js';
import {
  accessCovers,
  DEVICE_ACCESS,
  PAGE_SIZE,
  type CpuAccess,
  type DeviceAccess,
  type Device,
  type FormatRule,
  type Heap,
  type Platform,
  type Request,
} from './model.js';
import { profileSchema, requestSchema, type RawProfile, type RawRequest } from './schema.js';

type PathKey = string | number;

/** A parsed YAML/JSON document that can say on which line any field path sits. */
class SourceDocument {
  private readonly lines = new LineCounter();
  readonly doc: Document;
  /** False for a request made only of flags or API fields: there are no lines to point at. */
  readonly hasText: boolean;

  private readonly text: string;

  constructor(
    text: string,
    readonly origin: string,
  ) {
    this.hasText = text.trim() !== '';
    if (!this.hasText) text = '{}';
    this.text = text;
    // logLevel 'error': problems are errors here, never warnings printed on the user's stderr.
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false, logLevel: 'error' });
    const first = this.doc.errors[0];
    if (first) {
      const { line } = this.lines.linePos(first.pos[0]);
      throw new InputError(`${origin}:${line}: not valid YAML or JSON: ${first.message.split('\n')[0]}`, undefined, undefined, `${origin}:${line}`);
    }
  }

  data(): unknown {
    try {
      return this.doc.toJS({ maxAliasCount: 50 });
    } catch (err) {
      // An alias without its anchor ("*name"), or one expanding past maxAliasCount.
      throw new InputError(`${this.origin}: not valid YAML or JSON: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, undefined, undefined, this.origin);
    }
  }

  /**
   * Top-level fields given outside the text (flags, API fields) and, for the command line, the
   * flag that sets each; a value given otherwise is placed at the document's origin.
   */
  overrides: { readonly fields: ReadonlySet<string>; readonly flagOf: ((field: string) => string) | undefined } | undefined;

  /** "file:line" of a path's value, or the flag / origin that set it when it did not come from the text. */
  where(path: readonly PathKey[]): string {
    const top = path[0];
    if (typeof top === 'string' && this.overrides?.fields.has(top)) return this.overrides.flagOf?.(top) ?? this.origin;
    const line = this.lineOf(path);
    return line === undefined ? this.origin : `${this.origin}:${line}`;
  }

  lineOf(path: readonly PathKey[]): number | undefined {
    if (!this.hasText) return undefined;
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return this.lines.linePos(node.range[0]).line;
    }
    return undefined;
  }

  /**
   * A value as the user wrote it, for messages: a number beyond 2^53 has already lost digits
   * once parsed (2^64 reads back as 18446744073709552000), so show the source text instead.
   */
  shown(path: readonly PathKey[], value: unknown): string {
    if (typeof value === 'number' && Number.isFinite(value) && !Number.isSafeInteger(value) && this.hasText) {
      const node = this.doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return this.text.slice(node.range[0], node.range[1]);
    }
    return showValue(value);
  }

  /** "file:line path" for a field that was written; "file (default for path)" for one that was not. */
  source(path: readonly PathKey[], written = true): string {
    const field = pathText(path);
    if (!written) return `${this.origin} (default: ${field} not set)`;
    const line = this.lineOf(path);
    return line === undefined ? `${this.origin} ${field}` : `${this.origin}:${line} ${field}`;
  }
}

export function pathText(path: readonly PathKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? key : `.${key}`;
  }
  return out || '(top level)';
}

function valueAt(data: unknown, path: readonly PathKey[]): unknown {
  let cur = data;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PathKey, unknown>)[key];
  }
  return cur;
}

/** The field names an object schema takes at `path` (through arrays, records and optional wrappers); [] when unknown. */
function keysAt(schema: z.ZodType, path: readonly PathKey[]): string[] {
  type Def = { type?: string; innerType?: z.ZodType; element?: z.ZodType; valueType?: z.ZodType; in?: z.ZodType; shape?: Record<string, z.ZodType> };
  const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
  const unwrap = (s: z.ZodType): z.ZodType => {
    for (let i = 0; i < 8; i++) {
      const d = defOf(s);
      const inner = d.innerType ?? (d.type === 'pipe' ? d.in : undefined);
      if (!inner) return s;
      s = inner;
    }
    return s;
  };
  try {
    let cur = unwrap(schema);
    for (const key of path) {
      const d = defOf(cur);
      const next = d.type === 'object' ? d.shape?.[String(key)] : d.type === 'array' ? d.element : d.type === 'record' ? d.valueType : undefined;
      if (!next) return [];
      cur = unwrap(next);
    }
    const d = defOf(cur);
    return d.type === 'object' && d.shape ? Object.keys(d.shape) : [];
  } catch {
    return [];
  }
}

function validate<S extends z.ZodType>(schema: S, data: unknown, src: SourceDocument, what: string): z.output<S> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InputError(`${src.origin}: a ${what} must be a mapping of fields, got ${showValue(data)}`);
  }
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  // A misspelt field is usually why another looks missing: unknown fields are reported first.
  const issues = [...result.error.issues].sort((x, y) => Number(y.code === 'unrecognized_keys') - Number(x.code === 'unrecognized_keys'));
  const messages = issues.slice(0, 5).map((issue) => {
    const path = issue.path.filter((k): k is PathKey => typeof k !== 'symbol');
    const value = valueAt(data, path);
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0]!;
      const at: PathKey[] = [...path, key];
      const known = keysAt(schema, path);
      return { text: `${src.where(at)}: ${what} field ${pathText(at)}: unknown${didYouMean(key, known)}${known.length > 0 ? `; the fields here are ${known.join(', ')}` : ''}`, path: at, value: key };
    }
    const where = src.where(path);
    if (value === undefined) {
      const flag = path.length === 1 && typeof path[0] === 'string' ? src.overrides?.flagOf?.(path[0]) : undefined;
      const why = issue.code === 'invalid_type' ? '' : `: ${issue.message}`; // zod's own text would only repeat "missing"
      return { text: `${where}: ${what} field ${pathText(path)} is missing${flag ? ` (set it with ${flag} or in a --request file)` : ''}${why}`, path, value };
    }
    return { text: `${where}: ${what} field ${pathText(path)} = ${src.shown(path, value)}: ${issue.message}`, path, value };
  });
  const more = result.error.issues.length > 5 ? `\n(${result.error.issues.length - 5} more errors)` : '';
  const first = messages[0]!;
  throw new InputError(messages.map((m) => m.text).join('\n') + more, pathText(first.path), first.value);
}

function fail(src: SourceDocument, path: PathKey[], message: string, value: unknown): never {
  throw new InputError(`${src.where(path)}: ${pathText(path)} = ${src.shown(path, value)}: ${message}`, pathText(path), value);
}

function readText(file: string, what: 'platform profile' | 'request'): string {
  return readInputText(file, { what, field: what === 'request' ? 'request' : 'platform', maxBytes: what === 'request' ? LIMITS.request : LIMITS.profile });
}

// ---------------------------------------------------------------- platform

function buildHeap(raw: RawProfile['heaps'][number], index: number, src: SourceDocument): Heap {
  const kind = HEAP_KINDS[raw.kind];
  const path = ['heaps', index];
  let end = kind.endWithoutPlace(raw.size);
  if (raw.base !== undefined) {
    end = raw.base + raw.size;
    if (!Number.isSafeInteger(end)) fail(src, [...path, 'size'], 'base + size is beyond 2^53', raw.size);
    if (raw.limit !== undefined && end > raw.limit) fail(src, [...path, 'limit'], `the pool ends at 0x${end.toString(16)}, above its limit`, raw.limit);
  } else if (raw.limit !== undefined) {
    end = raw.limit;
  }
  // What Linux refuses (a CMA area off whole pageblocks) describes a machine that cannot boot that way.
  const refusal = kind.refusal({ base: raw.base, size: raw.size });
  if (refusal) fail(src, [...path, refusal.field], refusal.why, raw[refusal.field]);
  if (raw.kind === 'secure' && raw.cpuAccess === true) fail(src, [...path, 'cpuAccess'], 'a secure heap cannot be CPU-mappable', raw.cpuAccess);
  if (raw.alignOrder !== undefined && kind.defaultAlignOrder === undefined) fail(src, [...path, 'alignOrder'], 'only CMA heaps have an alignment order', raw.alignOrder);
  const alignOrder = kind.defaultAlignOrder === undefined ? undefined : (raw.alignOrder ?? kind.defaultAlignOrder);
  return {
    name: raw.name,
    kind: raw.kind,
    base: raw.base,
    size: raw.size,
    end,
    contiguous: raw.contiguous ?? kind.contiguous,
    cpuAccess: raw.cpuAccess ?? kind.cpuAccess,
    secure: kind.secure,
    cached: raw.cached ?? true,
    maxAlign: raw.maxAlign ?? kind.maxAlign(alignOrder),
    alignOrder,
    maxBuffer: kind.maxBuffer(raw.size),
    scarcity: kind.scarcity,
    source: src.source(path),
  };
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
  return {
    format,
    access,
    modifierAccess,
    modifiers,
    pitchAlign: raw?.pitchAlign ?? 1,
    heightAlign: raw?.heightAlign ?? 1,
    offsetAlign: raw?.offsetAlign ?? 1,
    maxWidth: raw?.maxWidth,
    maxHeight: raw?.maxHeight,
    maxPitch: raw?.maxPitch,
    implicitPlaneOffsets: (raw?.implicitPlaneOffsets ?? false) && format.planes.length > 1,
    source: src.source(path),
  };
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
  const sources: Record<string, string> = {};
  for (const field of ['iommu', 'dmaBits', 'heaps', 'preferredHeaps', 'alignment', 'sizeAlign', 'maxSize', 'coherent', 'protected', 'formats']) {
    sources[field] = src.source([...path, field], field in raw);
  }
  return {
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
  };
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
  return parsePlatform(readText(file, 'platform profile'), file);
}

// ---------------------------------------------------------------- request

export interface RequestFields {
  width?: number;
  height?: number;
  formats?: string[];
  devices?: string[];
  cpu?: CpuAccess;
  protected?: boolean;
  count?: number;
}

/** The command-line flag that sets each request field, for sources of values given as flags. */
/**
 * "camera:write" -> camera, write. An entry that is itself a device's name, or whose prefix is not
 * one, is taken as a plain name; a known device with a word that is no use gives `badUse`.
 */
function splitDeviceEntry(entry: string, known: readonly string[]): { name: string; use?: DeviceAccess; badUse?: string } {
  const colon = entry.lastIndexOf(':');
  if (colon < 0 || known.includes(entry)) return { name: entry };
  const name = entry.slice(0, colon);
  const word = entry.slice(colon + 1);
  const use = (DEVICE_ACCESS as readonly string[]).includes(word) ? (word as DeviceAccess) : USE_WORDS[word];
  if (use !== undefined) return { name, use };
  return known.includes(name) ? { name, badUse: word } : { name: entry };
}

/** The roles engineers name, as the access they imply ("display:scanout" reads the buffer). */
const USE_WORDS: Readonly<Record<string, DeviceAccess>> = Object.assign(Object.create(null) as Record<string, DeviceAccess>, {
  scanout: 'read',
  encode: 'read',
  sample: 'read',
  texture: 'read',
  capture: 'write',
  decode: 'write',
  render: 'write',
});

/**
 * A request that names no format accepts every format all its devices take (for the use it states),
 * best first by the devices' own order of preference (the sum of each format's position in their
 * lists). None in common is an error that lists each device's formats.
 */
function sharedFormats(platform: Platform, names: readonly string[], access: ReadonlyMap<string, DeviceAccess>, src: SourceDocument): FormatInfo[] {
  const devices = names.map((n) => platform.devices.find((d) => d.name === n)!);
  const takes = (d: Device) => {
    const use = access.get(d.name);
    return [...d.formats.values()].filter((r) => use === undefined || accessCovers(r.access, use)).map((r) => r.format);
  };
  const lists = devices.map(takes);
  const shared = lists[0]!.filter((f) => lists.every((l) => l.includes(f)));
  if (shared.length === 0) {
    const each = devices.map((d, i) => `${d.name}: ${lists[i]!.map((f) => f.name).join(', ') || 'nothing for that use'}`).join('; ');
    throw new InputError(`${src.where(['formats'])}: request field formats is missing, and the devices take no format in common (${each}); set it with --format or in a --request file`, 'formats', undefined);
  }
  const rank = (f: FormatInfo) => lists.reduce((sum, l) => sum + l.indexOf(f), 0);
  return shared.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
}

function buildRequest(raw: RawRequest, platform: Platform, src: SourceDocument, written: Set<string>, overridden: Set<string>): Request {
  const known = platform.devices.map((d) => d.name);
  const devices: string[] = [];
  const access = new Map<string, DeviceAccess>();
  raw.devices.forEach((entry, i) => {
    const { name, use, badUse } = splitDeviceEntry(entry, known);
    if (badUse !== undefined) fail(src, ['devices', i], `"${badUse}" is not a way to use a buffer: write ${name}:read, :write or :readwrite (or a role: ${Object.keys(USE_WORDS).join(', ')})`, entry);
    if (!known.includes(name)) fail(src, ['devices', i], `no device of that name in platform ${platform.name}${didYouMean(name, known)}`, entry);
    if (devices.includes(name)) fail(src, ['devices', i], 'listed twice', entry);
    devices.push(name);
    if (use !== undefined) access.set(name, use);
  });
  const formats: FormatInfo[] = [];
  (raw.formats ?? []).forEach((f, i) => {
    if (formats.includes(f)) fail(src, ['formats', i], `${f.name} is listed twice`, f.name);
    formats.push(f);
  });
  if (raw.formats === undefined) formats.push(...sharedFormats(platform, devices, access, src));
  const sources: Record<string, string> = {};
  for (const field of ['width', 'height', 'formats', 'devices', 'cpu', 'protected', 'count']) {
    // A field given outside the text: a flag when the caller names its flags (the CLI), else the
    // caller's own field ("request field count", or whatever origin the caller gave).
    const flagOf = src.overrides?.flagOf;
    sources[field] = overridden.has(field) ? (flagOf ? `${flagOf(field)} on the command line` : `${src.origin} field ${field}`) : src.source([field], written.has(field));
  }
  if (raw.formats === undefined) sources['formats'] = `${src.origin} (default: the formats ${devices.join(', ')} all take)`;
  return { width: raw.width, height: raw.height, formats, devices, access, cpu: raw.cpu, protected: raw.protected, count: raw.count, sources };
}

/**
 * Parses a request from YAML/JSON text (may be empty) with `overrides` (command-line flags or API
 * fields) taking precedence, and checks it against the platform (device names).
 */
export function parseRequest(text: string, platform: Platform, origin = 'request', overrides: RequestFields = {}, flagOf?: (field: string) => string): Request {
  const src = new SourceDocument(text, origin);
  const data = src.data();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InputError(`${origin}: a request must be a mapping of fields, got ${showValue(data)}`);
  }
  const merged: Record<string, unknown> = { ...(data as Record<string, unknown>) };
  const overridden = new Set<string>();
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) continue;
    merged[k] = v;
    overridden.add(k);
  }
  src.overrides = { fields: overridden, flagOf };
  const raw = validate(requestSchema, merged, src, 'request');
  return buildRequest(raw, platform, src, new Set(Object.keys(merged)), overridden);
}

/** Reads a request file (YAML or JSON) with `overrides` taking precedence; `flagOf` names the flag each field came from. */
export function loadRequest(file: string | undefined, platform: Platform, overrides: RequestFields = {}, flagOf?: (field: string) => string): Request {
  if (file === undefined) return parseRequest('', platform, flagOf ? 'request flags' : 'request', overrides, flagOf);
  return parseRequest(readText(file, 'request'), platform, file, overrides, flagOf);
}

/**
 * Builds a request from an API object (no file). `origin` names the request in its sources and
 * messages ("request field count"): a service names its caller there.
 */
export function makeRequest(platform: Platform, fields: RequestFields, origin = 'request'): Request {
  return parseRequest('', platform, origin, fields);
}
