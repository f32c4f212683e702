// What the service handed out and to whom. A grant stays charged to the client that asked for it
// while any process holds the buffer (open or mapped, by device and inode: never by what a client
// says), including processes the client passed it to. Charges are kept as an upper bound between
// scans (every grant not yet seen released counts) and made exact by a scan of /proc whenever a
// decision depends on them: a refusal is never based on a buffer that is already gone.
//
// Between an admission decision and the grants it leads to (the reply is built and sent after an
// await), the decision's bytes are a pending reservation: charged at once, so that a decision for a
// call that runs meanwhile counts them, then turned into the grants, or released if the call fails.

import type { HeapKind } from '../constraints/model.js';
import type { Caller } from './identity.js';
import { fileKey, type FileId } from './usage.js';

export interface Grant {
  readonly file: FileId;
  readonly key: string;
  readonly kind: HeapKind;
  /** The heap's handle number (as ListHeaps shows it). */
  readonly heap: number;
  readonly size: number;
  readonly caller: Caller;
  /**
   * When the reply carrying the fd left the service (undefined before). Between that moment and
   * the client's recvmsg the fd sits in a socket queue where /proc cannot see it: a grant is not
   * judged released until `graceMs` after it was sent, unless its client is gone.
   */
  sentAt: number | undefined;
  /**
   * It has left the socket queues (a scan saw a process hold it): no grace is needed any more, a
   * scan alone decides.
   */
  landed: boolean;
  /** Frees what the service kept for the buffer (the simulated kernel's buffer); called once. */
  readonly release: () => void;
}

/** Bytes charged to a caller for buffers allocated but not yet granted (see reserve()). */
export interface Reservation {
  readonly caller: Caller;
  readonly kind: HeapKind;
  readonly bytes: number;
  /** Ends the reservation (its grants were added, or the call failed); once. */
  end(): void;
}

/** Which of the wanted files (fileKey) some process other than the service holds. */
export type HolderScan = (wanted: ReadonlySet<string>) => ReadonlyMap<string, readonly number[]>;

export class Ledger {
  /** The grace in ms (see Grant.sentAt). */
  readonly graceMs: number;
  readonly #grants = new Map<string, Grant>();
  /** Bytes per "uid:kind", kept as grants come and go (an admission decision reads one number). */
  readonly #charged = new Map<string, number>();
  /** Connections the bus said are gone: their grants need no grace. */
  readonly #gone = new Set<string>();
  readonly #scan: HolderScan;
  readonly #graceMs: number;
  readonly #now: () => number;
  #pending = 0;
  /** Scans done, for tests and the service's stats. */
  scans = 0;

  constructor(scan: HolderScan, graceMs: number, now: () => number = Date.now) {
    this.#scan = scan;
    this.#graceMs = graceMs;
    this.graceMs = graceMs;
    this.#now = now;
  }

  add(file: FileId, grant: Omit<Grant, 'file' | 'key' | 'sentAt' | 'landed'>): Grant {
    const full: Grant = { ...grant, file, key: fileKey(file), sentAt: undefined, landed: false };
    // The kernel gave this inode number to a new buffer: the one granted before under it is gone.
    const before = this.#grants.get(full.key);
    if (before) {
      this.#grants.delete(before.key);
      this.#count(before, -before.size);
      before.release();
    }
    this.#grants.set(full.key, full);
    this.#count(full, full.size);
    return full;
  }

  get size(): number {
    return this.#grants.size;
  }

  grants(): Grant[] {
    return [...this.#grants.values()];
  }

  /** Bytes charged to the uid in heaps of `kind` (an upper bound until the next refresh). */
  charged(uid: number, kind: HeapKind): number {
    return this.#charged.get(`${uid}:${kind}`) ?? 0;
  }

  /** Adds `bytes` (negative: takes them back) to the charge of a grant's or reservation's caller and kind. */
  #count(g: { readonly caller: Caller; readonly kind: HeapKind }, bytes: number): void {
    const key = `${g.caller.uid}:${g.kind}`;
    const total = (this.#charged.get(key) ?? 0) + bytes;
    if (total === 0) this.#charged.delete(key);
    else this.#charged.set(key, total);
  }

  /** Charges `bytes` to the caller now, for buffers about to be granted; end() takes the charge back. */
  reserve(caller: Caller, kind: HeapKind, bytes: number): Reservation {
    this.#count({ caller, kind }, bytes);
    this.#pending += bytes;
    let ended = false;
    const reservation: Reservation = {
      caller,
      kind,
      bytes,
      end: () => {
        if (ended) return;
        ended = true;
        this.#count(reservation, -bytes);
        this.#pending -= bytes;
      },
    };
    return reservation;
  }

  /** Bytes reserved and not yet granted, over every caller. */
  get pending(): number {
    return this.#pending;
  }

  heldBy(uid: number, kind?: HeapKind): Grant[] {
    return this.grants().filter((g) => g.caller.uid === uid && (kind === undefined || g.kind === kind));
  }

  /** The bus said this connection closed: its grants no process holds are released at the next refresh. */
  connectionGone(connection: string): void {
    if ([...this.#grants.values()].some((g) => g.caller.connection === connection)) this.#gone.add(connection);
  }

  /** Releases grants whose inode the kernel says went (see close-watch.ts); returns them. */
  releaseClosed(keys: readonly string[]): Grant[] {
    const out: Grant[] = [];
    for (const key of keys) {
      const g = this.#grants.get(key);
      if (!g || g.sentAt === undefined) continue;
      this.#grants.delete(key);
      this.#count(g, -g.size);
      g.release();
      out.push(g);
    }
    return out;
  }

  /** Scans /proc and releases every grant no process holds any more; returns them. */
  refresh(): Grant[] {
    if (this.#grants.size === 0) {
      this.#gone.clear();
      return [];
    }
    this.scans++;
    const held = this.#scan(new Set(this.#grants.keys()));
    const now = this.#now();
    const released: Grant[] = [];
    for (const [key, g] of this.#grants) {
      if (held.has(key)) {
        g.landed = true;
        continue;
      }
      const inFlight = g.sentAt === undefined || (!g.landed && now - g.sentAt < this.#graceMs && !this.#gone.has(g.caller.connection));
      if (inFlight) continue;
      this.#grants.delete(key);
      this.#count(g, -g.size);
      g.release();
      released.push(g);
    }
    if (this.#gone.size > 0) {
      const waiting = new Set([...this.#grants.values()].map((g) => g.caller.connection));
      for (const c of this.#gone) if (!waiting.has(c)) this.#gone.delete(c);
    }
    return released;
  }

  /** When the oldest grant still in its grace leaves it (ms since the epoch of `now`), or undefined. */
  graceEnds(): number | undefined {
    let first: number | undefined;
    for (const g of this.#grants.values()) if (g.sentAt !== undefined && !g.landed && (first === undefined || g.sentAt < first)) first = g.sentAt;
    return first === undefined ? undefined : first + this.#graceMs;
  }

  /** Drops a grant whose fd never left the service (the reply failed); the caller frees the buffer. */
  forget(key: string): void {
    const g = this.#grants.get(key);
    if (!g) return;
    this.#grants.delete(key);
    this.#count(g, -g.size);
  }

  /** Releases everything (the service is stopping). */
  releaseAll(): void {
    for (const g of this.#grants.values()) g.release();
    this.#grants.clear();
    this.#charged.clear();
    this.#gone.clear();
  }
}
