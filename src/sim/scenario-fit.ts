// Scenarios name their devices by role (camera, display, gpu, encoder, decoder); a board names them
// by block (isi, vop-big, mali, hantro). When a scenario's devices are missing, this finds the
// platform devices to put in each role, and proposes only a parameter set that was tried: the
// scenario generates with it, loads on the platform, and every distinct request in it negotiates
// (or fails only for a pool's size, which is what sizing is for).

import { InputError } from '../errors.js';
import { accessCovers, DEVICE_ACCESS, type Device, type DeviceAccess, type Platform } from '../constraints/model.js';
import { makeRequest } from '../constraints/load.js';
import { negotiate } from '../solver/negotiate.js';
import { prepare } from '../solver/prepared.js';
import { findScenario, generateScenario } from './scenarios.js';
import { traceFromEvents } from './trace.js';

/** Name fragments of the blocks that usually play each role in the shipped scenarios. */
const ROLE_HINTS: Readonly<Record<string, readonly string[]>> = {
  camera: ['camera', 'cam', 'isi', 'csi', 'unicam', 'uvc', 'isp', 'vi'],
  display: ['display', 'vop', 'hvs', 'lcdif', 'dpu', 'dc', 'i915', 'crtc'],
  gpu: ['gpu', 'mali', 'v3d', 'vivante', 'gc', 'etnaviv', 'i915', 'adreno', 'panfrost'],
  encoder: ['encoder', 'enc', 'hantro', 'vpu', 'h264', 'venc', 'codec'],
  decoder: ['decoder', 'dec', 'rkvdec', 'hevc', 'rpivid', 'vpu', 'hantro', 'codec'],
};

/** The parameters of a scenario that name devices: "outputDevices", "devices", "encoder". */
export function deviceParameters(name: string): Array<[string, string]> {
  return Object.entries(findScenario(name).defaults).filter(([k]) => /devices?$/i.test(k) || k === 'encoder');
}

/** Role names used in the defaults, each with the uses it is given ("gpu" -> write and any). */
function roles(params: ReadonlyArray<[string, string]>): Map<string, Set<DeviceAccess | undefined>> {
  const out = new Map<string, Set<DeviceAccess | undefined>>();
  for (const [, value] of params) {
    for (const entry of value.split('+')) {
      const [role, use] = entry.split(':') as [string, string | undefined];
      if (!out.has(role)) out.set(role, new Set());
      out.get(role)!.add((DEVICE_ACCESS as readonly string[]).includes(use ?? '') ? (use as DeviceAccess) : undefined);
    }
  }
  return out;
}

function canUse(device: Device, use: DeviceAccess | undefined): boolean {
  return use === undefined || [...device.formats.values()].some((r) => accessCovers(r.access, use));
}

function hintScore(role: string, device: Device): number {
  const hints = ROLE_HINTS[role] ?? [role];
  const i = hints.findIndex((h) => device.name.toLowerCase().includes(h));
  return i < 0 ? hints.length + 1 : i;
}

/** One device parameter with roles replaced; a device given two roles in it appears once, with any use. */
function substitute(value: string, assignment: ReadonlyMap<string, string>): string {
  const entries = value.split('+').map((e) => {
    const [role, use] = e.split(':') as [string, string | undefined];
    return { device: assignment.get(role)!, use };
  });
  const devices = [...new Set(entries.map((e) => e.device))];
  return devices
    .map((d) => {
      const uses = entries.filter((e) => e.device === d);
      return uses.length === 1 && uses[0]!.use !== undefined ? `${d}:${uses[0]!.use}` : d;
    })
    .join('+');
}

/**
 * Tries role assignments, best first by name hints (a device playing two roles, as an i915 both
 * renders and scans out, counts against it), and returns the first spec that works on the platform.
 */
export interface ScenarioFit {
  /** A spec that loads and negotiates on the platform, if one was found among the plausible ones. */
  readonly spec: string | undefined;
  /** When none was: the assignment that fits the roles best, and why it does not run as it is. */
  readonly closest?: { readonly spec: string; readonly why: string };
}

/**
 * Tries role assignments, best first by name hints; only assignments where every role goes to a
 * device named for it are tried when the board has such devices (a display standing in for an
 * encoder would "work" and mean nothing). Returns the first that works, or the best one and why not.
 */
export function fitScenarioDevices(name: string, platform: Platform, seed = 1, maxTries = 60): ScenarioFit {
  const params = deviceParameters(name);
  const wanted = roles(params);
  const roleNames = [...wanted.keys()];
  const candidates = roleNames.map((role) => platform.devices.filter((d) => [...wanted.get(role)!].every((use) => canUse(d, use))));
  // Every assignment (a handful of roles and devices), scored.
  let assignments: Array<{ map: Map<string, string>; score: number }> = [{ map: new Map(), score: 0 }];
  roleNames.forEach((role, i) => {
    assignments = assignments.flatMap(({ map, score }) =>
      candidates[i]!.map((d) => ({ map: new Map([...map, [role, d.name]]), score: score + hintScore(role, d) + ([...map.values()].includes(d.name) ? 10 : 0) })),
    );
    if (assignments.length > 20000) assignments = assignments.sort((a, b) => a.score - b.score).slice(0, 20000);
  });
  assignments.sort((a, b) => a.score - b.score);
  const hinted = (map: Map<string, string>) => [...map].every(([role, device]) => hintScore(role, platform.devices.find((d) => d.name === device)!) <= (ROLE_HINTS[role] ?? [role]).length);
  const plausible = assignments.filter((a) => hinted(a.map));
  const pool = plausible.length > 0 ? plausible : assignments;
  const specOf = (map: Map<string, string>) => `${name}:${params.map(([k, v]) => `${k}=${substitute(v, map)}`).join(',')}`;
  let closest: { spec: string; why: string } | undefined;
  for (const { map } of pool.slice(0, maxTries)) {
    const spec = specOf(map);
    const why = whyNot(spec, platform, seed);
    if (why === undefined) return { spec };
    closest ??= { spec, why };
  }
  return { spec: undefined, ...(closest ? { closest } : {}) };
}

const MAX_CHECKED_REQUESTS = 24;

/** The spec generates, loads, and each distinct request negotiates or misses only pool capacity. */
/** Why a spec does not run on the platform (its first request that no pool size can serve), or undefined when it does. */
function whyNot(spec: string, platform: Platform, seed: number): string | undefined {
  try {
    const g = generateScenario(spec, seed);
    traceFromEvents(g.events, platform, g.name);
    const seen = new Set<string>();
    const prepared = prepare(platform);
    for (const e of g.events) {
      if (e.op !== 'alloc') continue;
      const key = JSON.stringify(e.request);
      // Generated requests differ mostly in size: the first few of each kind say enough.
      if (seen.has(key) || seen.size >= MAX_CHECKED_REQUESTS) continue;
      seen.add(key);
      const result = negotiate(prepared, makeRequest(platform, e.request));
      if (!result.ok && !result.conflict.fixes.some((f) => f.changes.every((c) => c.target === 'heap' && c.field === 'size'))) {
        const r = e.request;
        return `${r.count ?? 1} x ${r.width}x${r.height} ${(r.formats ?? []).join('|')} for ${(r.devices ?? []).join('+')}: ${result.conflict.fixes[0]?.text ?? result.conflict.hardware[0] ?? 'no plan'}`;
      }
    }
    return undefined;
  } catch (err) {
    if (err instanceof InputError) return err.message.split('\n')[0];
    throw err;
  }
}
