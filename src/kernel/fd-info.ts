// What the kernel says about a dma-buf fd: fstat (size, inode) and /proc/self/fdinfo (exp_name, name).

import { fstatSync, readFileSync } from 'node:fs';
import type { DmaBufInfo } from './backend.js';
import { syscall } from './native/addon.js';

export function dmaBufInfo(fd: number, procRoot = '/proc'): DmaBufInfo {
  const st = syscall('fstat', { fd }, () => fstatSync(fd));
  let exporter = '';
  let name: string | undefined;
  try {
    for (const line of readFileSync(`${procRoot}/self/fdinfo/${fd}`, 'utf8').split('\n')) {
      if (line.startsWith('exp_name:')) exporter = line.slice(9).trim();
      else if (line.startsWith('name:')) name = line.slice(5).trim() || undefined;
    }
  } catch {
    // fdinfo unreadable: leave the exporter unknown
  }
  return { fd, size: st.size, inode: st.ino, exporter, name, physAddr: undefined };
}
