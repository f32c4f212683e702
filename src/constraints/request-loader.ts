// Requests: YAML or JSON text, flags or API fields -> a validated Request against a platform,
// each field keeping its source (a file line, the caller's field, or the flag that set it).

import { InputError, showValue } from '../errors.js';
import { closest, didYouMean } from '../util/suggest.js';
import { fail, readText, SourceDocument, validate } from './document.js';
import type { FormatInfo } from './formats.js';
import { accessCovers, DEVICE_ACCESS, type CpuAccess, type Device, type DeviceAccess, type Platform, type Request } from './model.js';
import { requestSchema, type RawRequest } from './schema.js';

export interface RequestFields {
  width?: number;
  height?: number;
  formats?: string[];
  devices?: string[];
  cpu?: CpuAccess;
  protected?: boolean;
  count?: number;
  /** The size is the stream's or the sensor's (default: true when a device entry has the role decode). */
  fixedSize?: boolean;
}

/**
 * "camera:write" -> camera, write. An entry that is itself a device's name, or whose prefix is not
 * one, is taken as a plain name; a known device with a word that is no use gives `badUse`.
 */
function splitDeviceEntry(entry: string, known: readonly string[]): { name: string; use?: DeviceAccess; role?: string; badUse?: string } {
  const colon = entry.lastIndexOf(':');
  if (colon < 0 || known.includes(entry)) return { name: entry };
  const name = entry.slice(0, colon);
  const word = entry.slice(colon + 1);
  const use = (DEVICE_ACCESS as readonly string[]).includes(word) ? (word as DeviceAccess) : USE_WORDS[word];
  if (use !== undefined) return { name, use, role: word };
  return known.includes(name) ? { name, badUse: word } : { name: entry };
}

/**
 * What engineers call a kind of device, and the words a profile's device names of that kind
 * contain: "uvc" on a board whose camera is named "camera" or "unicam" is suggested those.
 */
const DEVICE_WORDS: ReadonlyArray<readonly [what: string, aliases: readonly string[], names: readonly string[]]> = [
  ['a camera', ['uvc', 'webcam', 'camera', 'cam', 'sensor', 'v4l2', 'capture', 'csi', 'mipi'], ['camera', 'cam', 'isp', 'csi', 'unicam', 'isi', 'vin', 'vi', 'capture']],
  ['a display', ['display', 'screen', 'monitor', 'lcd', 'hdmi', 'drm', 'kms', 'scanout', 'crtc', 'plane', 'panel'], ['display', 'disp', 'lcdif', 'vop', 'dpu', 'dcss', 'hvs', 'dc', 'mixer', 'ovl', 'dss', 'card']],
  ['a video codec', ['codec', 'vpu', 'encoder', 'decoder', 'venc', 'vdec', 'h264', 'hevc', 'h265', 'vp9', 'av1', 'jpeg'], ['enc', 'dec', 'codec', 'vpu', 'hantro', 'venus', 'jpeg', 'cedrus']],
  ['a GPU', ['gpu', '3d', 'render', 'opengl', 'gles', 'vulkan', 'mali', 'adreno'], ['gpu', 'mali', 'v3d', 'gc', 'adreno', 'etnaviv', 'panfrost', 'pvr']],
];

/** The platform's devices of the kind a word names ("uvc": its cameras), else " (did you mean X?)" for a typo, else the list. */
function deviceSuggestion(name: string, known: readonly string[]): string {
  const word = name.toLowerCase();
  const bare = word.replace(/[-_]?\d+$/, '');
  const kind = DEVICE_WORDS.find(([, aliases]) => aliases.includes(bare));
  if (kind) {
    const [what, , parts] = kind;
    const like = known.filter((k) => parts.some((p) => k.toLowerCase().split(/[^a-z0-9]+/).some((w) => w === p || w.startsWith(p))));
    if (like.length > 0) return ` ("${name}" reads as ${what}: this platform's are ${like.join(', ')})`;
  }
  return didYouMean(name, known) || `; its devices are ${known.join(', ')}`;
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
 * lists). When they take none in common, the request is the first device's formats (it anchors the
 * buffer), and negotiating it is a conflict that says so, with its fixes (a copy step); only a
 * first device that takes nothing for its use leaves nothing to ask for.
 */
