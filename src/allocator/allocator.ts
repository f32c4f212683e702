// The library's public face: open a platform on a kernel backend, negotiate requests into plans,
// allocate plans into dma-bufs with fallback down the ranked plans, and account for what is live.

import { InputError } from '../errors.js';
import { makeRequest, type RequestFields } from '../constraints/load.js';
import { selectPlatform } from '../platform/select.js';
import type { Heap, Platform, Request } from '../constraints/model.js';
import { DMA_BUF_NAME_LEN, type KernelBackend } from '../kernel/backend.js';
import { isKernelError, KernelError, type Errno } from '../kernel/errno.js';
import type { SimOptions } from '../kernel/sim/kernel.js';
import { negotiate } from '../solver/negotiate.js';
import { prepare, type PreparedPlatform } from '../solver/prepared.js';
import { allocatesOnEmptyHeaps } from '../kernel/sim/index.js';
import type { Placement } from '../solver/solve.js';
import { selectBackend, type BackendChoice } from './backend-select.js';
import { bufferLabel, DmaBuffer, type BufferHost, type BufferLayout, type BufferRecord } from './buffer.js';
import { AllocationError, ConflictError, type FailedAttempt } from './errors.js';
import { handleOfHeap, HeapHandle, heapName } from './heap-handle.js';
import { LeakWatch } from './leak-watch.js';
import { LiveRecords } from './live-records.js';
import { bufferName, choiceOf, framesOf, Plan, planeBufferLayouts, planInternals, type PlanChoice } from './plan.js';
import type { AllocationRecorder, RecordedSet } from './recording.js';
import { MAX_EINTR_RETRIES, retryOnEintr } from './retry.js';

export interface OpenOptions {
  /**
   * A platform profile path (YAML/JSON), a shipped board's name ("raspberry-pi-4"), or an already
   * loaded Platform. Default: this machine's heaps and devices when it has /dev/dma_heap, else the
   * example board (on the simulated kernel).
   */
  readonly platform?: string | Platform;
  /** 'auto' (default): real heaps when present and supported, else the simulated kernel. */
  readonly backend?: BackendChoice;
  /** Options of the simulated kernel (fault schedule, seed, fd limit). */
  readonly sim?: SimOptions;
  /** Records every buffer allocated and closed, as a trace for `udalloc simulate` / `size`. */
  readonly record?: AllocationRecorder;
  /**
   * Watch buffers for garbage collection while open (default true). Only code that provably
   * closes every buffer itself (the trace replayer) turns this off, to save its per-buffer cost.
   */
  readonly leakCheck?: boolean;
}

export interface PlanOptions {
  /** Ranked fallbacks to keep besides the best plan (default 8). */
  readonly alternatives?: number;
  /**
   * 'free' (default): plan against each heap's free space now (a fresh solve every call).
   * 'capacity': plan against whole capacities, memoised per request; allocate() still falls back
   * when a heap is full. Replays use it: the same request shapes recur millions of times.
   */
  readonly against?: 'free' | 'capacity';
}

export interface AllocateOptions {
  /** Who holds the buffers, for stats(); default: the request's devices joined by '+'. */
  readonly owner?: string;
  /** DMA_BUF_SET_NAME for each buffer, suffixed with its index ("cam-0"); at most 31 bytes. */
  readonly name?: string;
  /** Try the next ranked plans when the best one's heap is out of memory (default true). */
  readonly fallback?: boolean;
}

/** Buffers of one allocate() call, plus how they were placed. */
export type AllocatedBuffers = DmaBuffer[] & {
  /**
   * A multi-planar format (NV12M...): the buffers by frame, plane 0 first. The array itself holds
   * every buffer, frame by frame; each holds one plane at offset 0 (its layout's `plane`).
   */
  readonly frames?: ReadonlyArray<readonly DmaBuffer[]>;
  /** The plan the buffers follow (the negotiated one, or the fallback that succeeded). */
  readonly used: PlanChoice;
  /** Ranked plans tried first that failed, with the kernel's errno; empty when the best plan worked. */
  readonly fallbacks: readonly FailedAttempt[];
};

export interface HeapUsage {
  readonly heap: HeapHandle;
  readonly capacity: number;
  readonly used: number;
  readonly free: number;
  readonly largestFree: number;
  /** Live buffers this allocator holds in the heap, and their bytes. */
  readonly buffers: number;
  readonly liveBytes: number;
}

