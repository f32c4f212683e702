// The service's ledger (charges per uid and heap kind, released when no process holds a buffer,
// never while its fd may still be in a socket queue) and holdersOf (who holds a file, by device and
// inode, through an fd or only a mapping) on real files of this process.

import assert from 'node:assert/strict';
import { closeSync, fstatSync, openSync as openFile, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/service/ledger.js';
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
    const fd = standInFor('linux,cma', 8192);
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
