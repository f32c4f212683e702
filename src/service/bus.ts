// Reaching a D-Bus bus with Unix fd passing, through dbus-next (the maintained pure-JS D-Bus
// library) and usocket (its socket with SCM_RIGHTS). dbus-next quietly falls back to a plain
// socket without fd passing when usocket cannot load: that is checked here, so a service or
// client never runs without the one thing it needs.

import type * as DBusNext from 'dbus-next';
import { InputError } from '../errors.js';

export type Bus = DBusNext.MessageBus;
export type DBusMessage = DBusNext.Message;
export type DBusVariant = DBusNext.Variant;

const WAITERS = Symbol('udalloc reply waiters');

/**
 * The dbus-next module, loaded by the first connectBus() (programs that never use the service do
 * not pay for loading it); everything that sends or reads messages runs after a connection.
 */
export let dbus: typeof DBusNext;

/** The system bus's address (the D-Bus specification's default, or DBUS_SYSTEM_BUS_ADDRESS). */
export function systemBusAddress(): string {
  return process.env['DBUS_SYSTEM_BUS_ADDRESS'] ?? 'unix:path=/var/run/dbus/system_bus_socket';
}

/** 'system', 'session', or a D-Bus address such as "unix:path=/run/udalloc-test/bus". */
export function busAddressOf(where: string | undefined): string {
  if (where === undefined || where === 'system') return systemBusAddress();
  if (where === 'session') {
    const address = process.env['DBUS_SESSION_BUS_ADDRESS'];
    if (!address) throw new InputError('the session bus: DBUS_SESSION_BUS_ADDRESS is not set (give the bus address instead, e.g. unix:path=/run/user/1000/bus)', 'bus', where);
    return address;
  }
  if (!/^(unix|tcp|unixexec):/.test(where)) throw new InputError(`bus address ${JSON.stringify(where)}: expected "system", "session" or a D-Bus address such as unix:path=/run/dbus/system_bus_socket`, 'bus', where);
  return where;
}

interface StreamInternals {
  _connection?: { stream?: NodeJS.EventEmitter & { supportsUnixFd?: boolean } };
}

/** The bus connection's socket (dbus-next keeps it private; the service needs its fd events). */
export function busSocket(bus: Bus): (NodeJS.EventEmitter & { supportsUnixFd?: boolean; writableLength?: number }) | undefined {
  return (bus as unknown as StreamInternals)._connection?.stream;
}

interface USocketInternals {
  _wrap: { write(data: Buffer | undefined, fds: number[] | undefined): number | Error; drain: (() => void) | null; fds: number[] } | null;
  read(size?: number, fdSize?: number | null): Buffer | { data: Buffer; fds: number[] } | null;
  _write(chunk: { data?: Buffer; fds?: number[] }, encoding: string, callback: (err?: Error) => void): void;
}

/**
 * usocket 1.1.0 loses a message's fds when the socket is full: its native write sends the fds with
 * the first sendmsg, but when that first sendmsg gets EAGAIN (0 bytes sent) the JS side retries with
 * the data alone, and the bus daemon, seeing a message without the fds its header counts, drops the
 * connection (a flooding client made the service's socket fill up and lose its bus). This
 * _write keeps the fds for the retry until some bytes went out with them.
 */
function keepFdsOnRetry(socket: USocketInternals): void {
  socket._write = function write(this: USocketInternals, chunk, encoding, callback) {
    if (!this._wrap) return callback(new Error('USocket not connected'));
    const { data, fds } = Buffer.isBuffer(chunk) ? { data: chunk as Buffer, fds: undefined } : chunk;
    const sent = this._wrap.write(data, fds);
    if (sent instanceof Error) return callback(sent);
    if (!data || sent === data.length) return callback();
    const rest = { data: data.subarray(sent), fds: sent === 0 ? fds : undefined };
    this._wrap.drain = () => this._write(rest, encoding, callback);
  };
}

/** Native socket wraps of closed connections, kept until libuv has finished closing their handles. */
const closingWraps = new Set<object>();