function defaultFormats(platform: Platform, names: readonly string[], access: ReadonlyMap<string, DeviceAccess>, src: SourceDocument): { formats: FormatInfo[]; source: string } {
  const devices = names.map((n) => platform.devices.find((d) => d.name === n)!);
  const takes = (d: Device) => {
    const use = access.get(d.name);
    return [...d.formats.values()].filter((r) => use === undefined || accessCovers(r.access, use)).map((r) => r.format);
  };
  const lists = devices.map(takes);
  const shared = lists[0]!.filter((f) => lists.every((l) => l.includes(f)));
  if (shared.length === 0) {
    const each = devices.map((d, i) => `${d.name}: ${lists[i]!.map((f) => f.name).join(', ') || 'nothing for that use'}`).join('; ');
    if (lists[0]!.length === 0) throw new InputError(`${src.where(['formats'])}: request field formats is missing, and ${names[0]} takes no format for the use the request states (${each}); set it with --format or in a --request file`, 'formats', undefined);
    return { formats: lists[0]!, source: `${src.origin} (default: the formats ${names[0]} takes; the devices take none in common: ${each})` };
  }
  const rank = (f: FormatInfo) => lists.reduce((sum, l) => sum + l.indexOf(f), 0);
  return { formats: shared.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f), source: `${src.origin} (default: the formats ${names.join(', ')} all take)` };
}

function buildRequest(raw: RawRequest, platform: Platform, src: SourceDocument, written: Set<string>, overridden: Set<string>): Request {
  const known = platform.devices.map((d) => d.name);
  const devices: string[] = [];
  const access = new Map<string, DeviceAccess>();
  let decodes = false;
  raw.devices.forEach((entry, i) => {
    const { name, use, role, badUse } = splitDeviceEntry(entry, known);
    if (role === 'decode') decodes = true;
    if (badUse !== undefined) {
      // Short words: two edits at most ("wirte" is write; "stream" is no word of these).
      const meant = closest(badUse, [...DEVICE_ACCESS, ...Object.keys(USE_WORDS)], 2);
      fail(src, ['devices', i], `"${badUse}" is not a way to use a buffer${meant ? ` (did you mean ${name}:${meant}?)` : ''}; a device entry is NAME, NAME:read, NAME:write, NAME:readwrite or NAME:ROLE with a role of ${Object.keys(USE_WORDS).join(', ')}`, entry);
    }
    if (!known.includes(name)) fail(src, ['devices', i], `no device of that name in platform ${platform.name}${deviceSuggestion(name, known)}`, entry);
    if (devices.includes(name)) fail(src, ['devices', i], 'listed twice', entry);
    devices.push(name);
    if (use !== undefined) access.set(name, use);
  });
  const formats: FormatInfo[] = [];
  (raw.formats ?? []).forEach((f, i) => {
    if (formats.includes(f)) fail(src, ['formats', i], `${f.name} is listed twice`, f.name);
    formats.push(f);
  });
  const defaulted = raw.formats === undefined ? defaultFormats(platform, devices, access, src) : undefined;
  if (defaulted) formats.push(...defaulted.formats);
  const sources: Record<string, string> = {};
  for (const field of ['width', 'height', 'formats', 'devices', 'cpu', 'protected', 'count']) {
    // A field given outside the text: a flag when the caller names its flags (the CLI), else the
    // caller's own field ("request field count", or whatever origin the caller gave).
    const flagOf = src.overrides?.flagOf;
    sources[field] = overridden.has(field) ? (flagOf ? `${flagOf(field)} on the command line` : `${src.origin} field ${field}`) : src.source([field], written.has(field));
  }
  if (defaulted) sources['formats'] = defaulted.source;
  // A decoder's output size is the stream's: the decode role fixes it unless the request says otherwise.
  const fixedSize = raw.fixedSize ?? decodes;
  if (raw.fixedSize === undefined && decodes) sources['fixedSize'] = `${src.origin}: a device decodes, and a stream fixes its size`;
  else sources['fixedSize'] = src.source(['fixedSize'], written.has('fixedSize'));
  return { width: raw.width, height: raw.height, formats, devices, access, cpu: raw.cpu, protected: raw.protected, count: raw.count, fixedSize, sources };
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
  return parseRequest(readText(file, 'request'), platform, file === '-' ? 'stdin' : file, overrides, flagOf);
}

/**
 * Builds a request from an API object (no file). `origin` names the request in its sources and
 * messages ("request field count"): a service names its caller there.
 */
export function makeRequest(platform: Platform, fields: RequestFields, origin = 'request'): Request {
  return parseRequest('', platform, origin, fields);
}
