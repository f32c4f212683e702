// The service's ledger (charges per uid and heap kind, released when no process holds a buffer,
// never while its fd may still be in a socket queue) and holdersOf (who holds a file, by device and
// inode, through an fd or only a mapping) on real files of this process.

import assert from 'node:assert/strict';
import { closeSync, fstatSync, openSync as openFile, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Ledger, type Grant, type Reservation } from '../../src/service/ledger.js';
import { fileKey, holdersOf } from '../../src/service/usage.js';
import { standInFor } from '../../src/service/stand-in.js';
import { loadNative } from '../../src/kernel/native/addon.js';
import type { Caller } from '../../src/service/identity.js';
import { testDir } from '../helpers.js';

const alice: Caller = { uid: 1000, user: 'alice', groups: ['video'], connection: ':1.7', pid: 70 };
const bob: Caller = { uid: 1001, user: 'bob', groups: [], connection: ':1.8', pid: 80 };

describe('ledger', () => {
  it('charges per uid and kind; releases what no process holds once its grace is over, or at once when its client is gone', () => {
    let now = 1000;
    const held = new Set<string>();
    const released: number[] = [];
    const ledger = new Ledger((wanted) => new Map([...wanted].filter((k) => held.has(k)).map((k) => [k, [1]])), 500, () => now);
    const grant = (ino: number, caller: Caller, size: number) => ledger.add({ dev: 5, ino }, { kind: 'cma', heap: 2, size, caller, release: () => released.push(ino) });
    const a1 = grant(1, alice, 100);
    const a2 = grant(2, alice, 200);
    const b1 = grant(3, bob, 400);
    assert.deepStrictEqual([ledger.charged(1000, 'cma'), ledger.charged(1001, 'cma'), ledger.charged(1000, 'system')], [300, 400, 0]);
    // Not sent yet: never released, whoever holds it.
    assert.strictEqual(ledger.refresh().length, 0);
    for (const g of [a1, a2, b1]) g.sentAt = now;
    held.add(fileKey(a1.file));
    now += 100;
    assert.strictEqual(ledger.refresh().length, 0, 'within the grace an unseen fd may be in a socket queue');
    now += 500;
    assert.strictEqual(ledger.refresh().length, 2);
    assert.deepStrictEqual(released.sort(), [2, 3]);
    assert.deepStrictEqual([ledger.charged(1000, 'cma'), ledger.charged(1001, 'cma')], [100, 0]);
    // A fresh grant of a client that disconnected is released at the next scan, grace or not.
    const a3 = grant(4, alice, 50);
    a3.sentAt = now;
    ledger.connectionGone(':1.7');
    assert.strictEqual(ledger.refresh().length, 1);
    assert.deepStrictEqual(ledger.heldBy(1000).map((g) => g.file.ino), [1], 'still held by some process: still charged');
  });
});

