// CONFIG_CMA_ALIGNMENT of the running kernel: the largest order a CMA buffer is aligned to. Read from
// the kernel's own configuration when it publishes one (/proc/config.gz with CONFIG_IKCONFIG_PROC,
// or /boot/config-<release> as distributions install it); else the Kconfig default, 8 (1 MiB).

import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CMA_ALIGNMENT } from '../constraints/heap-kinds/index.js';
import { readText } from '../util/fs.js';

export function cmaAlignmentOf(root = '/'): { order: number; source: string } {
  const release = readText(join(root, 'proc/sys/kernel/osrelease'))?.trim();
  const candidates: Array<[string, () => string]> = [
    [join(root, 'proc/config.gz'), () => gunzipSync(readFileSync(join(root, 'proc/config.gz'))).toString('utf8')],
    ...(release ? [[join(root, `boot/config-${release}`), () => readFileSync(join(root, `boot/config-${release}`), 'utf8')] as [string, () => string]] : []),
  ];
  for (const [path, read] of candidates) {
    let text: string;
    try {
      text = read();
    } catch {
      continue;
    }
    const m = /^CONFIG_CMA_ALIGNMENT=(\d+)$/m.exec(text);
    if (m) return { order: Number(m[1]), source: path };
  }
  return { order: DEFAULT_CMA_ALIGNMENT, source: `the Kconfig default (no CONFIG_CMA_ALIGNMENT in ${candidates.map((c) => c[0]).join(' or ') || '/proc/config.gz'})` };
}
