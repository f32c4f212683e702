// Reaching a D-Bus bus with Unix fd passing, through dbus-next (the maintained pure-JS D-Bus
// library) and usocket (its socket with SCM_RIGHTS). dbus-next quietly falls back to a plain
// socket without fd passing when usocket cannot load: that is checked here, so a service or
// client never runs without the one thing it needs.

import type * as DBusNext from 'dbus-next';
import { InputError } from '../errors.js';

export type Bus = DBusNext.MessageBus;
export type DBusMessage = DBusNext.Message;
export type DBusVariant = DBusNext.Variant;

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
    if (!address) throw new InputError('the session bus: DBUS_SESSION_BUS_ADDRESS is not set (give the address, e.g. --service unix:path=/run/user/1000/bus)', 'bus', where);
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

/** Connects (the Hello call done, the unique name known) with Unix fd passing, or throws why not. */
export async function connectBus(where: string | undefined): Promise<Bus> {
  const address = busAddressOf(where);
  // A CommonJS module: its exports object is the default export.
  dbus ??= ((await import('dbus-next')) as unknown as { default: typeof DBusNext }).default;
  if (!address.startsWith('unix:')) throw new InputError(`bus address ${address}: fds pass only over Unix sockets (unix:path=... or unix:abstract=...)`, 'bus', address);
  const bus = dbus.sessionBus({ busAddress: address, negotiateUnixFd: true } as DBusNext.SessionBusOptions);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: unknown) => {
      bus.disconnect();
      reject(new Error(`cannot reach the D-Bus bus at ${address}: ${err instanceof Error ? err.message : String(err)}`));
    };
    bus.once('error', onError);
    bus.once('connect', () => {
      bus.off('error', onError);
      resolve();
    });
  });
  if (busSocket(bus)?.supportsUnixFd !== true) {
    bus.disconnect();
    throw new Error(`connected to ${address}, but without Unix fd passing: the usocket module (a dependency, built at install with node-gyp) did not load; reinstall udalloc with a compiler present`);
  }
  return bus;
}
