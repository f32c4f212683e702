// A pipeline as its file states it: streams (edges) from one producing device to one or more
// consuming devices, each with a ring depth (buffers in flight), a frame size and optional formats,
// and the devices that may be given a conversion step when an edge's devices share no layout.
//
//   name: camera-record
//   converters: [gpu, cpu]            # devices (or the CPU) that may convert between two buffers
//   edges:
//     raw:     { from: unicam, to: [isp], size: 1920x1080, depth: 4, formats: [SRGGB10P] }
//     encode:  { from: isp, to: [h264-enc], size: 1920x1080, depth: 4 }
//     preview: { from: isp, to: [hvs], size: 1920x1080, depth: 3, negotiable: true }
//
// The CPU may be an edge's producer or consumer too (`cpu`: an application that renders into a
// display's buffers, or reads a writeback). A size is fixed (a sensor mode) unless the edge says it
// is negotiable: then a conflict's fixes may offer a smaller size with the same aspect ratio.
//
// An edge may ask for its conversion step on one converter (`via: gpu`), and for its consumers'
// frames at another size (`scaleTo: 1280x720`: a conversion step that scales; every converter is
// taken to scale, as GPUs, 2D engines, ISPs and the CPU do).
//
// Checked here, each with one line naming the field and value: unknown devices, an edge without a
// consumer, a device producing and consuming the same edge, a cycle, absurd depths, converters
// that are not devices, a `via` that is not a converter. What a device can do with a format is the
// solver's to judge (the planner: a `via` converter that cannot convert the edge is bad input too).

import { z } from 'zod';
import { InputError, showValue } from '../errors.js';
import type { Platform } from '../constraints/model.js';
import { didYouMean } from '../util/suggest.js';
import { yamlData } from '../util/yaml.js';
import { readInputText } from '../util/input-file.js';

/** The CPU as a converter: it reads one linear buffer and writes another (slow, always there). */
export const CPU = 'cpu';
/** Deeper rings than this are a typo, not a pipeline (V4L2 queues hold at most VIDEO_MAX_FRAME = 64). */
export const MAX_DEPTH = 64;

export interface EdgeSpec {
  readonly name: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly formats: readonly string[] | undefined;
  /** The size may shrink (a stream's, not a sensor mode's): fixes may offer a smaller one. */
  readonly negotiable: boolean;
  /** A conversion step the file asks for on this converter (`via: gpu`), whatever else would serve the edge. */
  readonly via: string | undefined;
  /** The consumers' frame size when it differs from the producer's: a conversion step scales (`scaleTo: 1280x720`). */
  readonly scaleTo: { readonly width: number; readonly height: number } | undefined;
}

export interface PipelineSpec {
  readonly name: string;
  readonly edges: readonly EdgeSpec[];
  readonly converters: readonly string[];
  readonly origin: string;
}

const size = z.union([z.string(), z.strictObject({ width: z.number().int(), height: z.number().int() })], { error: 'expected WIDTHxHEIGHT (e.g. 1920x1080) or { width, height }; YAML reads 0x40 as a number: quote it' });
const edgeSchema = z.strictObject({
  from: z.string(),
  to: z.union([z.string(), z.array(z.string())]),
  size,
  depth: z.number().optional(),
  formats: z.array(z.string()).optional(),
  negotiable: z.boolean().optional(),
  via: z.string().optional(),
  scaleTo: size.optional(),
});
const pipelineSchema = z.strictObject({
  name: z.string().optional(),
  converters: z.array(z.string()).optional(),
  edges: z.record(z.string(), edgeSchema),
});

export function loadPipeline(file: string, platform: Platform): PipelineSpec {
  return parsePipeline(readInputText(file, { what: 'pipeline', field: 'pipeline', maxBytes: 1024 * 1024 }), platform, file === '-' ? 'stdin' : file);
}

