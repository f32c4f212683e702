// Recording the requests a program serves, as a trace that `udalloc simulate` and `udalloc size`
// replay: one alloc event per buffer set handed out (as one allocate() took it, all in one heap),
// one free event when the last buffer of the set is closed.

import type { RequestFields } from '../constraints/load.js';
import { deviceEntries } from '../constraints/request.js';
import type { Request } from '../constraints/model.js';
import type { AllocationRecorder } from '../allocator/recording.js';
import { formatTrace, type RawEvent } from './trace.js';

export interface RecorderOptions {
  /** Time origin in ms (performance.timeOrigin-based epoch); default: when the recorder was made. */
  readonly epoch?: number;
  /** Prefix of event ids, to keep them unique when several processes append to one file. */
  readonly idPrefix?: string;
}

export function requestFields(request: Request, count = request.count): RequestFields {
  return { width: request.width, height: request.height, formats: request.formats.map((f) => f.name), devices: deviceEntries(request), cpu: request.cpu, protected: request.protected, count };
}

export class TraceRecorder implements AllocationRecorder {
  readonly #events: RawEvent[] = [];
  readonly #epoch: number;
  readonly #prefix: string;
  #next = 0;
  #lastT = 0;

  constructor(options: RecorderOptions = {}) {
    this.#epoch = options.epoch ?? Date.now();
    this.#prefix = options.idPrefix ?? 'b';
  }

  #now(): number {
    // Never backwards, even if the wall clock steps.
    this.#lastT = Math.max(this.#lastT, Math.round(Date.now() - this.#epoch) / 1000);
    return this.#lastT;
  }

  /** Records an allocation; returns the id its free will use. */
  alloc(request: Request, count = 1): string {
    const id = `${this.#prefix}${this.#next++}`;
    this.#events.push({ t: this.#now(), op: 'alloc', id, request: requestFields(request, count) });
    return id;
  }

  free(id: string): void {
    this.#events.push({ t: this.#now(), op: 'free', id });
  }

  get events(): readonly RawEvent[] {
    return this.#events;
  }

  toJSONL(): string {
    return formatTrace(this.#events);
  }

  /**
   * A request that was asked for and let go at once (negotiated, or refused): an alloc and its
   * free at the same moment, so sizing sees the demand without holding it forever.
   */
  momentary(request: Request): void {
    this.free(this.alloc(request, request.count));
  }

  /** Takes the events recorded so far (to append to a file) and forgets them. */
  drain(): string {
    const text = this.#events.length === 0 ? '' : this.toJSONL();
    this.#events.length = 0;
    return text;
  }
}
