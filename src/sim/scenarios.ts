// Workload generators for the use cases that decide pool sizes on real devices. Each is seeded,
// so a run repeats exactly, and takes parameters (name=value) with sensible defaults. Device names
// default to the example board's; pass others to match your platform.

import { InputError } from '../errors.js';
import type { RequestFields } from '../constraints/load.js';
import { seededRandom } from '../util/random.js';
import type { RawEvent } from './trace.js';

type Params = Record<string, string>;

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  readonly defaults: Readonly<Params>;
  generate(params: Params, random: () => number): RawEvent[];
}

/** Collects timed events and returns them in time order (ties keep insertion order). */
class Timeline {
  readonly #events: Array<{ e: RawEvent; seq: number }> = [];
  #seq = 0;
  #ids = 0;

  alloc(t: number, request: RequestFields, prefix: string): string {
    const id = `${prefix}${this.#ids++}`;
    this.#events.push({ e: { t: round(t), op: 'alloc', id, request }, seq: this.#seq++ });
    return id;
  }

  free(t: number, id: string): void {
    this.#events.push({ e: { t: round(t), op: 'free', id }, seq: this.#seq++ });
  }

  events(): RawEvent[] {
    return this.#events.sort((a, b) => a.e.t - b.e.t || a.seq - b.seq).map((x) => x.e);
  }
}

const round = (t: number) => Math.round(t * 1e6) / 1e6;

function size(params: Params, key: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(params[key] ?? '');
  if (!m) throw new InputError(`scenario parameter ${key}=${JSON.stringify(params[key])}: expected WIDTHxHEIGHT`, key, params[key]);
  return { width: Number(m[1]), height: Number(m[2]) };
}

function int(params: Params, key: string, min = 0, max = 1e7): number {
  const v = Number(params[key]);
  if (!Number.isInteger(v) || v < min || v > max) throw new InputError(`scenario parameter ${key}=${JSON.stringify(params[key])}: expected a whole number from ${min} to ${max}`, key, params[key]);
  return v;
}

function devices(params: Params, key: string): string[] {
  return (params[key] ?? '').split('+').filter(Boolean);
}

/** H.264 MaxDpbMbs by level (ITU-T H.264 Table A-1). */
const H264_MAX_DPB_MBS: Record<string, number> = { '3': 8100, '3.1': 18000, '3.2': 20480, '4': 32768, '4.1': 32768, '4.2': 34816, '5': 110400, '5.1': 184320, '5.2': 184320 };
/** HEVC MaxLumaPs by level (ITU-T H.265 Table A.8); maxDpbPicBuf is 6. */
const HEVC_MAX_LUMA_PS: Record<string, number> = { '3': 552960, '3.1': 983040, '4': 2228224, '4.1': 2228224, '5': 8912896, '5.1': 8912896, '5.2': 8912896 };

/** Decoded picture buffer size for a stream, as the codec level allows. */
export function dpbFrames(codec: string, level: string, width: number, height: number): number {
  if (codec === 'h264') {
    const maxMbs = H264_MAX_DPB_MBS[level];
    if (maxMbs === undefined) throw new InputError(`scenario parameter level=${level}: unknown H.264 level (${Object.keys(H264_MAX_DPB_MBS).join(', ')})`, 'level', level);
    return Math.max(1, Math.min(16, Math.floor(maxMbs / (Math.ceil(width / 16) * Math.ceil(height / 16)))));
  }
  if (codec === 'hevc') {
    const maxPs = HEVC_MAX_LUMA_PS[level];
    if (maxPs === undefined) throw new InputError(`scenario parameter level=${level}: unknown HEVC level (${Object.keys(HEVC_MAX_LUMA_PS).join(', ')})`, 'level', level);
    const ps = width * height;
    if (ps > maxPs) throw new InputError(`scenario: ${width}x${height} exceeds HEVC level ${level}`, 'level', level);
    return ps <= maxPs >> 2 ? 16 : ps <= maxPs >> 1 ? 12 : ps <= (maxPs * 3) >> 2 ? 8 : 6;
  }
  throw new InputError(`scenario parameter codec=${codec}: expected h264 or hevc`, 'codec', codec);
}

