// A dma-buf handed to the application: its fd, layout and heap handle, CPU mapping with
// DMA_BUF_IOCTL_SYNC around access, and close() / Symbol.dispose. Every fd is closed exactly once:
// close() is idempotent and never reaches the kernel twice; a buffer garbage-collected while open
// is closed by the allocator's FinalizationRegistry, with a warning naming it.

import { syncFlags, type DmaBufInfo, type KernelBackend, type Mapping, type SyncAccess } from '../kernel/backend.js';
import { ClosedError } from './errors.js';
import { InputError } from '../errors.js';
import type { CpuAccess } from '../constraints/model.js';
import type { RecordedSet } from './recording.js';
import type { HeapHandle } from './heap-handle.js';
import { retryOnEintr } from './retry.js';

export interface PlaneView {
  readonly offset: number;
  readonly pitch: number;
  readonly size: number;
}

/** @internal The allocator's record of one live buffer; the buffer object and the leak finaliser share it. */
export interface BufferRecord {
  readonly fd: number;
  readonly layout: BufferLayout;
  readonly heap: HeapHandle;
  readonly owner: string;
  readonly name: string | undefined;
  closed: boolean;
  /** Registered with the leak finaliser (buffers closed while new never are: see leak-watch.ts). */
  watched: boolean;
  /** Index in the allocator's live records (see live-records.ts). */
  slot: number;
  /** The recorded set this buffer belongs to, when the allocator records a trace. */
  readonly traceSet?: RecordedSet | undefined;
}

/** @internal What a buffer needs from the allocator that made it. */
export interface BufferHost {
  readonly backend: KernelBackend;
  /** Watches the buffer for garbage collection while open. */
  track(buffer: DmaBuffer, record: BufferRecord): void;
  /** Marks the record closed, forgets it and closes the fd. Called exactly once per buffer. */
  release(record: BufferRecord): void;
}

export function bufferLabel(fd: number, l: BufferLayout, owner: string): string {
  return `DmaBuffer(fd ${fd}, ${l.format} ${l.modifier} ${l.width}x${l.height}, ${l.size} bytes, owner ${owner})`;
}

export interface BufferLayout {
  readonly format: string;
  readonly fourcc: number;
  readonly modifier: string;
  readonly modifierValue: bigint;
  readonly width: number;
  readonly height: number;
  readonly planes: readonly PlaneView[];
  /** Bytes of the dma-buf (what fstat reports). */
  readonly size: number;
  /** The CPU access the request asked for: what map() allows. */
  readonly cpu: CpuAccess;
  /** A multi-planar format's buffer: the plane it holds (its only entry in `planes`, at offset 0). */
  readonly plane?: number;
}

/** True when a buffer negotiated for `cpu` may be mapped for `access`. */
function cpuAllows(cpu: CpuAccess, access: SyncAccess): boolean {
  return cpu === 'readwrite' || cpu === access;
}

export class DmaBuffer implements BufferLayout {
  readonly #host: BufferHost;
  readonly #record: BufferRecord;
  readonly #layout: BufferLayout;
  #views: Set<CpuView> | undefined;

  /** @internal Made by Allocator.allocate(). The layout is shared by the buffers of one plan. */
  constructor(host: BufferHost, record: BufferRecord) {
    this.#host = host;
    this.#record = record;
    this.#layout = record.layout;
    host.track(this, record);
  }

  /** The heap the buffer lives in, as an opaque handle. */
  get heap(): HeapHandle {
    return this.#record.heap;
  }
  /** Who holds the buffer (AllocateOptions.owner), for stats(). */
  get owner(): string {
    return this.#record.owner;
  }
  get format(): string {
    return this.#layout.format;
  }
  get fourcc(): number {
    return this.#layout.fourcc;
  }
  get modifier(): string {
    return this.#layout.modifier;
  }
  get modifierValue(): bigint {
    return this.#layout.modifierValue;
  }
  get width(): number {
    return this.#layout.width;
  }
  get height(): number {
    return this.#layout.height;
  }
  get planes(): readonly PlaneView[] {
    return this.#layout.planes;
  }
  /** A multi-planar format's buffer: the plane it holds; undefined when the buffer holds every plane. */
  get plane(): number | undefined {
    return this.#layout.plane;
  }
  /** Bytes of the dma-buf (what fstat reports). */
  get cpu(): CpuAccess {
    return this.#layout.cpu;
  }

