// Who holds which dma-buf: every process's dma-buf fds (/proc/<pid>/fd links "/dmabuf:...", then
// their /proc/<pid>/fdinfo: size, exp_name, ino)
// and mappings (/proc/<pid>/maps: the "/dmabuf:<name>" lines, by inode), a shared buffer counted
// once with all its holders; per exporter (heap) and per process (with a proportional share, as
// Pss divides shared pages) and overall. Unprivileged it reads what it may and says how much it
// could not. The service's accounting reads the same way (buffers are charged while any process
// of a client holds them, found by inode, never by trusting the client).

import { closeSync, openSync, readdirSync, readlinkSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listDirectory, readText } from '../util/fs.js';
import { fdinfoFields } from '../kernel/fd-info.js';
import { STAND_IN_PREFIX, standInHeap } from './stand-in.js';
import { parseChargeTag } from './charge-tag.js';
import { poolsOf } from '../kernel/dma-heap/names.js';
import type { HeapKind } from '../constraints/model.js';

export interface Holder {
  readonly pid: number;
  readonly comm: string;
  readonly uid: number | undefined;
  /** Open fds on the buffer. */
  readonly fds: number;
  /** Whether the process has it mapped. */
  readonly mapped: boolean;
}

export interface BufferUsage {
  readonly inode: number;
  readonly size: number;
  /** The exporter: the heap's name ("system", "reserved"...), or the driver. */
  readonly exporter: string;
  readonly name: string | undefined;
  readonly holders: readonly Holder[];
  /** Where the size came from: an fdinfo, debugfs bufinfo, the span of the mappings, or fstat (a service's memfd stand-in). */
  readonly sizeFrom: 'fdinfo' | 'bufinfo' | 'mappings' | 'stat';
}

export interface ProcessUsage {
  readonly pid: number;
  readonly comm: string;
  readonly uid: number | undefined;
  readonly buffers: number;
  /** Bytes of every buffer it holds. */
  readonly bytes: number;
  /** Each buffer's bytes divided by the number of processes holding it. */
  readonly proportional: number;
}

export interface Usage {
  readonly buffers: readonly BufferUsage[];
  readonly processes: readonly ProcessUsage[];
  readonly exporters: ReadonlyArray<{ readonly exporter: string; readonly buffers: number; readonly bytes: number }>;
  readonly total: { readonly buffers: number; readonly bytes: number };
  /** Processes whose fdinfo or maps could not be read (not ours, without root). */
  readonly unreadable: number;
}

/** One buffer for every /proc file read: a scan reads thousands of small files. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * The file as text only when it contains `marker` (or one of them; searched in the raw bytes: most fdinfo files are
 * not dma-bufs and most processes map none, so most files are never decoded); '' when it does not;
 * undefined when it cannot be read. /proc files have no size to stat: read until the end.
 */
function readIf(path: string, marker: Buffer | readonly Buffer[]): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    let length = 0;
    for (;;) {
      if (length === scratch.length) {
        const bigger = Buffer.allocUnsafe(scratch.length * 2);
        scratch.copy(bigger, 0, 0, length);
        scratch = bigger;
      }
      const n = readSync(fd, scratch, length, scratch.length - length, null);
      if (n === 0) break;
      length += n;
    }
    const bytes = scratch.subarray(0, length);
    const found = Array.isArray(marker) ? marker.some((m) => bytes.indexOf(m) >= 0) : bytes.indexOf(marker as Buffer) >= 0;
    return found ? bytes.toString('utf8') : '';
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

const EXP_NAME = Buffer.from('exp_name:');

const DMABUF_MAP = Buffer.from('/dmabuf:');

/** debugfs dma_buf/bufinfo (root): every buffer's size, exporter and name by inode. */
function bufinfo(root: string): Map<number, { size: number; exporter: string; name: string | undefined }> {
  const out = new Map<number, { size: number; exporter: string; name: string | undefined }>();
  const text = readText(join(root, 'sys/kernel/debug/dma_buf/bufinfo'));
  for (const line of text?.split('\n') ?? []) {
    // drivers/dma-buf/dma-buf.c dma_buf_debug_show(): size, flags, mode, count, exp_name, ino, name
    const m = /^(\d+)\t[0-9a-f]+\t[0-9a-f]+\t\d+\t(\S+)\t(\d+)\t(.*)$/.exec(line);
    if (m) out.set(Number(m[3]), { size: Number(m[1]), exporter: m[2]!, name: m[4] && m[4] !== '<none>' ? m[4] : undefined });
  }
  return out;
}

