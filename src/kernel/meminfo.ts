// /proc/meminfo, as the kernel backends (the system heap's size, CMA's) and discovery read it.

import { join } from 'node:path';
import { readText } from '../util/fs.js';

/** /proc/meminfo fields in bytes (the file says kB), under `root` ('/' on a live system). */
export function meminfo(root: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (readText(join(root, 'proc/meminfo')) ?? '').split('\n')) {
    const m = /^(\w+):\s+(\d+)\s*kB/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * 1024;
  }
  return out;
}