describe('ledger: the other ways a charge ends', () => {
  /** A ledger over a fake scan (`held` is what processes hold) and a clock the test moves. */
  function setUp() {
    const clock = { now: 1000 };
    const held = new Set<string>();
    const released: number[] = [];
    const ledger = new Ledger((wanted) => new Map([...wanted].filter((k) => held.has(k)).map((k) => [k, [1]])), 500, () => clock.now);
    const grant = (ino: number, caller: Caller, size: number) => ledger.add({ dev: 5, ino }, { kind: 'system', heap: 0, size, caller, release: () => released.push(ino) });
    return { clock, held, released, ledger, grant };
  }

  it('releaseClosed releases the sent grants whose inode went, once each; grants not yet sent and unknown keys stay as they are', () => {
    const { released, ledger, grant } = setUp();
    const sent = grant(1, alice, 100);
    const unsent = grant(2, alice, 30);
    sent.sentAt = 1000;
    const out = ledger.releaseClosed([sent.key, unsent.key, fileKey({ dev: 5, ino: 99 })]);
    assert.deepStrictEqual([out.map((g) => g.file.ino), released, ledger.charged(1000, 'system'), ledger.size], [[1], [1], 30, 1]);
    // The same inode reported again (a second IN_IGNORED, a rescan) releases nothing twice.
    assert.deepStrictEqual([ledger.releaseClosed([sent.key]).length, released], [0, [1]]);
  });

  it('forget drops a grant whose reply failed without calling its release (the caller frees the buffer)', () => {
    const { released, ledger, grant } = setUp();
    const g = grant(1, bob, 64);
    grant(2, bob, 36);
    ledger.forget(g.key);
    ledger.forget(fileKey({ dev: 5, ino: 99 }));
    assert.deepStrictEqual([ledger.charged(1001, 'system'), ledger.size, released], [36, 1, []]);
    assert.deepStrictEqual(ledger.heldBy(1001).map((x) => x.file.ino), [2]);
  });

  it('graceEnds is the oldest grace still running: sent, not yet seen held; a landed grant has none', () => {
    const { clock, held, ledger, grant } = setUp();
    assert.strictEqual(ledger.graceEnds(), undefined, 'nothing granted');
    const a = grant(1, alice, 10);
    const b = grant(2, alice, 10);
    assert.strictEqual(ledger.graceEnds(), undefined, 'nothing sent yet');
    a.sentAt = 1000;
    b.sentAt = 1200;
    assert.strictEqual(ledger.graceEnds(), 1500);
    held.add(a.key);
    clock.now = 1100;
    ledger.refresh();
    assert.strictEqual(a.landed, true);
    assert.strictEqual(ledger.graceEnds(), 1700, 'a landed grant no longer waits for its grace');
  });

  it('a landed grant is released by the first scan that finds no holder, grace or not', () => {
    const { clock, held, released, ledger, grant } = setUp();
    const g = grant(1, alice, 10);
    g.sentAt = clock.now;
    held.add(g.key);
    ledger.refresh();
    held.delete(g.key);
    clock.now += 1; // well within the 500 ms grace
    assert.deepStrictEqual([ledger.refresh().map((x) => x.file.ino), released, ledger.charged(1000, 'system')], [[1], [1], 0]);
  });

  it('an inode number the kernel gives a new buffer releases the grant it belonged to (its buffer is gone)', () => {
    const { released, ledger, grant } = setUp();
    grant(1, alice, 100);
    grant(1, bob, 40);
    assert.deepStrictEqual([released, ledger.size, ledger.charged(1000, 'system'), ledger.charged(1001, 'system')], [[1], 1, 0, 40]);
  });

  it('releaseAll releases every grant and clears every charge', () => {
    const { released, ledger, grant } = setUp();
    grant(1, alice, 10);
    grant(2, bob, 20);
    ledger.releaseAll();
    assert.deepStrictEqual([released.sort(), ledger.size, ledger.charged(1000, 'system'), ledger.charged(1001, 'system')], [[1, 2], 0, 0, 0]);
  });
});

