// A dma-buf handed to the application: its fd, layout and heap handle, CPU mapping with
// DMA_BUF_IOCTL_SYNC around access, and close() / Symbol.dispose. Every fd is closed exactly once:
// close() is idempotent and never reaches the kernel twice; a buffer garbage-collected while open
// is closed by a FinalizationRegistry, with a warning naming it.

import { syncFlags, type DmaBufInfo, type KernelBackend, type Mapping, type SyncAccess } from '../kernel/backend.js';
import { ClosedError } from './errors.js';
import type { HeapHandle } from './heap-handle.js';
import { retryOnEintr } from './retry.js';

export interface PlaneView {
  readonly offset: number;
  readonly pitch: number;
  readonly size: number;
}

/** @internal What a buffer needs from the allocator that made it. */
export interface BufferHost {
  readonly backend: KernelBackend;
  /** Closes the fd and forgets the live record. Called exactly once per buffer. */
  release(fd: number): void;
}

interface LeakRecord {
  readonly host: BufferHost;
  readonly fd: number;
  readonly label: string;
  readonly state: { closed: boolean };
}

const leaks = new FinalizationRegistry<LeakRecord>((record) => {
  if (record.state.closed) return;
  record.state.closed = true;
  process.emitWarning(`udalloc: ${record.label} was garbage-collected while open; closing fd ${record.fd}. Call close() or hold it with "using".`, { code: 'UDALLOC_LEAKED_BUFFER' });
  record.host.release(record.fd);
});

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
}

export class DmaBuffer implements BufferLayout {
  readonly format: string;
  readonly fourcc: number;
  readonly modifier: string;
  readonly modifierValue: bigint;
  readonly width: number;
  readonly height: number;
  readonly planes: readonly PlaneView[];
  readonly size: number;
  readonly heap: HeapHandle;
  readonly owner: string;
  readonly #host: BufferHost;
  readonly #fd: number;
  readonly #state: { closed: boolean };
  readonly #views = new Set<CpuView>();

  /** @internal Made by Allocator.allocate(). */
  constructor(host: BufferHost, fd: number, layout: BufferLayout, heap: HeapHandle, owner: string, state: { closed: boolean }) {
    this.#state = state;
    this.format = layout.format;
    this.fourcc = layout.fourcc;
    this.modifier = layout.modifier;
    this.modifierValue = layout.modifierValue;
    this.width = layout.width;
    this.height = layout.height;
    this.planes = layout.planes;
    this.size = layout.size;
    this.heap = heap;
    this.owner = owner;
    this.#host = host;
    this.#fd = fd;
    leaks.register(this, { host, fd, label: this.toString(), state: this.#state }, this);
  }

  /** The dma-buf file descriptor, to pass to V4L2, DRM, EGL... It stays owned by this buffer. */
  get fd(): number {
    this.#check();
    return this.#fd;
  }

  get closed(): boolean {
    return this.#state.closed;
  }

  /**
   * Maps the buffer for CPU access and begins it (DMA_BUF_IOCTL_SYNC START with `access`). End the
   * access with view.end() or a `using` declaration; that syncs END and unmaps.
   */
  map(access: SyncAccess = 'readwrite'): CpuView {
    this.#check();
    const backend = this.#host.backend;
    const mapping = retryOnEintr(() => backend.map(this.#fd));
    try {
      retryOnEintr(() => backend.sync(this.#fd, syncFlags(access, 'start')));
    } catch (err) {
      mapping.unmap();
      throw err;
    }
    const view = new CpuView(backend, this.#fd, mapping, access, this.planes, this.toString(), () => this.#views.delete(view));
    this.#views.add(view);
    return view;
  }

  /** Names the buffer in fdinfo and debugfs (DMA_BUF_SET_NAME, at most 31 bytes). */
  setName(name: string): void {
    this.#check();
    this.#host.backend.setName(this.#fd, name);
  }

  /** What the kernel reports about the buffer (fstat/fdinfo). */
  info(): DmaBufInfo {
    this.#check();
    return this.#host.backend.info(this.#fd);
  }

  /**
   * Closes the fd, ending any CPU view still open first (its SYNC_END needs the fd). Safe to call
   * more than once; only the first call reaches the kernel.
   */
  close(): void {
    if (this.#state.closed) return;
    try {
      for (const view of [...this.#views]) view.end();
    } finally {
      this.#state.closed = true;
      leaks.unregister(this);
      this.#host.release(this.#fd);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return `DmaBuffer(fd ${this.#fd}, ${this.format} ${this.modifier} ${this.width}x${this.height}, ${this.size} bytes, owner ${this.owner})`;
  }

  #check(): void {
    if (this.#state.closed) throw new ClosedError(this.toString());
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
