// Untrusted input, mutated at random: profiles, requests and traces either load or fail with an
// InputError that names a field — never another exception, a hang or a half-built object.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { loadPlatform, makeRequest, parsePlatform, type RequestFields } from '../../src/constraints/load.js';
import { InputError } from '../../src/errors.js';
import { negotiate } from '../../src/solver/negotiate.js';
import { parseTrace } from '../../src/sim/trace.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value inside a parsed document. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function withValueAt(doc: Json, path: readonly (string | number)[], replacement: Json | undefined): Json {
  if (path.length === 0) return replacement ?? null;
  const copy = structuredClone(doc) as Record<string | number, Json>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as unknown as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (replacement === undefined) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else node[last] = replacement;
  return copy;
}

/** Values that break schemas in interesting ways: wrong types, huge and odd numbers, hex, units. */
const nasty: fc.Arbitrary<Json | undefined> = fc.oneof(
  fc.constant(undefined), // delete the field
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(0, -1, -0, 2 ** 53, 2 ** 64, 1e308, 0.5, 4095, 4097, '', ' ', '0x', '0xfffffffffffffffff', '1 TiB', '99999999PiB', 'LINEAR', 'NV12', 'camera:write', 'display:read', ':write', 'readwrite', [], {}, [[]]),
  fc.double() as fc.Arbitrary<Json>,
);

function expectInputErrorOrValue(run: () => unknown): 'ok' | 'input-error' {
  try {
    run();
    return 'ok';
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    assert.ok(err.message.length > 0 && !err.message.includes('undefined is not'), err.message);
    return 'input-error';
  }
}

const exampleText = readFileSync('boards/example.yaml', 'utf8');
const example = parse(exampleText) as Json;
const examplePaths = paths(example);
const board = loadPlatform('boards/example.yaml');

describe('fuzzing untrusted input', () => {
  it('profiles with up to three fields replaced, deleted or mistyped load or give an InputError', () => {
    const outcomes = { ok: 0, 'input-error': 0 };
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(examplePaths.length - 1), nasty), { minLength: 1, maxLength: 3 }), (edits) => {
        let doc = example;
        for (const [i, value] of edits) {
          const path = examplePaths[i]!;
          try {
            doc = withValueAt(doc, path, value);
          } catch {
            // an earlier edit removed the path's parent: skip this edit
          }
        }
        // YAML text (not JSON) so that NaN, Infinity and -0 reach the loader as they would from a file.
        const outcome = expectInputErrorOrValue(() => {
          const platform = parsePlatform(stringify(doc), 'fuzz.yaml');
          // Whatever loads must also negotiate without crashing.
          const device = platform.devices[0]!;
          negotiate(platform, makeRequest(platform, { width: 640, height: 480, formats: [...device.formats.keys()].slice(0, 1), devices: [device.name] }));
        });
        outcomes[outcome]++;
      }),
      { numRuns: 600, seed: 5 },
    );
    assert.ok(outcomes.ok > 20 && outcomes['input-error'] > 20, JSON.stringify(outcomes));
  });

  it('requests with random field values are planned or rejected with an InputError', () => {
    // Mostly valid values, so that both outcomes are common: each field goes bad one time in eight.
    const field = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 7, arbitrary: arb as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: nasty as fc.Arbitrary<unknown> });
    const requestArb = fc.record({
      width: field(fc.integer({ min: 1, max: 8192 })),
      height: field(fc.integer({ min: 1, max: 8192 })),
      formats: field(fc.uniqueArray(fc.constantFrom('NV12', 'NV12', 'XRGB8888', 'ARGB8888', 'NV13', 'DRM_FORMAT_YUYV'), { minLength: 1, maxLength: 3 })),
      devices: field(fc.uniqueArray(fc.constantFrom('camera', 'display', 'display:read', 'gpu', 'gpu:write', 'gpu:read', 'decoder:write', 'encoder', 'display:scanout', 'camera:stream', 'nobody'), { minLength: 1, maxLength: 3 })),
      cpu: field(fc.constantFrom('none', 'read', 'write', 'readwrite', 'all')),
      protected: field(fc.boolean()),
      count: field(fc.integer({ min: 1, max: 8 })),
    });
    const outcomes = { ok: 0, 'input-error': 0 };
    fc.assert(
      fc.property(requestArb, (fields) => {
        outcomes[expectInputErrorOrValue(() => negotiate(board, makeRequest(board, fields as unknown as RequestFields)))]++;
      }),
      { numRuns: 600, seed: 6 },
    );
    assert.ok(outcomes.ok > 20 && outcomes['input-error'] > 20, JSON.stringify(outcomes));
  });

  it('traces with random lines parse or give an InputError naming the line', () => {
    // Good lines are an alloc of a new id or a free of the last live one (written when the trace is
    // put together); the rest is random JSON, text, or events with nasty fields. Mostly good lines,
    // so that whole traces parse often enough to be checked too.
    const alloc = (t: number, id: string) => `{"t":${t},"op":"alloc","id":"${id}","request":{"width":64,"height":64,"formats":["NV12"],"devices":["camera:write","display:read"]}}`;
    const lineArb = fc.oneof(
      { weight: 24, arbitrary: fc.constantFrom('alloc', 'free') },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: fc.string() },
      { weight: 1, arbitrary: fc.record({ t: nasty, op: fc.constantFrom('alloc', 'free', 'realloc'), id: nasty, request: nasty }).map((v) => JSON.stringify(v)) },
    );
    const outcomes = { events: 0, empty: 0, 'input-error': 0 };
    fc.assert(
      fc.property(fc.array(lineArb, { minLength: 1, maxLength: 6 }), (choices) => {
        const live: string[] = [];
        const expected: string[] = [];
        const lines = choices.map((c, t) => {
          if (c === 'alloc' || (c === 'free' && live.length === 0)) {
            live.push(`a${t}`);
            expected.push('alloc');
            return alloc(t, `a${t}`);
          }
          if (c === 'free') {
            expected.push('free');
            return `{"t":${t},"op":"free","id":"${live.pop()!}"}`;
          }
          return c;
        });
        try {
          const trace = parseTrace(lines.join('\n'), board, 'fuzz.jsonl');
          // What parses holds the good lines' events, in order (other lines that parse are blank or comments).
          assert.deepStrictEqual(trace.events.map((e) => e.op), expected);
          outcomes[trace.events.length > 0 ? 'events' : 'empty']++;
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          assert.match(err.message, /fuzz\.jsonl/);
          outcomes['input-error']++;
        }
      }),
      { numRuns: 600, seed: 7 },
    );
    assert.ok(outcomes.events > 200 && outcomes['input-error'] > 100, JSON.stringify(outcomes));
  });
});