/** Frames of the scenario's `format` parameter (a format name udalloc knows; the request loader checks it). */
const frames = (p: Params, s: { width: number; height: number }, devs: string[], count: number, extra: Partial<RequestFields> = {}): RequestFields => ({ ...s, formats: [p['format'] ?? 'NV12'], devices: devs, count, ...extra });

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'camera-record',
    summary: 'one camera: its preview ring always on; recording sessions one after another (a camera records one stream at a time), each with its own ring and two encoder reference frames; occasional snapshots',
    defaults: { preview: '1920x1080', record: '3840x2160', format: 'NV12', previewBuffers: '4', recordBuffers: '6', seconds: '600', sessions: '20', snapshots: '30', previewDevices: 'camera:write+display:read', recordDevices: 'camera:write+encoder:read', encoder: 'encoder' },
    generate(p, random) {
      const tl = new Timeline();
      const seconds = int(p, 'seconds', 1);
      const sessions = int(p, 'sessions');
      const preview = tl.alloc(0, frames(p, size(p, 'preview'), devices(p, 'previewDevices'), int(p, 'previewBuffers', 1, 64)), 'preview');
      // Sessions are sequential: each takes part of its own slot of the run, so that no two overlap.
      const slot = sessions > 0 ? seconds / sessions : seconds;
      for (let i = 0; i < sessions; i++) {
        const start = i * slot + random() * slot * 0.1;
        const end = start + slot * (0.2 + random() * 0.7);
        const ring = tl.alloc(start, frames(p, size(p, 'record'), devices(p, 'recordDevices'), int(p, 'recordBuffers', 1, 64)), 'record');
        const refs = tl.alloc(start, frames(p, size(p, 'record'), devices(p, 'encoder'), 2), 'encref');
        tl.free(end, ring);
        tl.free(end, refs);
      }
      for (let i = 0; i < int(p, 'snapshots'); i++) {
        const t = random() * seconds;
        const still = tl.alloc(t, frames(p, size(p, 'record'), devices(p, 'recordDevices'), 1, { cpu: 'read' }), 'still');
        tl.free(t + 0.2 + random(), still);
      }
      tl.free(seconds, preview);
      return tl.events();
    },
  },
  {
    name: 'video-decode',
    summary: 'clips of various resolutions decoded to the display: DPB frames by codec level plus display buffers, allocated per clip',
    defaults: { codec: 'h264', level: '5.1', sizes: '1920x1080+3840x2160+1280x720', format: 'NV12', displayBuffers: '3', clips: '50', devices: 'decoder:write+display:read' },
    generate(p, random) {
      const tl = new Timeline();
      const sizes = (p['sizes'] ?? '').split('+').map((text) => size({ sizes: text }, 'sizes'));
      let t = 0;
      for (let i = 0; i < int(p, 'clips', 1); i++) {
        const s = sizes[Math.floor(random() * sizes.length)]!;
        const count = dpbFrames(p['codec'] ?? '', p['level'] ?? '', s.width, s.height) + int(p, 'displayBuffers', 0, 16);
        const id = tl.alloc(t, frames(p, s, devices(p, 'devices'), count), 'clip');
        t += 1 + random() * 30;
        tl.free(t, id);
      }
      return tl.events();
    },
  },
  {
    name: 'compositor',
    summary: 'triple-buffered outputs; client windows (mean lifetime windowSeconds) come and go, some scanned out directly (contiguous), most composited (GPU only)',
    defaults: { output: '1920x1080', format: 'XRGB8888', outputs: '1', windows: '500', windowSeconds: '180', scanoutShare: '20', outputDevices: 'gpu:write+display:read', clientDevices: 'gpu', seconds: '3600' },
    generate(p, random) {
      const tl = new Timeline();
      const seconds = int(p, 'seconds', 1);
      const out = size(p, 'output');
      const outputs = Array.from({ length: int(p, 'outputs', 1, 8) }, () => tl.alloc(0, frames(p, out, devices(p, 'outputDevices'), 3), 'output'));
      for (let i = 0; i < int(p, 'windows'); i++) {
        const start = random() * seconds;
        const w = 64 * (1 + Math.floor(random() * (out.width / 64)));
        const h = 64 * (1 + Math.floor(random() * (out.height / 64)));
        const scanout = random() * 100 < int(p, 'scanoutShare', 0, 100);
        const id = tl.alloc(start, frames(p, { width: w, height: h }, devices(p, scanout ? 'outputDevices' : 'clientDevices'), 2 + Math.floor(random() * 2)), scanout ? 'scanout' : 'window');
        // Lifetimes uniform in [0, 2 x windowSeconds]: windowSeconds is the mean.
        tl.free(Math.min(seconds, start + random() * 2 * int(p, 'windowSeconds', 1)), id);
      }
      outputs.forEach((id) => tl.free(seconds, id));
      return tl.events();
    },
  },
  {
    name: 'photo-burst',
    summary: 'a preview ring, then bursts of full-resolution stills captured at a frame rate and freed once encoded',
    defaults: { preview: '1920x1080', still: '4000x3000', format: 'NV12', bursts: '10', burstLength: '20', fps: '10', encodeSeconds: '0.4', previewDevices: 'camera:write+display:read', stillDevices: 'camera:write+encoder:read' },
    generate(p, random) {
      const tl = new Timeline();
      const preview = tl.alloc(0, frames(p, size(p, 'preview'), devices(p, 'previewDevices'), 4), 'preview');
      const fps = int(p, 'fps', 1, 1000);
      const encode = Number(p['encodeSeconds']);
      if (!(encode > 0 && encode < 3600)) throw new InputError(`scenario parameter encodeSeconds=${JSON.stringify(p['encodeSeconds'])}: expected seconds between 0 and 3600`, 'encodeSeconds', p['encodeSeconds']);
      let t = 1;
      let end = t;
      for (let b = 0; b < int(p, 'bursts', 1); b++) {
        const n = int(p, 'burstLength', 1, 1000);
        for (let i = 0; i < n; i++) {
          const shot = t + i / fps;
          const id = tl.alloc(shot, frames(p, size(p, 'still'), devices(p, 'stillDevices'), 1), 'still');
          // Encoding is serial: each still waits for the previous one.
          end = Math.max(end, shot) + encode * (0.8 + 0.4 * random());
          tl.free(end, id);
        }
        t = end + 5 + random() * 20;
      }
      tl.free(t, preview);
      return tl.events();
    },
  },
];

