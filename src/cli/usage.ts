// udalloc usage: who holds which dma-buf on this machine (Android has dmabuf_dump; Linux had nothing).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../errors.js';
import { formatBytes } from '../constraints/units.js';
import { scanUsage, type Usage } from '../service/usage.js';
import { onService } from './service-client.js';

const HELP = `usage: udalloc usage [--pid PID] [--json] [--proc ROOT]
       udalloc usage --service [ADDRESS] [--json]

Every dma-buf a process holds, by fd (/proc/<pid>/fdinfo) or mapping (/proc/<pid>/maps), a shared
buffer counted once with all its holders; totals per exporter (heap) and per process, with a
proportional share (a buffer's bytes divided among the processes holding it). Without root it
shows what it may read and says how many processes it could not.

  --pid PID             only the buffers this process holds
  --json                print one JSON object
  --proc ROOT           read ROOT/proc (and ROOT/sys/kernel/debug) instead of this machine's
  --service [ADDRESS]   what a running "udalloc serve" charges you: bytes and quota per heap
                        kind, and your buffers still held (the system bus without ADDRESS)`;

export const usageOptions = { pid: { type: 'string' }, json: { type: 'boolean' }, proc: { type: 'string' }, service: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

function text(u: Usage): string {
  const lines: string[] = [];
  if (u.total.buffers === 0) lines.push('no dma-buf is held by any process udalloc could read');
  else {
    lines.push(`${u.total.buffers} dma-buf(s), ${formatBytes(u.total.bytes)} in all`);
    lines.push('by exporter:');
    for (const e of u.exporters) lines.push(`  ${e.exporter.padEnd(12)} ${String(e.buffers).padStart(5)} buffers  ${formatBytes(e.bytes)}`);
    lines.push('by process (proportional: shared buffers divided among their holders):');
    for (const p of u.processes) lines.push(`  ${String(p.pid).padStart(7)} ${p.comm.padEnd(16)} ${String(p.buffers).padStart(4)} buffers  ${formatBytes(p.bytes).padStart(11)}  proportional ${formatBytes(p.proportional)}`);
    lines.push('buffers, largest first:');
    for (const b of u.buffers) {
      const holders = b.holders.map((h) => `${h.pid} ${h.comm}${h.fds > 0 ? ` (${h.fds} fd${h.fds === 1 ? '' : 's'}${h.mapped ? ', mapped' : ''})` : ' (mapped only)'}`).join('; ');
      lines.push(`  ino ${b.inode}  ${formatBytes(b.size)}  ${b.exporter}${b.name ? `  "${b.name}"` : ''}  held by ${holders}${b.sizeFrom === 'mappings' ? '  (size from its mappings)' : ''}`);
    }
  }
  if (u.unreadable > 0) lines.push(`could not read ${u.unreadable} process(es) (${process.getuid?.() === 0 ? 'permission denied even to root: another namespace or a sandbox' : 'not ours: run as root to see every process'})`);
  return lines.join('\n');
}

export function usageCommand(args: string[]): number | Promise<number> {
  const { values } = parseArgs({ args, options: usageOptions, strict: true, allowPositionals: false });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.service !== undefined) return onService(values.service, 'usage', { json: values.json });
  let pid: number | undefined;
  if (values.pid !== undefined) {
    if (!/^\d+$/.test(values.pid) || !Number.isSafeInteger(Number(values.pid))) throw new InputError(`--pid ${JSON.stringify(values.pid)}: expected a process id`, 'pid', values.pid);
    pid = Number(values.pid);
  }
  const root = values.proc ?? '/';
  if (pid !== undefined && !existsSync(join(root, 'proc', String(pid)))) throw new InputError(`--pid ${pid}: no such process`, 'pid', pid);
  const u = scanUsage(root, pid);
  process.stdout.write(`${values.json ? JSON.stringify(u) : text(u)}\n`);
  return 0;
}
