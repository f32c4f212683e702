// What the service's clients see of heaps: handles, never names. The seeds ask that applications
// never learn a heap's name or meaning, only a handle and properties. The service therefore runs
// its allocator on a view of the platform whose heaps are called "heap #N" (N: the handle
// ListHeaps gives), over a backend that maps each label to the kernel's name at the one place a
// name is needed: the ioctl. Every text the solver writes for a client (rationales, conflicts,
// fixes, refusals, kernel errors) is then written in handles by construction, not scrubbed after.
// The administrator's log says once which handle is which heap.

import { KernelError } from '../kernel/errno.js';
import type { AllocateFlags, DmaBufInfo, HeapInfo, HeapStats, KernelBackend, Mapping } from '../kernel/backend.js';
import type { Platform } from '../constraints/model.js';

/** A client's name for the heap with handle `id`. */
export const heapLabel = (id: number): string => `heap #${id}`;

/** A text as a client reads it: the solver's "heap <name>" with a label is "heap #2", not "heap heap #2". */
export function clientText(text: string): string {
  return text.replace(/\bheap (heap #\d+)/g, '$1');
}

export interface OpaqueView {
  readonly platform: Platform;
  readonly backend: KernelBackend;
  /** label -> the kernel's name, in handle order. */
  readonly names: ReadonlyMap<string, string>;
}

/**
 * The platform and backend the service allocates through: heaps the backend has are labelled in
 * the order the allocator numbers its handles (the platform's order), as are devices' heap links.
 */
export function opaqueView(platform: Platform, backend: KernelBackend): OpaqueView {
  const present = new Set(backend.heaps().flatMap((h) => [h.name, ...(h.aliases ?? [])]));
  const labels = new Map<string, string>();
  let id = 0;
  for (const h of platform.heaps) labels.set(h.name, present.has(h.name) ? heapLabel(++id) : `${heapLabel(0)} (absent ${labels.size + 1})`);
  const label = (name: string) => labels.get(name) ?? name;
  const view: Platform = {
    ...platform,
    heaps: platform.heaps.map((h) => ({ ...h, name: label(h.name) })),
    devices: platform.devices.map((d) => ({ ...d, heaps: d.heaps?.map(label), preferredHeaps: d.preferredHeaps.map(label) })),
  };
  const names = new Map([...labels].filter(([name]) => present.has(name)).map(([name, l]) => [l, name]));
  return { platform: view, backend: new LabelledBackend(backend, names), names };
}

/** A kernel backend whose heaps are known by their labels (the kernel's names stay inside). */
export class LabelledBackend implements KernelBackend {
  readonly kind: string;
  readonly #inner: KernelBackend;
  readonly #names: ReadonlyMap<string, string>;
  readonly #labels: ReadonlyMap<string, string>;

  constructor(inner: KernelBackend, names: ReadonlyMap<string, string>) {
    this.kind = inner.kind;
    this.#inner = inner;
    this.#names = names;
    this.#labels = new Map([...names].map(([l, n]) => [n, l]));
  }

  /** label -> the kernel's name, for the administrator's log. */
  get names(): ReadonlyMap<string, string> {
    return this.#names;
  }

  #name(label: string): string {
    return this.#names.get(label) ?? label;
  }

  /** A kernel error says which heap failed: by its label. */
  #relabel<T>(call: () => T): T {
    try {
      return call();
    } catch (err) {
      if (err instanceof KernelError && err.heap !== undefined && this.#labels.has(err.heap)) {
        const label = this.#labels.get(err.heap)!;
        const relabelled = new KernelError(err.op, err.errno, { heap: label, ...(err.fd !== undefined ? { fd: err.fd } : {}) });
        relabelled.message = err.message.replace(`heap ${err.heap}`, `heap ${label}`);
        throw relabelled;
      }
      throw err;
    }
  }

  heaps(): HeapInfo[] {
    return this.#inner.heaps().flatMap((h) => {
      const label = this.#labels.get(h.name) ?? h.aliases?.map((a) => this.#labels.get(a)).find((l) => l !== undefined);
      return label === undefined ? [] : [{ ...h, name: label, path: `${this.kind}:${label}`, aliases: [] }];
    });
  }

  heapStats(heap: string): HeapStats {
    return this.#relabel(() => this.#inner.heapStats(this.#name(heap)));
  }

  allocate(heap: string, len: number, flags?: AllocateFlags): number {
    return this.#relabel(() => this.#inner.allocate(this.#name(heap), len, flags));
  }

  dup(fd: number): number {
    return this.#inner.dup(fd);
  }

  close(fd: number): void {
    this.#inner.close(fd);
  }

  map(fd: number): Mapping {
    return this.#inner.map(fd);
  }

  sync(fd: number, flags: number): void {
    this.#inner.sync(fd, flags);
  }

  setName(fd: number, name: string): void {
    this.#inner.setName(fd, name);
  }

  info(fd: number): DmaBufInfo {
    const info = this.#inner.info(fd);
    return { ...info, exporter: this.#labels.get(info.exporter) ?? info.exporter };
  }

  openFds(): number[] {
    return this.#inner.openFds();
  }

  /** The inner report by label, without who holds the heap's buffers: other users' processes are not a client's to see. */
  outOfMemoryReport(heap: string, model: Parameters<NonNullable<KernelBackend['outOfMemoryReport']>>[1], size: number, count: number): string[] {
    const name = this.#name(heap);
    const lines = this.#inner.outOfMemoryReport?.(name, { ...model, name }, size, count) ?? [];
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return lines.filter((l) => !/^(held by:|no process holds)/.test(l)).map((l) => l.replace(new RegExp(`(?<![\\w,-])${escaped}(?![\\w,-])`, 'g'), heap));
  }
}