/** Reads /proc under `root` (default "/"); `pid` limits the report to buffers that process holds. */
export function scanUsage(root = '/', pid?: number): Usage {
  const proc = join(root, 'proc');
  const known = bufinfo(root);
  // Keyed by kind and inode: a dma-buf's inode (dmabuf fs) and a memfd's (shmem) are numbered apart.
  const buffers = new Map<string, { inode: number; size: number; exporter: string; name: string | undefined; sizeFrom: BufferUsage['sizeFrom']; holders: Map<number, Holder>; span: number }>();
  let unreadable = 0;
  for (const entry of listDirectory(proc)) {
    if (!/^\d+$/.test(entry)) continue;
    const p = Number(entry);
    const dir = join(proc, entry);
    const fdDir = join(dir, 'fdinfo');
    let fds: string[];
    try {
      fds = readdirSync(fdDir);
    } catch (err) {
      // EACCES: another user's process (without root); ENOENT: it exited meanwhile.
      if ((err as NodeJS.ErrnoException).code === 'EACCES') unreadable++;
      continue;
    }
    const maps = readIf(join(dir, 'maps'), MAPPED_BUFFER_MARKERS);
    const holds = new Map<string, { fds: number; mapped: boolean }>();
    for (const fd of fds) {
      // The fd's link names a dma-buf "/dmabuf:<name>" (drivers/dma-buf/dma-buf.c dmabuffs_dname()):
      // one readlink spares opening the fdinfo of every other file.
      let link: string;
      try {
        link = readlinkSync(join(dir, 'fd', fd));
      } catch {
        continue;
      }
      let key: string;
      if (link.startsWith(STAND_IN_LINK)) {
        // A buffer a udalloc service on the simulated kernel handed out: a memfd named after its heap.
        let st;
        try {
          st = statSync(join(dir, 'fd', fd));
        } catch {
          continue;
        }
        key = `m${st.ino}`;
        if (!buffers.has(key)) buffers.set(key, { inode: st.ino, size: st.size, exporter: `${standInHeap(link.slice(STAND_IN_LINK.length))} (simulated)`, name: undefined, sizeFrom: 'stat', holders: new Map(), span: 0 });
      } else if (link.startsWith('/dmabuf:')) {
        const text = readIf(join(fdDir, fd), EXP_NAME);
        if (!text) continue;
        const fields = fdinfoFields(text);
        const field = (k: string) => fields.get(k);
        const ino = Number(field('ino'));
        if (!Number.isSafeInteger(ino)) continue;
        const info = known.get(ino);
        key = `d${ino}`;
        if (!buffers.has(key)) buffers.set(key, { inode: ino, size: Number(field('size') ?? info?.size ?? 0), exporter: field('exp_name') ?? info?.exporter ?? '?', name: field('name') || info?.name, sizeFrom: 'fdinfo', holders: new Map(), span: 0 });
      } else continue;
      const h = holds.get(key) ?? { fds: 0, mapped: false };
      h.fds++;
      holds.set(key, h);
    }
    // Most processes map no dma-buf: look for the marker before splitting the file into lines.
    for (const { ino, span, standIn, name: mapped } of bufferMappings(maps)) {
      const key = `${standIn ? 'm' : 'd'}${ino}`;
      const info = standIn ? undefined : known.get(ino);
      const exporter = standIn ? `${standInHeap(mapped.slice(STAND_IN_PREFIX.length))} (simulated)` : (info?.exporter ?? '?');
      const b = buffers.get(key) ?? { inode: ino, size: info?.size ?? 0, exporter, name: standIn ? undefined : (info?.name ?? (mapped || undefined)), sizeFrom: info ? ('bufinfo' as const) : ('mappings' as const), holders: new Map(), span: 0 };
      if (b.sizeFrom === 'mappings') b.span = Math.max(b.span, span);
      buffers.set(key, b);
      const h = holds.get(key) ?? { fds: 0, mapped: false };
      h.mapped = true;
      holds.set(key, h);
    }
    if (holds.size === 0) continue;
    // Who it is, read only for the processes that hold something.
    const comm = (readText(join(dir, 'comm')) ?? '?').trim();
    const uidLine = /^Uid:\s+(\d+)/m.exec(readText(join(dir, 'status')) ?? '');
    const uid = uidLine ? Number(uidLine[1]) : undefined;
    for (const [key, h] of holds) buffers.get(key)!.holders.set(p, { pid: p, comm, uid, fds: h.fds, mapped: h.mapped });
  }
  let list: BufferUsage[] = [...buffers.values()].map((b) => ({ inode: b.inode, size: b.sizeFrom === 'mappings' ? b.span : b.size, exporter: b.exporter, name: b.name, sizeFrom: b.sizeFrom, holders: [...b.holders.values()].sort((x, y) => x.pid - y.pid) }));
  if (pid !== undefined) list = list.filter((b) => b.holders.some((h) => h.pid === pid));
  list.sort((a, b) => b.size - a.size || a.inode - b.inode);

  const processes = new Map<number, { pid: number; comm: string; uid: number | undefined; buffers: number; bytes: number; proportional: number }>();
  for (const b of list) {
    for (const h of b.holders) {
      if (pid !== undefined && h.pid !== pid) continue;
      const p = processes.get(h.pid) ?? { pid: h.pid, comm: h.comm, uid: h.uid, buffers: 0, bytes: 0, proportional: 0 };
      p.buffers++;
      p.bytes += b.size;
      p.proportional += b.size / b.holders.length;
      processes.set(h.pid, p);
    }
  }
  // One pool under two heap names (Linux 6.17's default_cma_region and its legacy name) is one exporter line.
  const pool = new Map(poolsOf(listDirectory(join(root, 'dev/dma_heap'))).flatMap((p) => p.aliases.map((a) => [a, p.name] as const)));
  const exporters = new Map<string, { exporter: string; buffers: number; bytes: number }>();
  for (const b of list) {
    const name = pool.get(b.exporter) ?? b.exporter;
    const e = exporters.get(name) ?? { exporter: name, buffers: 0, bytes: 0 };
    e.buffers++;
    e.bytes += b.size;
    exporters.set(name, e);
  }
  return {
    buffers: list,
    processes: [...processes.values()].map((p) => ({ ...p, proportional: Math.round(p.proportional) })).sort((a, b) => b.bytes - a.bytes || a.pid - b.pid),
    exporters: [...exporters.values()].sort((a, b) => b.bytes - a.bytes),
    total: { buffers: list.length, bytes: list.reduce((s, b) => s + b.size, 0) },
    unreadable,
  };
}