/**
 * usocket's close calls uv_close() on a poll handle embedded in its native object and drops the JS
 * reference at once; if the garbage collector frees the object before libuv's closing phase runs,
 * libuv touches freed memory (seen as "uv__finish_close: Assertion ... UV_HANDLE_CLOSED" aborts in
 * a process that opens and closes many connections). The wrap is kept a while after the close.
 */
function keepWrapUntilClosed(socket: USocketInternals & NodeJS.EventEmitter): void {
  const wrap = socket._wrap;
  if (!wrap) return;
  closingWraps.add(wrap);
  const release = () => setTimeout(() => closingWraps.delete(wrap), 1000).unref();
  socket.once('close', release);
  socket.once('error', release);
}

/** The UNIX_FDS header field (code 9, type u) of a message's header fields, or 0. */
function unixFdsOf(fields: Buffer, length: number, littleEndian: boolean): number {
  const align = (n: number, to: number) => Math.ceil(n / to) * to;
  const u32 = (at: number) => (littleEndian ? fields.readUInt32LE(at) : fields.readUInt32BE(at));
  let pos = 0;
  while (pos < length) {
    pos = align(pos, 8);
    const code = fields[pos]!;
    const sigLength = fields[pos + 1]!;
    const sig = fields.toString('latin1', pos + 2, pos + 2 + sigLength);
    pos += 3 + sigLength;
    if (sig === 'u') {
      pos = align(pos, 4);
      if (code === 9) return u32(pos);
      pos += 4;
    } else if (sig === 's' || sig === 'o') {
      pos = align(pos, 4);
      pos += 4 + u32(pos) + 1;
    } else if (sig === 'g') {
      pos += 1 + fields[pos]! + 1;
    } else return 0;
  }
  return 0;
}

/**
 * dbus-next reads each message's fields and body with read(size, null), which with usocket takes
 * every fd received so far: when the kernel delivers several messages in one recvmsg, the first
 * takes the fds of all and the next, finding none, throws "No FDs available" from the socket's
 * event handler (the process dies). Each message gets the count its UNIX_FDS header field says.
 */
function giveEachMessageItsFds(socket: USocketInternals): void {
  const read = socket.read.bind(socket);
  let header: Buffer | undefined;
  socket.read = (size?: number, fdSize?: number | null) => {
    if (fdSize !== null) {
      const chunk = read(size, fdSize);
      if (size === 16 && Buffer.isBuffer(chunk)) header = chunk;
      return chunk;
    }
    const data = read(size);
    if (!Buffer.isBuffer(data) || !header || !socket._wrap) return data;
    const littleEndian = header[0] === 0x6c;
    const fieldsLength = littleEndian ? header.readUInt32LE(12) : header.readUInt32BE(12);
    const count = unixFdsOf(data, fieldsLength, littleEndian);
    return { data, fds: socket._wrap.fds.splice(0, count) };
  };
}

const CONNECT_TIMEOUT_MS = 10_000;

/** A socket error as a sentence (usocket's messages carry its source file and line). */
function socketProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = /^(E[A-Z]+)\b/.exec(message)?.[1] ?? (err as { code?: string }).code;
  if (code === 'ENOENT') return 'no bus listens there (no such socket): is dbus-daemon running, and is the address right?';
  if (code === 'ECONNREFUSED') return 'connection refused: the socket exists but no bus daemon accepts on it';
  if (code === 'EACCES') return 'permission denied on the socket';
  return message;
}

/**
 * Connects (the Hello call done, the unique name known) with Unix fd passing, or throws why not.
 * With `waitMs`, a bus whose socket is not there yet (a daemon started at the same moment) is
 * tried again every 100 ms until then.
 */
