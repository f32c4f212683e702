// Usage scan benchmark (issue 15, part 6): `scanUsage` over this machine's /proc, as a ratio to
// the least any fd-based reader must do: list every process's fdinfo directory and read every
// fdinfo file. Bar: <= 1.5x. Rounds interleave the two so a noisy neighbour hits both alike; the
// medians of 31 rounds are compared. The maps files are timed alone as well, because they are
// where the difference comes from: the kernel formats every mapping of every process
// (fs/proc/task_mmu.c show_map_vma()) and only /proc/<pid>/maps shows a buffer whose fd was closed
// after mmap.

import { readdirSync, readFileSync } from 'node:fs';
import { scanUsage } from '../src/service/usage.js';
import { median } from './stats.js';

const ROUNDS = 31;

function pids(): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p));
}

/** The baseline: every fdinfo file of every process, read and dropped. */
function readEveryFdinfo(list: string[]): number {
  let bytes = 0;
  for (const p of list) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${p}/fdinfo`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        bytes += readFileSync(`/proc/${p}/fdinfo/${fd}`).length;
      } catch {
        // closed meanwhile
      }
    }
  }
  return bytes;
}

function readEveryMaps(list: string[]): number {
  let bytes = 0;
  for (const p of list) {
    try {
      bytes += readFileSync(`/proc/${p}/maps`).length;
    } catch {
      // exited, or another user's
    }
  }
  return bytes;
}


function time(fn: () => unknown): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

export function usageBench(): void {
  const list = pids();
  const fdinfo: number[] = [];
  const maps: number[] = [];
  const scan: number[] = [];
  scanUsage('/');
  for (let i = 0; i < ROUNDS; i++) {
    fdinfo.push(time(() => readEveryFdinfo(list)));
    scan.push(time(() => scanUsage('/')));
    maps.push(time(() => readEveryMaps(list)));
  }
  const base = median(fdinfo);
  const ratio = median(scan) / base;
  console.log(`usage scan over ${list.length} processes (${readEveryMaps(list)} bytes of maps), medians of ${ROUNDS} interleaved rounds`);
  console.table([
    { what: 'read every fdinfo (baseline)', ms: +base.toFixed(3), ratio: 1 },
    { what: 'read every maps file', ms: +median(maps).toFixed(3), ratio: +(median(maps) / base).toFixed(3) },
    { what: 'scanUsage', ms: +median(scan).toFixed(3), ratio: +ratio.toFixed(3) },
  ]);
  console.log(`bar: usage scan <= 1.5x reading fdinfo alone: ${ratio.toFixed(3)}x ${ratio <= 1.5 ? 'PASS' : 'FAIL'}`);
}
