// Allocation traces: JSON Lines, one event per line, as recorded by udalloc or written by a
// scenario generator.
//
//   {"t": 0.000, "op": "alloc", "id": "preview", "request": {"width": 1920, "height": 1080,
//    "formats": ["NV12"], "devices": ["camera", "display"], "count": 4}}
//   {"t": 2.500, "op": "free", "id": "preview"}
//
// `t` is seconds from the start and never decreases; `id` names the buffer set an alloc makes
// (all `count` buffers) until a free of the same id releases it. `request` is a request as in a
// request file. Blank lines and lines starting with # are ignored. The validator names the line,
// the field and the value of the first problem.

import { LIMITS, readInputText } from '../util/input-file.js';
import { z } from 'zod';
import { InputError, showValue } from '../errors.js';
import { makeRequest, type RequestFields } from '../constraints/load.js';
import type { Platform, Request } from '../constraints/model.js';

const eventSchema = z.discriminatedUnion('op', [
  z.strictObject({
    t: z.number().nonnegative('must be >= 0'),
    op: z.literal('alloc'),
    id: z.string().min(1, 'must not be empty').max(64, 'is longer than 64 characters'),
    request: z.record(z.string(), z.unknown()),
  }),
  z.strictObject({
    t: z.number().nonnegative('must be >= 0'),
    op: z.literal('free'),
    id: z.string().min(1, 'must not be empty').max(64, 'is longer than 64 characters'),
  }),
]);

export interface AllocEvent {
  readonly line: number;
  readonly t: number;
  readonly op: 'alloc';
  readonly id: string;
  readonly request: Request;
  /** Identical requests share a key (and a Request object), so plans can be reused. */
  readonly key: string;
}

export interface FreeEvent {
  readonly line: number;
  readonly t: number;
  readonly op: 'free';
  readonly id: string;
}

export type TraceEvent = AllocEvent | FreeEvent;

export interface Trace {
  readonly origin: string;
  readonly events: readonly TraceEvent[];
}

/** What a generator or recorder produces before validation against a platform. */
export type RawEvent = { t: number; op: 'alloc'; id: string; request: RequestFields } | { t: number; op: 'free'; id: string };

function fail(origin: string, line: number, message: string, field?: string, value?: unknown): never {
  throw new InputError(`${origin}:${line}: ${message}`, field, value, `${origin}:${line}`);
}

/** Parses and validates a JSON Lines trace against a platform (device and format names). */
export function parseTrace(text: string, platform: Platform, origin = 'trace'): Trace {
  const lines = text.split('\n');
  const entries: Array<{ line: number; value: unknown }> = [];
  for (let i = 0; i < lines.length; i++) {
    const body = lines[i]!.trim();
    if (body === '' || body.startsWith('#')) continue;
    try {
      entries.push({ line: i + 1, value: JSON.parse(body) });
    } catch (err) {
      fail(origin, i + 1, `not valid JSON: ${(err as Error).message}`);
    }
  }
  return validateEvents(entries, platform, origin);
}

/** Validates generated events (a scenario) exactly as a trace file's; "lines" count events from 1. */
export function traceFromEvents(events: readonly RawEvent[], platform: Platform, origin: string): Trace {
  return validateEvents(events.map((value, i) => ({ line: i + 1, value })), platform, origin);
}

function validateEvents(entries: ReadonlyArray<{ line: number; value: unknown }>, platform: Platform, origin: string): Trace {
  const events: TraceEvent[] = [];
  const requests = new Map<string, Request>();
  const live = new Map<string, number>();
  const freed = new Set<string>();
  let lastT = 0;
  for (const { line: lineNo, value: json } of entries) {
    const parsed = eventSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.') || 'op';
      const value = issue.path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined), json);
      fail(origin, lineNo, `field ${field} = ${showValue(value)}: ${issue.message}`, field, value);
    }
    const e = parsed.data;
    if (e.t < lastT) fail(origin, lineNo, `field t = ${e.t}: time goes backwards (previous event at ${lastT})`, 't', e.t);
    lastT = e.t;
    if (e.op === 'alloc') {
      if (live.has(e.id)) fail(origin, lineNo, `field id = ${showValue(e.id)}: already allocated at line ${live.get(e.id)} and not freed`, 'id', e.id);
      const key = JSON.stringify(e.request);
      let request = requests.get(key);
      if (!request) {
        try {
          request = makeRequest(platform, e.request as RequestFields);
        } catch (err) {
          if (err instanceof InputError) fail(origin, lineNo, err.message.replace(/^request(:\d+)?: /, ''), `request.${err.field ?? ''}`, err.value);
          throw err;
        }
        requests.set(key, request);
      }
      live.set(e.id, lineNo);
      freed.delete(e.id);
      events.push({ line: lineNo, t: e.t, op: 'alloc', id: e.id, request, key });
    } else {
      if (!live.has(e.id)) fail(origin, lineNo, `field id = ${showValue(e.id)}: ${freed.has(e.id) ? 'already freed' : 'never allocated'}`, 'id', e.id);
      live.delete(e.id);
      freed.add(e.id);
      events.push({ line: lineNo, t: e.t, op: 'free', id: e.id });
    }
  }
  return { origin, events };
}

export function loadTrace(file: string, platform: Platform): Trace {
  return parseTrace(readInputText(file, { what: 'trace', field: 'trace', maxBytes: LIMITS.trace }), platform, file);
}

/** One JSON object per line, as parseTrace() reads it. */
export function formatTrace(events: readonly RawEvent[]): string {
  return events.map((e) => JSON.stringify(e)).join('\n') + (events.length > 0 ? '\n' : '');
}