export async function connectBus(where: string | undefined, options: { readonly waitMs?: number } = {}): Promise<Bus> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (;;) {
    try {
      return await connectOnce(where);
    } catch (err) {
      if ((err as { notYet?: boolean }).notYet !== true || Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function connectOnce(where: string | undefined): Promise<Bus> {
  const address = busAddressOf(where);
  // A CommonJS module: its exports object is the default export.
  dbus ??= ((await import('dbus-next')) as unknown as { default: typeof DBusNext }).default;
  if (!address.startsWith('unix:')) throw new InputError(`bus address ${address}: fds pass only over Unix sockets (unix:path=... or unix:abstract=...)`, 'bus', address);
  const bus = dbus.sessionBus({ busAddress: address, negotiateUnixFd: true } as DBusNext.SessionBusOptions);
  await new Promise<void>((resolve, reject) => {
    const stream = busSocket(bus);
    const fail = (why: string, notYet = false) => {
      clearTimeout(timer);
      bus.disconnect();
      reject(Object.assign(new Error(`cannot reach the D-Bus bus at ${address}: ${why}`), { notYet }));
    };
    // No socket yet, or no daemon accepting on it yet: worth another try when waiting.
    const onError = (err: unknown) => fail(socketProblem(err), /^(ENOENT|ECONNREFUSED)\b/.test(err instanceof Error ? err.message : '') || ['ENOENT', 'ECONNREFUSED'].includes((err as { code?: string }).code ?? ''));
    // A daemon that refuses the authentication closes the socket without a word.
    const onClose = () => fail('the bus closed the connection during authentication (is this user allowed on it?)');
    // A daemon that takes the connection and never answers usually has a policy that drops the
    // replies (dbus-daemon logs "Rejected receive message"): say so.
    const timer = setTimeout(() => fail(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s: if a bus daemon listens there, its policy may drop the replies (its configuration needs <allow receive_type="method_return"/>; README's private-bus recipe has it)`), CONNECT_TIMEOUT_MS);
    bus.once('error', onError);
    stream?.once('close', onClose);
    stream?.once('end', onClose);
    bus.once('connect', () => {
      clearTimeout(timer);
      bus.off('error', onError);
      stream?.off('close', onClose);
      stream?.off('end', onClose);
      resolve();
    });
  });
  const socket = busSocket(bus);
  if (socket?.supportsUnixFd === true) {
    keepFdsOnRetry(socket as unknown as USocketInternals);
    keepWrapUntilClosed(socket as unknown as USocketInternals & NodeJS.EventEmitter);
    giveEachMessageItsFds(socket as unknown as USocketInternals);
  }
  if (socket?.supportsUnixFd !== true) {
    bus.disconnect();
    throw new Error(`connected to ${address}, but without Unix fd passing: the usocket module (a dependency, built at install with node-gyp) did not load; reinstall udalloc with a compiler present`);
  }
  return bus;
}

/**
 * Sends a reply carrying fds and resolves once the socket wrote it (the sendmsg that carried the
 * fds is done): only then may the service close its copies. dbus-next writes each message as one
 * { data, fds } chunk and takes no callback, so the socket's write is wrapped once per bus to pass
 * one for the chunks the service waits on, recognised by their fds array.
 */
export function sendWithFds(bus: Bus, reply: DBusMessage, fds: readonly number[]): Promise<void> {
  const socket = busSocket(bus) as (NodeJS.EventEmitter & { write: (chunk: unknown, cb?: (err?: Error | null) => void) => boolean; [WAITERS]?: Map<number, () => void> }) | undefined;
  if (!socket || fds.length === 0) {
    bus.send(reply);
    return Promise.resolve();
  }
  let waiters = socket[WAITERS];
  if (!waiters) {
    const table = new Map<number, () => void>();
    waiters = table;
    socket[WAITERS] = table;
    const write = socket.write.bind(socket);
    socket.write = (chunk: unknown, cb?: (err?: Error | null) => void) => {
      const first = (chunk as { fds?: number[] } | null)?.fds?.[0];
      const done = first === undefined ? undefined : table.get(first);
      if (!done) return write(chunk, cb);
      table.delete(first!);
      return write(chunk, (err) => {
        done();
        cb?.(err);
      });
    };
  }
  return new Promise((resolve) => {
    // An fd number is this message's alone until the service closes it (after this resolves).
    waiters.set(fds[0]!, resolve);
    bus.send(reply);
  });
}


