// The simulator's page bitmap keeps runs of set bits; every answer must be the one a plain scan of
// one byte per bit gives (the lib/bitmap.c semantics it models), over random allocation histories.

import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bitmap } from '../../src/kernel/sim/bitmap.js';

/** The reference: one byte per bit, linear scans. */
class ByteBitmap {
  readonly bits: Uint8Array;
  constructor(readonly size: number) {
    this.bits = new Uint8Array(size);
  }
  nextZero(start: number): number {
    for (let i = start; i < this.size; i++) if (this.bits[i] === 0) return i;
    return this.size;
  }
  nextSet(start: number, end: number): number {
    for (let i = start; i < end; i++) if (this.bits[i] === 1) return i;
    return end;
  }
  findZeroArea(start: number, count: number, alignMask: number, alignOffset: number): number {
    for (;;) {
      let index = this.nextZero(start);
      index = alignMask === 0 ? index : Math.ceil((index + alignOffset) / (alignMask + 1)) * (alignMask + 1) - alignOffset;
      const end = index + count;
      if (end > this.size) return end;
      const busy = this.nextSet(index, end);
      if (busy >= end) return index;
      start = busy + 1;
    }
  }
  set(start: number, count: number, value: number): void {
    this.bits.fill(value, start, start + count);
  }
  count(): number {
    return this.bits.reduce((sum, b) => sum + b, 0);
  }
  longestZeroRun(): number {
    let best = 0;
    let run = 0;
    for (const b of this.bits) {
      run = b === 0 ? run + 1 : 0;
      best = Math.max(best, run);
    }
    return best;
  }
}

const op = fc.oneof(
  fc.record({ kind: fc.constant('alloc' as const), count: fc.integer({ min: 1, max: 40 }), alignOrder: fc.integer({ min: 0, max: 4 }), offset: fc.integer({ min: 0, max: 15 }) }),
  fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('raw' as const), start: fc.nat(199), count: fc.integer({ min: 0, max: 30 }), value: fc.constantFrom(0, 1) }),
);

describe('simulated page bitmap (runs of set bits)', () => {
  it('answers every search exactly as a scan of the bits does, over random histories', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.array(op, { maxLength: 60 }), fc.nat(), (size, ops, probe) => {
        const runs = new Bitmap(size);
        const bytes = new ByteBitmap(size);
        const live: [number, number][] = [];
        for (const o of ops) {
          if (o.kind === 'alloc') {
            const mask = 2 ** o.alignOrder - 1;
            const offset = o.offset & mask;
            const at = runs.findZeroArea(0, o.count, mask, offset);
            assert.strictEqual(at, bytes.findZeroArea(0, o.count, mask, offset));
            if (at + o.count <= size) {
              runs.setRange(at, o.count);
              bytes.set(at, o.count, 1);
              live.push([at, o.count]);
            }
          } else if (o.kind === 'free') {
            if (live.length === 0) continue;
            const [at, count] = live.splice(o.pick % live.length, 1)[0]!;
            runs.clearRange(at, count);
            bytes.set(at, count, 0);
          } else {
            // Setting bits already set and clearing clear ones, as a caller may.
            const count = Math.min(o.count, size - Math.min(o.start, size));
            const start = Math.min(o.start, size);
            if (o.value === 1) runs.setRange(start, count);
            else runs.clearRange(start, count);
            bytes.set(start, count, o.value);
          }
          assert.strictEqual(runs.setCount, bytes.count());
        }
        assert.strictEqual(runs.longestZeroRun(), bytes.longestZeroRun());
        for (let i = 0; i < size; i++) assert.strictEqual(runs.isSet(i), bytes.bits[i] === 1);
        const start = probe % (size + 1);
        assert.strictEqual(runs.nextZero(start), bytes.nextZero(start));
        assert.strictEqual(runs.nextSet(start, size), bytes.nextSet(start, size));
        assert.strictEqual(runs.findZeroArea(start, 3, 3, 1), bytes.findZeroArea(start, 3, 3, 1));
      }),
      { numRuns: 1500, seed: 29 },
    );
  });
});
