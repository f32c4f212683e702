// Recording: what the allocator serves becomes a trace that replays to the same heap use.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPlatform } from '../../src/constraints/load.js';
import { openSync } from '../../src/allocator/allocator.js';
import { TraceRecorder } from '../../src/sim/record.js';
import { parseTrace } from '../../src/sim/trace.js';
import { replay } from '../../src/sim/replay.js';

const board = loadPlatform('boards/example.yaml');

describe('recording', () => {
  it('the library records one alloc per buffer set and its free when the last buffer closes; the trace replays to the same peak', () => {
    const recorder = new TraceRecorder();
    const dev = openSync({ platform: board, backend: 'sim', record: recorder });
    const a = dev.allocateSync(dev.negotiate({ width: 1920, height: 1080, formats: ['NV12'], devices: ['camera', 'display'], count: 3 }));
    const peak = dev.stats().heaps.find((h) => h.heap.describe().name === 'linux,cma')!.used;
    a[1]!.close();
    const b = dev.allocateSync(dev.negotiate({ width: 640, height: 480, formats: ['NV12'], devices: ['camera'] }));
    a.forEach((x) => x.close());
    b.forEach((x) => x.close());
    // The set of three is one allocation (one heap, as allocate() took it); it is freed when its last buffer is.
    assert.deepStrictEqual(recorder.events.map((e) => `${e.op} ${e.id}${e.op === 'alloc' ? ` x${e.request.count}` : ''}`), ['alloc b0 x3', 'alloc b1 x1', 'free b0', 'free b1']);
    const trace = parseTrace(recorder.toJSONL(), board, 'recorded');
    const cma = replay(board, trace).heaps.find((h) => h.name === 'linux,cma')!;
    assert.strictEqual(cma.peakUsed, peak);
  });

  it('keeps how each device uses the buffer', () => {
    const recorder = new TraceRecorder();
    const dev = openSync({ platform: board, backend: 'sim', record: recorder, leakCheck: false });
    dev.allocateSync(dev.negotiate({ width: 64, height: 64, formats: ['NV12'], devices: ['decoder:write', 'gpu:read'] }))[0]!.close();
    const alloc = recorder.events[0]!;
    assert.deepStrictEqual(alloc.op === 'alloc' && alloc.request.devices, ['decoder:write', 'gpu:read']);
    const trace = parseTrace(recorder.toJSONL(), board, 'recorded');
    const first = trace.events[0]!;
    assert.deepStrictEqual(first.op === 'alloc' && [...first.request.access], [['decoder', 'write'], ['gpu', 'read']]);
  });
});