  get size(): number {
    return this.#layout.size;
  }

  /** The dma-buf file descriptor, to pass to V4L2, DRM, EGL... It stays owned by this buffer. */
  get fd(): number {
    this.#check();
    return this.#record.fd;
  }

  get closed(): boolean {
    return this.#record.closed;
  }

  /**
   * Maps the buffer for CPU access and begins it (DMA_BUF_IOCTL_SYNC START with `access`). End the
   * access with view.end() or a `using` declaration; that syncs END and unmaps.
   */
  map(access: SyncAccess = this.cpu === 'none' ? 'readwrite' : this.cpu): CpuView {
    this.#check();
    // The plan chose its heap for the CPU use the request stated (a secure or uncached heap when
    // none): a mapping it did not ask for may fail or skip the cache maintenance the use needs.
    if (!cpuAllows(this.cpu, access)) {
      throw new InputError(`${this.toString()}: map('${access}') on a buffer negotiated with cpu: '${this.cpu}'; ask for cpu: '${access === 'read' ? 'read' : access === 'write' ? 'write' : 'readwrite'}' in the request so that the plan picks a heap the CPU can map`, 'cpu', access);
    }
    const backend = this.#host.backend;
    const mapping = retryOnEintr(() => backend.map(this.#record.fd));
    try {
      retryOnEintr(() => backend.sync(this.#record.fd, syncFlags(access, 'start')));
    } catch (err) {
      mapping.unmap();
      throw err;
    }
    const views = (this.#views ??= new Set());
    const view = new CpuView(backend, this.#record.fd, mapping, access, this.planes, this.toString(), () => views.delete(view));
    views.add(view);
    return view;
  }

  /** Names the buffer in fdinfo and debugfs (DMA_BUF_SET_NAME, at most 31 bytes). */
  setName(name: string): void {
    this.#check();
    this.#host.backend.setName(this.#record.fd, name);
  }

  /** What the kernel reports about the buffer (fstat/fdinfo). */
  info(): DmaBufInfo {
    this.#check();
    return this.#host.backend.info(this.#record.fd);
  }

  /**
   * Closes the fd, ending any CPU view still open first (its SYNC_END needs the fd). Safe to call
   * more than once; only the first call reaches the kernel.
   */
  close(): void {
    if (this.#record.closed) return;
    try {
      if (this.#views) for (const view of [...this.#views]) view.end();
    } finally {
      this.#host.release(this.#record);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return bufferLabel(this.#record.fd, this.#layout, this.#record.owner);
  }

  #check(): void {
    if (this.#record.closed) throw new ClosedError(this.toString());
  }
}

/** A CPU view of a mapped buffer between SYNC_START and SYNC_END. */
export class CpuView {
  readonly access: SyncAccess;
  readonly #backend: KernelBackend;
  readonly #fd: number;
  readonly #mapping: Mapping;
  readonly #planes: readonly PlaneView[];
  readonly #label: string;
  readonly #onEnd: () => void;
  #ended = false;

  /** @internal */
  constructor(backend: KernelBackend, fd: number, mapping: Mapping, access: SyncAccess, planes: readonly PlaneView[], label: string, onEnd: () => void) {
    this.#onEnd = onEnd;
    this.#backend = backend;
    this.#fd = fd;
    this.#mapping = mapping;
    this.access = access;
    this.#planes = planes;
    this.#label = label;
  }

  /** The whole buffer. */
  get bytes(): Uint8Array {
    this.#check();
    return new Uint8Array(this.#mapping.bytes);
  }

  /** Plane i's bytes (offset and size from the layout). */
  plane(i: number): Uint8Array {
    this.#check();
    const p = this.#planes[i];
    if (!p) throw new RangeError(`plane ${i}: the buffer has ${this.#planes.length} plane(s)`);
    return new Uint8Array(this.#mapping.bytes, p.offset, p.size);
  }

  /** Ends CPU access (SYNC_END) and unmaps. Safe to call more than once. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      retryOnEintr(() => this.#backend.sync(this.#fd, syncFlags(this.access, 'end')));
    } finally {
      this.#mapping.unmap();
      this.#onEnd();
    }
  }

  [Symbol.dispose](): void {
    this.end();
  }

  #check(): void {
    if (this.#ended) throw new ClosedError(`CPU view of ${this.#label}`);
  }
}
