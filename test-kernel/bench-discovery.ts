// Runs inside the QEMU guest (npm run bench:kernel): live discovery of the V4L2 and DRM devices
// (describeV4l2 + describeDrm: every ioctl, the format mapping, the pitch rules, the notes) as a
// ratio to the bare ioctl walk it needs: the same native calls, recorded once from a real
// discovery and replayed in a loop with no analysis. Same process, interleaved. Bar: <= 1.5x.

import { closeSync, constants, openSync } from 'node:fs';
import { loadDrmNative, loadNative, type DrmAddon, type NativeAddon } from '../src/kernel/native/addon.js';
import { describeDrm } from '../src/platform/drm.js';
import { describeV4l2 } from '../src/platform/v4l2.js';

const native = loadNative();
const drm = loadDrmNative();
const NODES = ['/dev/video0', '/dev/video1'];
const CARD = '/dev/dri/card0';
const ROUNDS = 15;

type Call = [string, unknown[]];

/** An addon that records every call (name, arguments) it passes on. */
function recording<T extends object>(addon: T, calls: Call[]): T {
  const out: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(addon)) {
    const value = (addon as Record<string, unknown>)[key];
    out[key] = typeof value !== 'function' ? value : (...args: unknown[]) => {
      calls.push([key, args]);
      return (value as (...a: unknown[]) => unknown)(...args);
    };
  }
  return out as T;
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

function discover(v4l2: NativeAddon, kms: DrmAddon): void {
  for (const node of NODES) describeV4l2(node, v4l2);
  describeDrm(CARD, kms);
}

// The walk a discovery makes, per device: its calls with the fd replaced at replay time.
const walks: Array<{ node: string; flags: number; calls: Call[]; on: 'v4l2' | 'drm' }> = [];
for (const node of NODES) {
  const calls: Call[] = [];
  describeV4l2(node, recording(native, calls));
  walks.push({ node, flags: constants.O_RDWR | constants.O_NONBLOCK, calls, on: 'v4l2' });
}
{
  const calls: Call[] = [];
  describeDrm(CARD, recording(drm, calls));
  walks.push({ node: CARD, flags: constants.O_RDWR, calls, on: 'drm' });
}

function bareWalk(): void {
  for (const w of walks) {
    const fd = openSync(w.node, w.flags);
    const addon = (w.on === 'v4l2' ? native : drm) as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const [name, args] of w.calls) {
      try {
        addon[name]!(...(name === 'v4l2Constants' ? [] : [fd, ...args.slice(1)]));
      } catch {
        // the same refusals the discovery met
      }
    }
    closeSync(fd);
  }
}

const lib: number[] = [];
const bare: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  let t = performance.now();
  bareWalk();
  bare.push(performance.now() - t);
  t = performance.now();
  discover(native, drm);
  lib.push(performance.now() - t);
}
const ratio = median(lib) / median(bare);
const rows = [{ devices: NODES.length + 1, ioctls: walks.reduce((n, w) => n + w.calls.length, 0), 'bare walk ms': +median(bare).toFixed(2), 'discovery ms': +median(lib).toFixed(2), ratio: +ratio.toFixed(3), bar: ratio <= 1.5 ? 'PASS' : 'FAIL' }];
console.table(rows);
console.log(`UDALLOC-BENCH-DISCOVERY ${JSON.stringify(rows)}`);