export interface LiveBuffer {
  readonly fd: number;
  readonly heap: HeapHandle;
  readonly size: number;
  readonly format: string;
  readonly modifier: string;
  readonly owner: string;
  readonly name: string | undefined;
}

export interface AllocatorStats {
  readonly backend: string;
  readonly heaps: readonly HeapUsage[];
  readonly buffers: readonly LiveBuffer[];
}


const NO_OPTIONS: AllocateOptions = Object.freeze({});

/** Shared by every allocation that needed no fallback (most of them): nothing to allocate. */
const NO_FALLBACKS: readonly FailedAttempt[] = Object.freeze([]);

/** EBUSY is transient (pinned pages, a driver holding the pool): retry a little, then fall back. */
const EBUSY_RETRIES = 2;
/** Errnos that mean "this heap cannot hold it now": try the next ranked plan. */
const FALLBACK_ERRNOS: readonly Errno[] = ['ENOMEM', 'EBUSY'];

export class Allocator {
  readonly platform: Platform;
  readonly backend: KernelBackend;
  /** Which backend and why, in one line. */
  readonly backendReason: string;
  /** The platform with what negotiation learns of it (compiled shapes, explained conflicts). */
  readonly #prepared: PreparedPlatform;
  /** Heaps the platform profile lists that the kernel backend does not have (never allocated from). */
  readonly missingHeaps: readonly string[];
  readonly #handles = new Map<string, HeapHandle>();
  readonly #live = new LiveRecords<BufferRecord>();
  readonly #host: BufferHost;
  readonly #recorder: AllocationRecorder | undefined;