describe('holdersOf', () => {
  it('finds a file held through an fd, then through a mapping only, then nowhere; the same inode on another device is not it', () => {
    const addon = loadNative();
    const fd = standInFor('linux,cma', 8192, 'ud:0:cma');
    const st = fstatSync(fd);
    const key = fileKey({ dev: st.dev, ino: st.ino });
    const other = fileKey({ dev: st.dev + 1, ino: st.ino });
    assert.deepStrictEqual(holdersOf(new Set([key, other])).get(key), [process.pid]);
    assert.strictEqual(holdersOf(new Set([other])).size, 0);
    const mapping = addon.mmap(fd, 8192, true);
    closeSync(fd);
    assert.deepStrictEqual(holdersOf(new Set([key])).get(key), [process.pid], 'mapped only');
    addon.munmap(mapping);
    assert.strictEqual(holdersOf(new Set([key])).size, 0);
    // Any file held by an fd is found (fds are matched by device and inode whatever they are).
    const dir = testDir('udalloc-holders-');
    writeFileSync(join(dir, 'f'), Buffer.alloc(4096));
    const f = openFile(join(dir, 'f'), 'r');
    const fst = fstatSync(f);
    assert.deepStrictEqual(holdersOf(new Set([fileKey({ dev: fst.dev, ino: fst.ino })])).get(fileKey({ dev: fst.dev, ino: fst.ino })), [process.pid]);
    closeSync(f);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('ledger: charges under any order of events (model-based)', () => {
  // Two callers with quotas; decisions admit against the ledger's charge and reserve at once, as
  // the service does (server.ts #allocateReserved). After every step: each caller's charge is its
  // live grants plus its pending reservations, and never above its quota.
  const QUOTA = 6 * 4096;
  const callers = [alice, bob];

  interface Real {
    ledger: Ledger;
    clock: { now: number };
    held: Set<string>;
    pending: Reservation[];
    sent: Grant[];
    unsent: Grant[];
    nextIno: number;
  }
  type Model = { admitted: number; refused: number };

  const check = (r: Real): void => {
    for (const c of callers) {
      const live = r.ledger.grants().filter((g) => g.caller.uid === c.uid).reduce((s, g) => s + g.size, 0);
      const pending = r.pending.filter((p) => p.caller.uid === c.uid).reduce((s, p) => s + p.bytes, 0);
      assert.strictEqual(r.ledger.charged(c.uid, 'cma'), live + pending, `${c.user}: charged = live + pending`);
      assert.ok(live + pending <= QUOTA, `${c.user}: ${live + pending} <= quota ${QUOTA}`);
    }
    assert.strictEqual(r.ledger.pending, r.pending.reduce((s, p) => s + p.bytes, 0));
  };
  const cmd = (name: string, run: (m: Model, r: Real) => void): fc.Command<Model, Real> => ({
    check: () => true,
    run: (m, r) => {
      run(m, r);
      check(r);
    },
    toString: () => name,
  });
  const pick = <T>(xs: T[], i: number): T | undefined => (xs.length === 0 ? undefined : xs[i % xs.length]);

  // An admission decision and its reservation, with nothing in between (listed thrice: the most common event).
  const reserve = fc.tuple(fc.nat(1), fc.integer({ min: 1, max: 4 })).map(([c, pages]) => cmd(`reserve ${callers[c]!.user} ${pages}`, (m, r) => {
      const caller = callers[c]!;
      if (r.ledger.charged(caller.uid, 'cma') + pages * 4096 > QUOTA) {
        m.refused++;
        return;
      }
      m.admitted++;
      r.pending.push(r.ledger.reserve(caller, 'cma', pages * 4096));
    }));
  const commands = [
    reserve,
    reserve,
    reserve,
    // The buffers are granted (one or two per reservation) and the reservation ends in the same step.
    fc.nat().map((i) => cmd(`grant ${i}`, (_m, r) => {
      const res = pick(r.pending, i);
      if (!res) return;
      const pages = res.bytes / 4096;
      const split = pages > 1 ? [4096, res.bytes - 4096] : [res.bytes];
      for (const size of split) r.unsent.push(r.ledger.add({ dev: 9, ino: r.nextIno++ }, { kind: 'cma', heap: 2, size, caller: res.caller, release: () => {} }));
      res.end();
      r.pending.splice(r.pending.indexOf(res), 1);
    })),
    fc.nat().map((i) => cmd(`fail ${i}`, (_m, r) => {
      const res = pick(r.pending, i);
      if (!res) return;
      res.end();
      res.end(); // ending twice takes nothing back twice
      r.pending.splice(r.pending.indexOf(res), 1);
    })),
    fc.nat().map((i) => cmd(`reply fails ${i}`, (_m, r) => {
      const g = pick(r.unsent, i);
      if (!g) return;
      r.ledger.forget(g.key);
      r.unsent.splice(r.unsent.indexOf(g), 1);
    })),
    fc.nat().map((i) => cmd(`hand out ${i}`, (_m, r) => {
      const g = pick(r.unsent, i);
      if (!g) return;
      g.sentAt = r.clock.now;
      r.held.add(g.key);
      r.unsent.splice(r.unsent.indexOf(g), 1);
      r.sent.push(g);
    })),
    fc.nat().map((i) => cmd(`close ${i}`, (_m, r) => {
      const g = pick(r.sent, i);
      if (!g) return;
      r.held.delete(g.key);
      r.ledger.releaseClosed([g.key]);
    })),
    fc.nat().map((i) => cmd(`holder dies ${i}`, (_m, r) => {
      const g = pick(r.sent, i);
      if (g) r.held.delete(g.key);
    })),
    fc.constant(cmd('rescan', (_m, r) => {
      r.ledger.refresh();
      // Never released while unsent; a released one is gone from the ledger for good.
      for (const g of r.unsent) assert.ok(r.ledger.grants().includes(g), 'an unsent grant stays charged');
    })),
    fc.integer({ min: 1, max: 800 }).map((ms) => cmd(`wait ${ms} ms`, (_m, r) => {
      r.clock.now += ms;
    })),
    fc.nat(1).map((c) => cmd(`${callers[c]!.user} disconnects`, (_m, r) => r.ledger.connectionGone(callers[c]!.connection))),
  ];

  it('each caller\'s charge is its live grants plus its pending reservations, never above its quota', () => {
    let admitted = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 150, size: 'large' }), (cmds) => {
        const clock = { now: 1000 };
        const held = new Set<string>();
        const real: Real = { ledger: new Ledger((wanted) => new Map([...wanted].filter((k) => held.has(k)).map((k) => [k, [1]])), 500, () => clock.now), clock, held, pending: [], sent: [], unsent: [], nextIno: 1 };
        const model: Model = { admitted: 0, refused: 0 };
        fc.modelRun(() => ({ model, real }), cmds);
        admitted += model.admitted;
        refused += model.refused;
      }),
      { numRuns: 300, seed: 27 },
    );
    // Both outcomes must be common, or the quota is not what is being tested.
    assert.ok(admitted > 1000 && refused > 300, `${admitted} admitted, ${refused} refused`);
  });
});
