// Scenario generators: seeded, valid against the example board, codec DPB sizes from the standards.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPlatform, parsePlatform } from '../../src/constraints/load.js';
import { dpbFrames, generateScenario, SCENARIOS } from '../../src/sim/scenarios.js';
import { traceFromEvents } from '../../src/sim/trace.js';
import { replay } from '../../src/sim/replay.js';
import { InputError } from '../../src/errors.js';
import { each } from '../helpers.js';

const board = loadPlatform('boards/example.yaml');

describe('scenarios', () => {
  for (const s of SCENARIOS) {
    it(`${s.name}: repeats for a seed, differs across seeds, and replays on the example board without failure`, () => {
      const a = generateScenario(s.name, 3).events;
      assert.deepStrictEqual(generateScenario(s.name, 3).events, a);
      assert.notDeepStrictEqual(generateScenario(s.name, 4).events, a);
      const trace = traceFromEvents(a, board, s.name);
      assert.ok(trace.events.length > 10);
      const r = replay(board, trace);
      assert.deepStrictEqual(r.failures, []);
      assert.ok(r.heaps.some((h) => h.allocations > 0));
    });
  }

  each([
    ['h264', '4.1', 1920, 1080, 4], // 32768 / (120 x 68) MBs
    ['h264', '5.1', 1920, 1080, 16], // 22, capped at 16
    ['h264', '5.1', 3840, 2160, 5], // 184320 / (240 x 135)
    ['hevc', '5.1', 3840, 2160, 6], // above 3/4 of MaxLumaPs
    ['hevc', '5.1', 1920, 1080, 16], // at most MaxLumaPs / 4
    ['hevc', '4.1', 1920, 1080, 6],
  ], 'DPB of %s level %s at %dx%d is %d frames', (codec: string, level: string, w: number, h: number, frames: number) => {
    assert.strictEqual(dpbFrames(codec, level, w, h), frames);
  });

  // A board that lays frames out tightly (no alignment rules, one unbounded system heap), so that
  // peak live bytes can be worked out by hand: NV12 is 1.5 bytes a pixel, YUYV 2, XRGB8888 4.
  const plain = parsePlatform(
    [
      'heaps:',
      '  - { name: system, kind: system, size: 64GiB }',
      'devices:',
      ...['camera', 'display', 'encoder', 'decoder', 'gpu'].map((d) => `  - { name: ${d}, iommu: true, formats: { NV12: {}, YUYV: {}, XRGB8888: {} } }`),
    ].join('\n'),
    'plain.yaml',
  );
  const peak = (spec: string) => replay(plain, traceFromEvents(generateScenario(spec, 1).events, plain, spec)).heaps.find((h) => h.name === 'system')!.peakLive;
  const nv12 = (w: number, h: number) => w * h * 1.5;

  each([
    // One camera records one stream at a time: the preview ring, one recording ring and two reference frames.
    ['camera-record:snapshots=0', 4 * nv12(1920, 1080) + (6 + 2) * nv12(3840, 2160)],
    ['camera-record:snapshots=0,sessions=1', 4 * nv12(1920, 1080) + (6 + 2) * nv12(3840, 2160)],
    ['camera-record:snapshots=0,format=YUYV', 4 * 1920 * 1080 * 2 + 8 * 3840 * 2160 * 2],
    // Clips one after another: the largest is 4K, H.264 level 5.1: 5 DPB frames + 3 display buffers.
    ['video-decode', (5 + 3) * nv12(3840, 2160)],
    ['video-decode:sizes=1920x1080,clips=5', (16 + 3) * nv12(1920, 1080)],
    // Triple-buffered output only.
    ['compositor:windows=0', 3 * 1920 * 1080 * 4],
    // Each still encoded before the next is shot: the preview ring and one still.
    ['photo-burst:fps=1,encodeSeconds=0.5', 4 * nv12(1920, 1080) + nv12(4000, 3000)],
  ], 'the peak of %s is worked out by hand: %d bytes', (spec: string, bytes: number) => {
    assert.strictEqual(peak(spec), bytes);
  });

  it('parameters override defaults; unknown ones are named', () => {
    const few = generateScenario('video-decode:clips=3', 1).events;
    assert.strictEqual(few.filter((e) => e.op === 'alloc').length, 3);
    assert.throws(() => generateScenario('video-decode:clip=3'), (err) => err instanceof InputError && /parameter "clip=3" is not one of codec, level/.test(err.message));
    assert.throws(() => generateScenario('video-decode:level=9'), (err) => err instanceof InputError && /unknown H\.264 level/.test(err.message));
    assert.throws(() => generateScenario('vidoe-decode'), (err) => err instanceof InputError && /scenarios: camera-record, video-decode/.test(err.message));
  });

  it('device parameters keep how each device uses the buffer (values contain colons)', () => {
    const events = generateScenario('compositor:outputDevices=gpu:write+display:read,clientDevices=gpu:readwrite,windows=5', 1).events;
    const devices = new Set(events.flatMap((e) => (e.op === 'alloc' ? [(e.request.devices as string[]).join('+')] : [])));
    assert.deepStrictEqual([...devices].sort(), ['gpu:readwrite', 'gpu:write+display:read']);
    const trace = traceFromEvents(events, board, 'compositor');
    assert.strictEqual(replay(board, trace).failures.length, 0);
  });
});