  /** @internal Use open(). */
  constructor(platform: Platform, backend: KernelBackend, reason: string, recorder?: AllocationRecorder, leakCheck = true) {
    this.#recorder = recorder;
    this.backend = backend;
    this.backendReason = reason;
    // A pool the kernel lists under two names (an alias) is present under either.
    const present = new Map(backend.heaps().flatMap((h) => [h.name, ...(h.aliases ?? [])].map((name) => [name, h] as const)));
    // Heaps the profile names but the kernel lacks cannot be allocated from: the solver must not see them.
    this.platform = { ...platform, heaps: platform.heaps.filter((h) => present.has(h.name)) };
    this.missingHeaps = platform.heaps.filter((h) => !present.has(h.name)).map((h) => h.name);
    this.#prepared = prepare(this.platform);
    this.platform.heaps.forEach((h, i) => {
      const info = present.get(h.name)!;
      this.#handles.set(h.name, handleOfHeap(i + 1, h, info.capacity, info.path));
    });
    const leaks = leakCheck
      ? new LeakWatch((record) => {
          process.emitWarning(`udalloc: ${record.name !== undefined ? `buffer "${record.name}", ` : ''}${bufferLabel(record.fd, record.layout, record.owner)} was garbage-collected while open; closing fd ${record.fd}. Call close() or hold it with "using".`, { code: 'UDALLOC_LEAKED_BUFFER' });
          this.#host.release(record);
        })
      : undefined;
    this.#host = {
      backend,
      track: leaks ? (buffer, record) => leaks.track(buffer, record) : () => {},
      release: (record) => {
        record.closed = true;
        leaks?.forget(record);
        // The set was recorded as one allocation: its free is recorded when its last buffer closes.
        if (record.traceSet !== undefined && --record.traceSet.open === 0) this.#recorder?.free(record.traceSet.id);
        this.#live.remove(record);
        backend.close(record.fd);
      },
    };
  }

  /** Heaps this allocator can use, as opaque handles. */
  heaps(): HeapHandle[] {
    return [...this.#handles.values()];
  }


  /**
   * Reconciles the devices' constraints for a request, against the heaps' free space now. Throws
   * ConflictError (with the conflicting constraints and fixes) when no plan exists.
   */
  negotiate(request: RequestFields | Request, options: PlanOptions = {}): Plan {
    if (this.platform.heaps.length === 0) {
      const have = this.backend.heaps().map((h) => h.name);
      throw new InputError(`none of the profile's heaps (${this.missingHeaps.join(', ')}) exists on the ${this.backend.kind} backend (it has ${have.length > 0 ? have.join(', ') : 'no heaps'}): use a profile for this machine (udalloc discover --write-profile FILE) or the simulated kernel (--backend sim)`, 'platform', this.platform.origin);
    }
    const req = isRequest(request) ? request : makeRequest(this.platform, request);
    const free = new Map<string, number>();
    const capacityOf = (heap: Heap): number => {
      let bytes = free.get(heap.name);
      if (bytes === undefined) free.set(heap.name, (bytes = this.backend.heapStats(heap.name).free));
      return bytes;
    };
    const result = negotiate(this.#prepared, req, options.against === 'capacity' ? { alternatives: options.alternatives, check: allocatesOnEmptyHeaps } : { alternatives: options.alternatives, capacityOf, check: allocatesOnEmptyHeaps });
    if (!result.ok) throw new ConflictError(result.conflict, req);
    const ranked = [result.plan, ...result.alternatives];
    return new Plan(ranked, ranked.map((p) => choiceOf(p, req, this.#handle(p))), result.rationale, req);
  }

  /** Allocates the plan's buffers (see allocateSync); async for symmetry with real backends. */
  async allocate(plan: Plan, options: AllocateOptions = NO_OPTIONS): Promise<AllocatedBuffers> {
    return this.allocateSync(plan, options);
  }

  /**
   * Allocates `plan.count` buffers from the plan's heap. When the heap runs out (ENOMEM, or EBUSY
   * that persists), everything taken is released and the next ranked plan is tried; the result's
   * `fallbacks` says which plans failed. EINTR is retried. Any other kernel error is thrown after
   * releasing what was taken.
   */
  allocateSync(plan: Plan, options: AllocateOptions = NO_OPTIONS): AllocatedBuffers {
    if (!(plan instanceof Plan)) throw new InputError('allocate(plan): expected a Plan from negotiate()', 'plan', plan);
    const { placements, choices, defaultOwner } = planInternals(plan);
    const owner = options.owner ?? defaultOwner;
    const name = options.name;
    const perPlane = plan.buffers !== undefined;
    if (name !== undefined && Buffer.byteLength(`${name}-${plan.count - 1}${perPlane ? `.${plan.planes.length - 1}` : ''}`) >= DMA_BUF_NAME_LEN) {
      throw new InputError(`name ${JSON.stringify(name)}: with its index suffix it must stay under ${DMA_BUF_NAME_LEN} bytes (DMA_BUF_NAME_LEN)`, 'name', name);
    }
    let fallbacks: FailedAttempt[] = NO_FALLBACKS as FailedAttempt[];
    const diagnosis: string[] = [];
    const tries = options.fallback === false ? 1 : placements.length;
    for (let i = 0; i < tries; i++) {
      const placement = placements[i]!;
      const choice = choices[i]!;
      const taken: number[] = [];
      try {
        if (placement.buffers === undefined) for (let n = 0; n < placement.count; n++) taken.push(this.#allocateOne(placement.heap.name, placement.size));
        // A multi-planar format: frame by frame, a buffer per plane (as constraints/placement.ts places them).
        else for (let n = 0; n < placement.count; n++) for (const size of placement.buffers) taken.push(this.#allocateOne(placement.heap.name, size));
      } catch (err) {
        for (const fd of taken) this.backend.close(fd);
        if (isKernelError(err) && FALLBACK_ERRNOS.includes(err.errno)) {
          if (fallbacks === NO_FALLBACKS) fallbacks = [];
          fallbacks.push({ heap: choice.heap, errno: err.errno, allocated: taken.length });
          // A real CMA area out of memory: why (exhausted or fragmented, who holds it) and what would help, read now.
          if (err.errno === 'ENOMEM' && placement.heap.kind === 'cma' && placement.buffers === undefined) diagnosis.push(...(this.backend.outOfMemoryReport?.(placement.heap.name, placement.heap, placement.size, placement.count) ?? []));
          continue;
        }
        throw err;
      }
      // A buffer's name: its index in the set, and its plane in a multi-planar frame ("cam-2.1").
      const planes = choice.buffers?.length ?? 1;
      const nameOf = (n: number) => bufferName(name!, Math.floor(n / planes), planes === 1 ? undefined : n % planes);
      if (name !== undefined) {
        try {
          taken.forEach((fd, n) => retryOnEintr(() => this.backend.setName(fd, nameOf(n))));
        } catch (err) {
          for (const fd of taken) this.backend.close(fd);
          throw err;
        }
      }
      // A plain loop and direct property stores: this runs once per buffer handed out.
      const buffers = new Array<DmaBuffer>(taken.length) as DmaBuffer[] & { used: PlanChoice; fallbacks: readonly FailedAttempt[] };
      const traceSet: RecordedSet | undefined = this.#recorder ? { id: this.#recorder.alloc(plan.request, placement.count), open: taken.length } : undefined;
      if (planes === 1) for (let n = 0; n < taken.length; n++) buffers[n] = this.#adopt(taken[n]!, choice, choice, owner, name === undefined ? undefined : nameOf(n), traceSet);
      else {
        const layouts = planeBufferLayouts(choice);
        for (let n = 0; n < taken.length; n++) buffers[n] = this.#adopt(taken[n]!, layouts[n % planes]!, choice, owner, name === undefined ? undefined : nameOf(n), traceSet);
        (buffers as { frames?: DmaBuffer[][] }).frames = framesOf(buffers, planes);
      }
      buffers.used = choice;
      buffers.fallbacks = fallbacks;
      return buffers;
    }
    throw new AllocationError(fallbacks, `${plan.count} x ${plan.size} bytes for ${plan.request.devices.join(', ')}${diagnosis.map((l) => `\n${l}`).join('')}`);
  }

  /** Per-heap occupancy and the live buffers this allocator handed out. */
  stats(): AllocatorStats {
    const buffers: LiveBuffer[] = this.#live.values().map((r) => ({ fd: r.fd, heap: r.heap, size: r.layout.size, format: r.layout.format, modifier: r.layout.modifier, owner: r.owner, name: r.name })).sort((a, b) => a.fd - b.fd);
    const mine = new Map<HeapHandle, { buffers: number; liveBytes: number }>();
    for (const b of buffers) {
      const m = mine.get(b.heap) ?? { buffers: 0, liveBytes: 0 };
      m.buffers++;
      m.liveBytes += b.size;
      mine.set(b.heap, m);
    }
    const heaps = this.heaps().map((heap) => {
      const s = this.backend.heapStats(heapName(heap));
      return { heap, capacity: s.capacity, used: s.used, free: s.free, largestFree: s.largestFree, ...(mine.get(heap) ?? { buffers: 0, liveBytes: 0 }) };
    });
    return { backend: this.backend.kind, heaps, buffers };
  }

  /** Closes every buffer still open (their DmaBuffer objects report closed afterwards). */
  close(): void {
    for (const record of this.#live.values()) if (!record.closed) this.#host.release(record);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #handle(placement: Placement): HeapHandle {
    return this.#handles.get(placement.heap.name)!;
  }

  #allocateOne(heap: string, size: number): number {
    // Written out rather than through retryOnEintr(): this is the per-buffer hot path.
    let interrupted = 0;
    let busy = 0;
    for (;;) {
      try {
        return this.backend.allocate(heap, size);
      } catch (err) {
        if (isKernelError(err, 'EINTR') && interrupted++ < MAX_EINTR_RETRIES) continue;
        if (isKernelError(err, 'EBUSY') && busy++ < EBUSY_RETRIES) continue;
        throw err;
      }
    }
  }

  #adopt(fd: number, layout: BufferLayout, choice: PlanChoice, owner: string, name: string | undefined, traceSet: RecordedSet | undefined): DmaBuffer {
    // layout.size is page aligned (the solver rounds it), so it is what the kernel reports.
    const record: BufferRecord = { fd, layout, heap: choice.heap, owner, name, closed: false, watched: false, slot: -1, traceSet };
    this.#live.add(record);
    return new DmaBuffer(this.#host, record);
  }
}

function isRequest(value: RequestFields | Request): value is Request {
  return typeof value === 'object' && value !== null && 'sources' in value && Array.isArray((value as Request).formats) && typeof (value as Request).formats[0] === 'object';
}

/** Opens a platform on a kernel backend: real heaps when present and supported, else the simulator. */
export async function open(options: OpenOptions = {}): Promise<Allocator> {
  return openSync(options);
}

export function openSync(options: OpenOptions = {}): Allocator {
  if (options === null || typeof options !== 'object') throw new InputError('open(options): expected an object such as { platform: "raspberry-pi-4" }', 'options', options);
  const platform = typeof options.platform === 'object' ? options.platform : selectPlatform(options.platform);
  const { backend, reason } = selectBackend(platform, options.backend, options.sim);
  return new Allocator(platform, backend, reason, options.record, options.leakCheck ?? true);
}

export { KernelError };
