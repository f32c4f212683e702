// Conflict explanation on the shipped boards, as the CLI, the allocator and the service explain
// one: every fix applied, negotiated again and allocated on the simulated kernel, its sentence
// read. Reported as a multiple of a successful cold negotiation of the same devices on the same
// board (a size they can share), measured in the same run. No bar: issue 16's bar is the
// no-common-layout case in peer-fold/; these are the conflicts README shows.

import { loadPlatform, makeRequest, type RequestFields } from '../src/constraints/load.js';
import type { Request } from '../src/constraints/model.js';
import { allocatesOnEmptyHeaps } from '../src/kernel/sim/fix-check.js';
import { negotiate } from '../src/solver/negotiate.js';
import { prepare, type PreparedPlatform } from '../src/solver/prepared.js';
import { timePerCall as time } from './stats.js';

interface ConflictCase {
  readonly name: string;
  readonly board: string;
  readonly conflict: RequestFields;
  /** The same devices asking for what they can share. */
  readonly success: RequestFields;
}

const CASES: readonly ConflictCase[] = [
  {
    name: 'example: camera+display, 40 x 3840x2160 NV12 (pool too small)',
    board: 'boards/example.yaml',
    conflict: { devices: ['camera', 'display'], width: 3840, height: 2160, formats: ['NV12'], count: 40 },
    success: { devices: ['camera', 'display'], width: 3840, height: 2160, formats: ['NV12'], count: 4 },
  },
  {
    name: 'raspberry-pi-4: isp -> h264-enc at 3840x2160 (encoder limit)',
    board: 'boards/raspberry-pi-4.yaml',
    conflict: { devices: ['isp:write', 'h264-enc:read'], width: 3840, height: 2160, formats: ['NV12'] },
    success: { devices: ['isp:write', 'h264-enc:read'], width: 1920, height: 1080, formats: ['NV12'] },
  },
];



function explain(platform: PreparedPlatform, request: Request): number {
  const result = negotiate(platform, request, { memo: false, check: allocatesOnEmptyHeaps });
  if (result.ok) throw new Error('expected a conflict');
  for (const fix of result.conflict.fixes) void fix.text;
  return result.conflict.fixes.length;
}

export function conflictsBench(): void {
  const rows = CASES.map((c) => {
    const board = loadPlatform(c.board);
    const platform = prepare(board);
    const conflict = makeRequest(board, c.conflict);
    const success = makeRequest(board, c.success);
    if (!negotiate(platform, success, { memo: false }).ok) throw new Error(`${c.name}: the success request does not plan`);
    const fixes = explain(platform, conflict);
    const explained = time(() => explain(platform, conflict), 200);
    const planned = time(() => negotiate(platform, success, { memo: false }), 20_000);
    return { case: c.name, fixes, 'explained us': +(explained / 1000).toFixed(1), 'success us': +(planned / 1000).toFixed(3), 'conflict / success': +(explained / planned).toFixed(0) };
  });
  console.log('conflicts on the shipped boards, fixes checked on the simulated kernel and read, medians of 7 loops');
  console.table(rows);
}
