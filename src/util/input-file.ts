// Reading files a user names (profiles, requests, traces, device trees): only regular files, never
// more than a stated limit, text checked to be text. A device file (/dev/zero, /dev/urandom), a FIFO
// or a directory is refused before anything is read, so no input can exhaust memory or hang.

import { closeSync, fstatSync, openSync, readSync, constants, type Stats } from 'node:fs';
import { InputError } from '../errors.js';

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** What an open() error means, for people. */
const OPEN_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
};

/** "-": standard input, read to its end, within the limit (a pipe, or a file redirected in). */
function readStdin(o: InputFileOptions): Uint8Array {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(65536);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      // A non-blocking descriptor with nothing yet: wait a moment and read again.
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      if ((err as NodeJS.ErrnoException).code === 'EOF') break;
      throw new InputError(`cannot read ${o.what} from standard input: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, o.field, '-');
    }
    if (n === 0) break;
    total += n;
    if (total > o.maxBytes) throw new InputError(`${o.what} on standard input is more than the ${bytes(o.maxBytes)} a ${o.what} may have`, o.field, '-');
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function bytes(n: number): string {
  return n >= 2 ** 20 && n % 2 ** 20 === 0 ? `${n / 2 ** 20} MiB` : `${n} bytes`;
}

export interface InputFileOptions {
  /** What the file is, for messages: "platform profile", "trace", "device tree blob". */
  readonly what: string;
  /** Flag or field that named it, for the error's field. */
  readonly field: string;
  /** Largest size accepted, in bytes. */
  readonly maxBytes: number;
}

/**
 * Opens a regular file without blocking (a FIFO would block open() until a writer appears) and
 * returns its fd and size; every failure is one InputError line naming the file.
 */
function openRegular(file: string, o: InputFileOptions): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const why = OPEN_ERRORS[code];
    throw new InputError(`cannot read ${o.what} ${file}: ${why ? `${why} (${code})` : code}; expected a ${o.what} file`, o.field, file);
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new InputError(`${o.what} ${file} is ${kindOf(st)}, expected a regular file`, o.field, file);
  }
  if (st.size > o.maxBytes) {
    closeSync(fd);
    throw new InputError(`${o.what} ${file} is ${st.size} bytes, more than the ${bytes(o.maxBytes)} a ${o.what} may have`, o.field, file);
  }
  return { fd, size: st.size };
}

/** Reads up to `length` bytes at `position`; fewer when the file is shorter (it may shrink while read). */
function readAt(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** The whole file, as bytes, within the limit; "-" is standard input. */
export function readInputBytes(file: string, o: InputFileOptions): Uint8Array {
  if (file === '-') return readStdin(o);
  const { fd, size } = openRegular(file, o);
  try {
    return new Uint8Array(readAt(fd, size, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * The first `headerBytes`, then the rest up to the length the header gives (a device tree blob
 * states its total size in its header: nothing past what it says is read).
 */
export function readInputWithHeader(file: string, o: InputFileOptions, headerBytes: number, totalFrom: (header: Uint8Array) => number): Uint8Array {
  const { fd, size } = openRegular(file, o);
  try {
    const header = new Uint8Array(readAt(fd, Math.min(headerBytes, size), 0));
    const total = totalFrom(header);
    if (total > size) throw new InputError(`${o.what} ${file}: its header says ${total} bytes, the file has ${size}`, o.field, file);
    return new Uint8Array(readAt(fd, total, 0));
  } finally {
    closeSync(fd);
  }
}

/** The whole file as UTF-8 text; binary data (NUL bytes, invalid UTF-8) is refused by name. */
export function readInputText(file: string, o: InputFileOptions): string {
  const data = Buffer.from(readInputBytes(file, o));
  const nul = data.indexOf(0);
  if (nul >= 0) throw new InputError(`${o.what} ${file} is not a text file (a NUL byte at offset ${nul}); expected YAML, JSON or JSON Lines`, o.field, file);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw new InputError(`${o.what} ${file} is not a text file (it is not valid UTF-8); expected YAML, JSON or JSON Lines`, o.field, file);
  }
}

/** Limits: generous for real inputs, small enough that none can exhaust the machine. */
export const LIMITS = {
  profile: 4 * 2 ** 20,
  request: 1 * 2 ** 20,
  trace: 512 * 2 ** 20,
  dtb: 16 * 2 ** 20,
} as const;