/** A file's identity: device and inode (inode numbers repeat across filesystems). */
export interface FileId {
  readonly dev: number;
  readonly ino: number;
}

export const fileKey = (id: FileId): string => `${id.dev}:${id.ino}`;

/** The kernel's st_dev encoding of major:minor (include/linux/kdev_t.h new_encode_dev). */
function encodeDev(major: number, minor: number): number {
  return (minor & 0xff) + major * 256 + (minor & ~0xff) * 4096;
}

const STAND_IN_LINK = `/memfd:${STAND_IN_PREFIX}`;

/**
 * The lines of a /proc/<pid>/maps text (fs/proc/task_mmu.c: start-end perms offset major:minor
 * inode path) that map a dma-buf ("/dmabuf:<name>", dmabuffs_dname()) or a udalloc service's
 * stand-in memfd ("/memfd:udalloc:<heap> (deleted)"). `name` is what follows "dmabuf:"/"memfd:".
 */
function* bufferMappings(maps: string | undefined): Generator<{ dev: number; ino: number; span: number; standIn: boolean; name: string }> {
  if (!maps) return;
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+\S+\s+\S+\s+([0-9a-f]+):([0-9a-f]+)\s+(\d+)\s+\/(dmabuf|memfd):(.*)$/.exec(line);
    if (!m) continue;
    const standIn = m[6] === 'memfd';
    if (standIn && !m[7]!.startsWith(STAND_IN_PREFIX)) continue;
    yield {
      dev: encodeDev(Number.parseInt(m[3]!, 16), Number.parseInt(m[4]!, 16)),
      ino: Number(m[5]),
      span: Number.parseInt(m[2]!, 16) - Number.parseInt(m[1]!, 16),
      standIn,
      name: m[7]!,
    };
  }
}
const MAPPED_BUFFER_MARKERS = [DMABUF_MAP, Buffer.from(STAND_IN_LINK)];

/** Every process under `proc` (but `skipPid`) whose fd directory can be read: its pid, directory and fds. */
function* processFds(proc: string, skipPid: number | undefined): Generator<{ pid: number; dir: string; fds: string[] }> {
  for (const entry of listDirectory(proc)) {
    if (!/^\d+$/.test(entry) || Number(entry) === skipPid) continue;
    const dir = join(proc, entry);
    try {
      yield { pid: Number(entry), dir, fds: readdirSync(join(dir, 'fd')) };
    } catch {
      // gone meanwhile, or another user's
    }
  }
}

