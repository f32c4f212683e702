// What the kernel says about a dma-buf fd: fstat (size, inode) and /proc/self/fdinfo (exp_name, name).

import { fstatSync, readFileSync } from 'node:fs';
import type { DmaBufInfo } from './backend.js';
import { syscall } from './native/addon.js';

/**
 * The "key:<tab>value" lines of a /proc/<pid>/fdinfo/<fd> file, values trimmed (fs/proc/fd.c
 * seq_show() writes pos, flags, mnt_id and ino; a dma-buf's dma_buf_show_fdinfo() in
 * drivers/dma-buf/dma-buf.c adds size, count, exp_name and name). A repeated key keeps its first value.
 */
export function fdinfoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !fields.has(line.slice(0, colon))) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

export function dmaBufInfo(fd: number, procRoot = '/proc'): DmaBufInfo {
  const st = syscall('fstat', { fd }, () => fstatSync(fd));
  let exporter = '';
  let name: string | undefined;
  try {
    const fields = fdinfoFields(readFileSync(`${procRoot}/self/fdinfo/${fd}`, 'utf8'));
    exporter = fields.get('exp_name') ?? '';
    name = fields.get('name') || undefined;
  } catch {
    // fdinfo unreadable: leave the exporter unknown
  }
  return { fd, size: st.size, inode: st.ino, exporter, name, physAddr: undefined };
}
