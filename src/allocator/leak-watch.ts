// Watches buffers for garbage collection while open, and closes those with a warning.
//
// Why a nursery: FinalizationRegistry register + unregister costs ~0.3 us per buffer in V8, as much
// as the whole rest of allocate(). Most short-lived buffers (a frame converted and dropped, a
// replayed trace event) are closed before the event loop turns, so they never need watching. New
// buffers are held strongly in a small nursery until the next turn (setImmediate) or until it holds
// NURSERY_LIMIT of them; then the ones still open are registered. A leaked buffer is therefore kept
// alive for at most one turn of the event loop (or NURSERY_LIMIT allocations), then watched as before.

import type { BufferRecord } from './buffer.js';

/** Bounds the memory the nursery holds in a long synchronous burst of allocations. */
export const NURSERY_LIMIT = 256;

export class LeakWatch {
  readonly #registry: FinalizationRegistry<BufferRecord>;
  readonly #buffers: object[] = [];
  readonly #records: BufferRecord[] = [];
  #scheduled = false;
  readonly #flushSoon = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  /** `onLeak` runs for a buffer collected while its record was still open. */
  constructor(onLeak: (record: BufferRecord) => void) {
    // The record is its own unregister token: closing unregisters, so the registry never calls
    // back for buffers that were closed properly.
    this.#registry = new FinalizationRegistry((record) => {
      if (!record.closed) onLeak(record);
    });
  }

  /** Starts watching a new buffer (registration is deferred: see the file comment). */
  track(buffer: object, record: BufferRecord): void {
    this.#buffers.push(buffer);
    this.#records.push(record);
    if (this.#buffers.length >= NURSERY_LIMIT) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flushSoon).unref();
    }
  }

  /** Stops watching a buffer being closed. */
  forget(record: BufferRecord): void {
    if (record.watched) this.#registry.unregister(record);
  }

  /** Registers every nursery buffer still open and empties the nursery. */
  flush(): void {
    const buffers = this.#buffers;
    const records = this.#records;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      if (record.closed) continue;
      record.watched = true;
      this.#registry.register(buffers[i]!, record, record);
    }
    buffers.length = 0;
    records.length = 0;
  }
}