/**
 * Which of the `wanted` files (by fileKey) some process still holds, open or mapped, and which
 * pids; `skipPid` (the service itself) is left out. Open fds are matched by stat of
 * /proc/<pid>/fd/<n> (device and inode: fdinfo has the inode but not the device), mappings by the
 * device and inode columns of /proc/<pid>/maps lines naming a dma-buf or a udalloc memfd.
 */
export function holdersOf(wanted: ReadonlySet<string>, options: { root?: string; skipPid?: number } = {}): Map<string, number[]> {
  const proc = join(options.root ?? '/', 'proc');
  const held = new Map<string, number[]>();
  if (wanted.size === 0) return held;
  const hold = (key: string, pid: number) => {
    const pids = held.get(key);
    if (!pids) held.set(key, [pid]);
    else if (pids[pids.length - 1] !== pid) pids.push(pid);
  };
  for (const { pid, dir, fds } of processFds(proc, options.skipPid)) {
    for (const fd of fds) {
      let st;
      try {
        st = statSync(join(dir, 'fd', fd));
      } catch {
        continue;
      }
      const key = `${st.dev}:${st.ino}`;
      if (wanted.has(key)) hold(key, pid);
    }
    for (const { dev, ino } of bufferMappings(readIf(join(dir, 'maps'), MAPPED_BUFFER_MARKERS))) {
      const key = `${dev}:${ino}`;
      if (wanted.has(key)) hold(key, pid);
    }
  }
  return held;
}

/** A buffer a udalloc service granted, found held by some process, with the charge its name carries. */
export interface TaggedBuffer {
  readonly file: FileId;
  readonly size: number;
  readonly uid: number;
  readonly kind: HeapKind;
  /** The heap, for a stand-in (its memfd names it); undefined for a dma-buf. */
  readonly heap: string | undefined;
  readonly pids: readonly number[];
  /** The holders' uids (/proc/<pid>/status), in the order of pids. */
  readonly uids: ReadonlyArray<number | undefined>;
}

/**
 * Every dma-buf and stand-in memfd some process (other than `skipPid`) holds, open or mapped,
 * whose name carries a charge tag (charge-tag.ts): what a service starting up must charge again.
 * The size is the file's (a dma-buf inode's i_size is the buffer's, dma_buf_getfile()), or the
 * mapping's span for a buffer only mapped.
 */
export function taggedBuffers(options: { root?: string; skipPid?: number } = {}): TaggedBuffer[] {
  const proc = join(options.root ?? '/', 'proc');
  const found = new Map<string, { file: FileId; size: number; uid: number; kind: HeapKind; heap: string | undefined; pids: number[] }>();
  const note = (file: FileId, size: number, name: string, standIn: boolean, pid: number) => {
    const tag = parseChargeTag(name);
    if (!tag) return;
    const key = fileKey(file);
    const b = found.get(key) ?? { file, size, ...tag, heap: standIn ? standInHeap(name.slice(STAND_IN_PREFIX.length)) : undefined, pids: [] };
    b.size = Math.max(b.size, size);
    if (!b.pids.includes(pid)) b.pids.push(pid);
    found.set(key, b);
  };
  for (const { pid, dir, fds } of processFds(proc, options.skipPid)) {
    for (const fd of fds) {
      let link: string;
      let st;
      try {
        link = readlinkSync(join(dir, 'fd', fd));
        if (!link.startsWith('/dmabuf:') && !link.startsWith(STAND_IN_LINK)) continue;
        st = statSync(join(dir, 'fd', fd));
      } catch {
        continue;
      }
      const standIn = link.startsWith(STAND_IN_LINK);
      note({ dev: st.dev, ino: st.ino }, st.size, link.slice(standIn ? '/memfd:'.length : '/dmabuf:'.length), standIn, pid);
    }
    for (const m of bufferMappings(readIf(join(dir, 'maps'), MAPPED_BUFFER_MARKERS))) note({ dev: m.dev, ino: m.ino }, m.span, m.name, m.standIn, pid);
  }
  const uidOf = (pid: number) => {
    const m = /^Uid:\s+(\d+)/m.exec(readText(join(proc, String(pid), 'status')) ?? '');
    return m ? Number(m[1]) : undefined;
  };
  return [...found.values()].map((b) => ({ ...b, uids: b.pids.map(uidOf) }));
}
