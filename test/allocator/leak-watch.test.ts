// The leak watch's nursery (registration deferred to the next event-loop turn) and the allocator's
// live records (O(1) add/remove by slot), checked against simple models.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { BufferRecord } from '../../src/allocator/buffer.js';
import { LeakWatch, NURSERY_LIMIT } from '../../src/allocator/leak-watch.js';
import { LiveRecords } from '../../src/allocator/live-records.js';

function record(fd: number): BufferRecord {
  const layout = { format: 'NV12', fourcc: 0, modifier: 'LINEAR', modifierValue: 0n, width: 1, height: 1, planes: [], size: 4096, cpu: 'none' as const };
  return { fd, layout, heap: undefined as never, owner: 'test', name: undefined, closed: false, watched: false, slot: -1 };
}

describe('LeakWatch nursery', () => {
  it('registers only buffers still open when the nursery is flushed', () => {
    const watch = new LeakWatch(() => assert.fail('no buffer is collected here'));
    const records = [record(3), record(4), record(5)];
    const buffers = records.map(() => ({}));
    records.forEach((r, i) => watch.track(buffers[i]!, r));
    records[1]!.closed = true;
    watch.forget(records[1]!);
    watch.flush();
    assert.deepStrictEqual(records.map((r) => r.watched), [true, false, true]);
  });

  it('flushes by itself on the next event-loop turn', async () => {
    const watch = new LeakWatch(() => {});
    const r = record(3);
    watch.track({}, r);
    assert.equal(r.watched, false);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(r.watched, true);
  });

  it('flushes synchronously once it holds NURSERY_LIMIT buffers, so a burst holds bounded memory', () => {
    const watch = new LeakWatch(() => {});
    const records = Array.from({ length: NURSERY_LIMIT }, (_, i) => record(i + 3));
    records.forEach((r, i) => {
      watch.track({}, r);
      if (i < NURSERY_LIMIT - 1) assert.equal(r.watched, false, `buffer ${i} registered before the nursery filled`);
    });
    assert.ok(records.every((r) => r.watched));
  });
});

describe('LiveRecords', () => {
  it('holds exactly the added and not yet removed records (random add/remove sequences)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(40)), { maxLength: 200 }), (ops) => {
        const live = new LiveRecords<BufferRecord>();
        const model = new Set<BufferRecord>();
        const all = Array.from({ length: 41 }, (_, i) => record(i));
        for (const [add, i] of ops) {
          const r = all[i]!;
          if (add && !model.has(r)) {
            live.add(r);
            model.add(r);
          } else if (!add) {
            live.remove(r); // removing a record that is not live is a no-op
            model.delete(r);
          }
          assert.equal(live.size, model.size);
        }
        assert.deepStrictEqual(new Set(live.values()), model);
        for (const r of all) assert.equal(r.slot >= 0, model.has(r));
      }),
    );
  });
});
