// Trace files: the format, and a validator that names the line, the field and the value.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPlatform } from '../../src/constraints/load.js';
import { formatTrace, parseTrace, traceFromEvents } from '../../src/sim/trace.js';
import { InputError } from '../../src/errors.js';
import { each } from '../helpers.js';

const board = loadPlatform('boards/example.yaml');
const ok = '{"t":0,"op":"alloc","id":"a","request":{"width":64,"height":64,"formats":["NV12"],"devices":["camera"]}}';

describe('trace format', () => {
  it('round-trips: identical requests share one Request; comments and blank lines are skipped', () => {
    const text = formatTrace([
      { t: 0, op: 'alloc', id: 'a', request: { width: 64, height: 64, formats: ['NV12'], devices: ['camera'] } },
      { t: 1, op: 'alloc', id: 'b', request: { width: 64, height: 64, formats: ['NV12'], devices: ['camera'] } },
      { t: 2, op: 'free', id: 'a' },
    ]);
    const trace = parseTrace(`# recorded by hand\n\n${text}`, board, 'x.jsonl');
    assert.deepStrictEqual(trace.events.map((e) => [e.line, e.op, e.id]), [[3, 'alloc', 'a'], [4, 'alloc', 'b'], [5, 'free', 'a']]);
    const [a, b] = trace.events;
    assert.ok(a?.op === 'alloc' && b?.op === 'alloc' && a.request === b.request);
  });

  each([
    [`${ok}\n{"t":1,"op":"free"`, /^t\.jsonl:2: not valid JSON/],
    [`${ok}\n{"t":1,"op":"resize","id":"a"}`, /^t\.jsonl:2: field op = "resize"/],
    [`${ok}\n{"t":-1,"op":"free","id":"a"}`, /^t\.jsonl:2: field t = -1: must be >= 0/],
    [`{"t":5,"op":"alloc","id":"a","request":{"width":64,"height":64,"formats":["NV12"],"devices":["camera"]}}\n{"t":1,"op":"free","id":"a"}`, /^t\.jsonl:2: field t = 1: time goes backwards \(previous event at 5\)/],
    [`${ok}\n${ok.replace('"t":0', '"t":1')}`, /^t\.jsonl:2: field id = "a": already allocated at line 1 and not freed/],
    [`${ok}\n{"t":1,"op":"free","id":"b"}`, /^t\.jsonl:2: field id = "b": never allocated/],
    [`${ok}\n{"t":1,"op":"free","id":"a"}\n{"t":2,"op":"free","id":"a"}`, /^t\.jsonl:3: field id = "a": already freed/],
    [ok.replace('"camera"', '"camra"'), /^t\.jsonl:1: .*devices\[0\] = "camra".*did you mean camera/],
    [ok.replace('"width":64', '"width":-64'), /^t\.jsonl:1: .*width = -64/],
    [`${ok.slice(0, -1)},"extra":1}`, /^t\.jsonl:1: field .*extra/],
  ], 'rejects %j with a line-numbered error', (text: string, message: RegExp) => {
    assert.throws(() => parseTrace(text, board, 't.jsonl'), (err) => err instanceof InputError && message.test(err.message));
  });

  it('generated events are validated the same way', () => {
    assert.throws(() => traceFromEvents([{ t: 0, op: 'free', id: 'x' }], board, 'gen'), (err) => err instanceof InputError && /^gen:1: field id = "x": never allocated/.test(err.message));
  });
});