export function findScenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new InputError(`scenario ${JSON.stringify(name)}: unknown (scenarios: ${SCENARIOS.map((x) => x.name).join(', ')})`, 'scenario', name);
  return s;
}

/** "camera-record" or "camera-record:seconds=60,sessions=5" -> events. */
export function generateScenario(spec: string, seed = 1): { name: string; events: RawEvent[] } {
  // Split at the first colon only: parameter values hold device entries such as "camera:write".
  const colon = spec.indexOf(':');
  const name = colon < 0 ? spec : spec.slice(0, colon);
  const paramText = colon < 0 ? undefined : spec.slice(colon + 1);
  const scenario = findScenario(name);
  const params: Params = { ...scenario.defaults };
  for (const pair of (paramText ?? '').split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    const [k, v] = eq < 0 ? [pair, undefined] : [pair.slice(0, eq), pair.slice(eq + 1)];
    if (k === undefined || v === undefined || !(k in scenario.defaults)) {
      throw new InputError(`scenario ${name}: parameter ${JSON.stringify(pair)} is not one of ${Object.keys(scenario.defaults).join(', ')} (write name=value)`, 'scenario', pair);
    }
    params[k] = v;
  }
  return { name: `${name} (seed ${seed})`, events: scenario.generate(params, seededRandom(seed)) };
}