export function parsePipeline(text: string, platform: Platform, origin = 'pipeline'): PipelineSpec {
  const data = yamlData(text, origin, 'pipeline');
  const parsed = pipelineSchema.safeParse(data);
  if (!parsed.success) {
    // An unknown field first (a typo for a missing one explains both), then the first issue.
    const issue = parsed.error.issues.find((i) => i.code === 'unrecognized_keys') ?? parsed.error.issues[0]!;
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const known = issue.path.length === 0 ? Object.keys(pipelineSchema.shape) : Object.keys(edgeSchema.shape);
      const key = issue.keys[0]!;
      throw new InputError(`${origin}: pipeline field ${path ? `${path}.` : ''}${key}: unknown${didYouMean(key, known)}; the fields are ${known.join(', ')}`, path ? `${path}.${key}` : key, key);
    }
    const at = path.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), data);
    const why = at === undefined ? 'is missing' : issue.code === 'invalid_type' && issue.expected === 'boolean' ? `expected true or false, got ${JSON.stringify(at)}` : issue.message;
    throw new InputError(`${origin}: pipeline field ${path || '(top level)'}: ${why}`, path, undefined);
  }
  const p = parsed.data;
  const devices = platform.devices.map((d) => d.name);
  const fail = (field: string, value: unknown, why: string): never => {
    throw new InputError(`${origin}: pipeline field ${field} = ${showValue(value)}: ${why}`, field, value);
  };
  const device = (field: string, name: string) => {
    if (!devices.includes(name)) fail(field, name, `no device of that name in platform ${platform.name}${didYouMean(name, devices)}`);
  };
  const endpoint = (field: string, name: string) => {
    if (name !== CPU && !devices.includes(name)) fail(field, name, `no device of that name in platform ${platform.name} (nor ${CPU}, the CPU)${didYouMean(name, [...devices, CPU])}`);
  };
  const converters = p.converters ?? [];
  converters.forEach((c, i) => {
    if (c !== CPU) device(`converters[${i}]`, c);
  });
  const names = Object.keys(p.edges);
  if (names.length === 0) fail('edges', {}, 'a pipeline has at least one edge');
  const edges = names.map((name): EdgeSpec => {
    const e = p.edges[name]!;
    const at = `edges.${name}`;
    endpoint(`${at}.from`, e.from);
    const to = typeof e.to === 'string' ? [e.to] : e.to;
    if (to.length === 0) fail(`${at}.to`, to, 'an edge needs at least one consumer');
    to.forEach((t, i) => endpoint(`${at}.to[${i}]`, t));
    if (to.includes(e.from)) fail(`${at}.to`, to, `${e.from} would produce and consume the same edge`);
    if (new Set(to).size !== to.length) fail(`${at}.to`, to, 'a consumer is listed twice');
    const depth = e.depth ?? 4;
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH) fail(`${at}.depth`, depth, `a ring holds 1 to ${MAX_DEPTH} buffers`);
    const [width, height] = typeof e.size === 'string' ? parseSize(e.size, `${at}.size`, fail) : [e.size.width, e.size.height];
    if (width < 1 || height < 1) fail(`${at}.size`, e.size, 'a frame is at least 1x1');
    if (e.via !== undefined) {
      if (!converters.includes(e.via)) fail(`${at}.via`, e.via, `not among the pipeline's converters (${converters.length > 0 ? converters.join(', ') : 'none'}): add it to converters${didYouMean(e.via, converters)}`);
      if (e.via === e.from || to.includes(e.via)) fail(`${at}.via`, e.via, `${e.via} is one of the edge's own devices: a conversion step reads one ring and writes another`);
    }
    let scaleTo: EdgeSpec['scaleTo'];
    if (e.scaleTo !== undefined) {
      const [w, h] = typeof e.scaleTo === 'string' ? parseSize(e.scaleTo, `${at}.scaleTo`, fail) : [e.scaleTo.width, e.scaleTo.height];
      if (w < 1 || h < 1) fail(`${at}.scaleTo`, e.scaleTo, 'a frame is at least 1x1');
      if (converters.length === 0) fail(`${at}.scaleTo`, e.scaleTo, 'scaling is a conversion step, and the pipeline names no converter (converters: [gpu, cpu])');
      if (w !== width || h !== height) scaleTo = { width: w, height: h };
    }
    return { name, from: e.from, to, width, height, depth, formats: e.formats, negotiable: e.negotiable ?? false, via: e.via, scaleTo };
  });
  const cycle = findCycle(edges);
  if (cycle) fail('edges', cycle.join(' -> '), 'the edges form a cycle: a frame would feed its own producer');
  return { name: p.name ?? origin, edges, converters, origin };
}

function parseSize(text: string, field: string, fail: (field: string, value: unknown, why: string) => never): [number, number] {
  const m = /^(\d{1,9})x(\d{1,9})$/.exec(text.trim());
  if (!m) return fail(field, text, 'expected WIDTHxHEIGHT, e.g. 1920x1080');
  return [Number(m[1]), Number(m[2])];
}

/** A cycle of devices through the edges (producer -> consumer), as the device names in order, or undefined. */
function findCycle(edges: readonly EdgeSpec[]): string[] | undefined {
  const next = new Map<string, Set<string>>();
  for (const e of edges) for (const t of e.to) (next.get(e.from) ?? next.set(e.from, new Set()).get(e.from)!).add(t);
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (d: string): string[] | undefined => {
    if (state.get(d) === 'open') return [...path.slice(path.indexOf(d)), d];
    if (state.get(d) === 'done') return undefined;
    state.set(d, 'open');
    path.push(d);
    for (const n of next.get(d) ?? []) {
      const found = visit(n);
      if (found) return found;
    }
    path.pop();
    state.set(d, 'done');
    return undefined;
  };
  for (const d of next.keys()) {
    const found = visit(d);
    if (found) return found;
  }
  return undefined;
}
