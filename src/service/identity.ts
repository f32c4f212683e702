// Who is calling: the bus daemon's word (GetConnectionCredentials: the uid and pid it read from the
// socket's SO_PEERCRED when the client connected, and the groups), never anything the client says.
// User and group names come from /etc/passwd and /etc/group, for the policy's names.

import { readText } from '../util/fs.js';
import { dbus, type Bus, type DBusMessage } from './bus.js';
import type { Client } from './policy.js';

export interface Caller extends Client {
  /** The caller's unique bus name (":1.42"): one connection, never reused while the bus runs. */
  readonly connection: string;
  readonly pid: number | undefined;
}

interface Account {
  readonly users: Map<number, { name: string; gid: number }>;
  readonly groups: Map<number, { name: string; members: string[] }>;
}

/** /etc/passwd and /etc/group (name:x:id:... lines); a missing file is an empty table. */
export function readAccounts(root = '/'): Account {
  const users = new Map<number, { name: string; gid: number }>();
  for (const line of (readText(`${root}etc/passwd`) ?? '').split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name && uid !== undefined && /^\d+$/.test(uid)) users.set(Number(uid), { name, gid: Number(gid) });
  }
  const groups = new Map<number, { name: string; members: string[] }>();
  for (const line of (readText(`${root}etc/group`) ?? '').split('\n')) {
    const [name, , gid, members] = line.split(':');
    if (name && gid !== undefined && /^\d+$/.test(gid)) groups.set(Number(gid), { name, members: members ? members.split(',').filter(Boolean) : [] });
  }
  return { users, groups };
}

/** The caller's user name and group names from its uid (and the gids the bus reported, if any). */
export function clientOf(uid: number, gids: readonly number[] | undefined, accounts: Account): Client {
  const user = accounts.users.get(uid);
  const name = user?.name ?? String(uid);
  const ids = new Set<number>(gids ?? []);
  if (gids === undefined) {
    if (user) ids.add(user.gid);
    for (const [gid, g] of accounts.groups) if (g.members.includes(name)) ids.add(gid);
  }
  const groups = [...ids].map((gid) => accounts.groups.get(gid)?.name ?? String(gid));
  return { uid, user: name, groups };
}

/** Asks the bus daemon who owns `connection`; undefined when it no longer exists. */
export async function callerOf(bus: Bus, connection: string, accounts: Account): Promise<Caller | undefined> {
  let reply: DBusMessage | null;
  try {
    reply = await bus.call(new dbus.Message({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'GetConnectionCredentials', signature: 's', body: [connection] }));
  } catch {
    return undefined;
  }
  const creds = (reply?.body[0] ?? {}) as Record<string, { value: unknown }>;
  const uid = creds['UnixUserID']?.value;
  if (typeof uid !== 'number') return undefined;
  const pid = creds['ProcessID']?.value;
  const gids = creds['UnixGroupIDs']?.value;
  return { ...clientOf(uid, Array.isArray(gids) ? (gids as number[]) : undefined, accounts), connection, pid: typeof pid === 'number' ? pid : undefined };
}
