// connect(): the udalloc service as a library. It answers the calls open()'s Allocator answers
// (negotiate, allocate, heaps, stats, close, `using`), so a Node program switches with one line:
//   const udalloc = await connect();          // instead of open()
//   const plan = await udalloc.negotiate({...}); // await works on both
// Buffers arrive as fds (dma-bufs, or sealed memfds from a service on the simulated kernel) and are
// DmaBuffers like any other: map(), fd, close().

import { parse as parseYaml } from 'yaml';
import { InputError } from '../errors.js';
import type { HeapKind } from '../constraints/model.js';
import type { RequestFields } from '../constraints/load.js';
import { bufferLabel, DmaBuffer, type BufferHost, type BufferLayout, type BufferRecord } from '../allocator/buffer.js';
import { HeapHandle } from '../allocator/heap-handle.js';
import { LeakWatch } from '../allocator/leak-watch.js';
import { bufferName, framesOf, planeBufferLayouts, PlanLayout, type PlanChoice } from '../allocator/plan.js';
import { ReceivedBufferBackend } from '../kernel/received.js';
import { connectBus, dbus, type Bus, type DBusVariant } from './bus.js';
import { BUS_NAME, DETAILS_PREFIX, ERRORS, INTERFACE, OBJECT_PATH, type ErrorName } from './interface.js';
import type { WireChoice, WirePlan } from './wire.js';

export interface ConnectOptions {
  /** "system" (default), "session", or a D-Bus address. */
  readonly bus?: string;
  /** The service's well-known name (default org.udalloc.Allocator1). */
  readonly name?: string;
  /** How long to wait for the bus and the service to come up (both started a moment ago); default 0. */
  readonly waitMs?: number;
}

/** A named error from the service: `error` is its short name, `details` the JSON it carried. */
export class ServiceError extends Error {
  constructor(
    readonly error: ErrorName | string,
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** A plan the service negotiated: the same layout fields as open()'s Plan. */
export class ServicePlan extends PlanLayout {
  readonly alternatives: readonly PlanChoice[];
  readonly rationale: readonly string[];
  /** The request text the service negotiated (allocate() sends it again). */
  readonly request: string;

  /** @internal Made by ServiceAllocator.negotiate(). */
  constructor(wire: WirePlan, request: string, heapOf: (choice: WireChoice) => HeapHandle) {
    super(choiceOf(wire, heapOf));
    this.alternatives = wire.alternatives.map((a) => choiceOf(a, heapOf));
    this.rationale = wire.rationale;
    this.request = request;
  }
}

function choiceOf(w: WireChoice, heapOf: (choice: WireChoice) => HeapHandle): PlanChoice {
  return { format: w.format, fourcc: w.fourcc, modifier: w.modifier, modifierValue: BigInt(w.modifierValue), width: w.width, height: w.height, planes: w.planes, size: w.size, cpu: w.cpu, heap: heapOf(w), buffers: w.buffers, alignment: w.alignment, count: w.count };
}

export type ServiceBuffers = DmaBuffer[] & { readonly used: PlanChoice; readonly frames?: ReadonlyArray<readonly DmaBuffer[]> };

/** A pipeline the service allocated: each ring with its buffers, and the plan's JSON (steps, pools, bytes). */
export interface ServicePipeline {
  readonly rings: ReadonlyArray<{ readonly edge: string; readonly part: 'edge' | 'in' | 'out'; readonly producer: string; readonly consumers: readonly string[]; readonly buffers: ServiceBuffers }>;
  readonly plan: Record<string, unknown>;
}

export class ServiceAllocator {
  readonly bus: Bus;
  readonly backend: ReceivedBufferBackend;
  readonly #name: string;
  readonly #handles = new Map<number, HeapHandle>();
  readonly #live = new Set<BufferRecord>();
  readonly #host: BufferHost;
  #closed = false;

  /** @internal Use connect(). */
  constructor(bus: Bus, name: string) {
    this.bus = bus;
    this.#name = name;
    this.backend = new ReceivedBufferBackend();
    const leaks = new LeakWatch((record) => {
      process.emitWarning(`udalloc: ${bufferLabel(record.fd, record.layout, record.owner)} from the service was garbage-collected while open; closing fd ${record.fd}. Call close() or hold it with "using".`, { code: 'UDALLOC_LEAKED_BUFFER' });
      this.#host.release(record);
    });
    this.#host = {
      backend: this.backend,
      track: (buffer, record) => leaks.track(buffer, record),
      release: (record) => {
        record.closed = true;
        leaks.forget(record);
        this.#live.delete(record);
        this.backend.close(record.fd);
      },
    };
  }

  /** The service's heaps as opaque handles (from the last ListHeaps). */
  heaps(): HeapHandle[] {
    return [...this.#handles.values()];
  }

  /** Reconciles the devices' constraints for a request on the service; a Conflict ServiceError when none. */
  async negotiate(request: RequestFields | string): Promise<ServicePlan> {
    const text = requestText(request);
    const [reply] = await this.#call('Negotiate', 's', [text]);
    return new ServicePlan(JSON.parse(reply as string) as WirePlan, text, (c) => this.#handle(c));
  }

  /** The plan or the conflict, with every format's and heap's verdict (the JSON `explain --json` prints). */
  async explain(request: RequestFields | string): Promise<Record<string, unknown>> {
    const [reply] = await this.#call('Explain', 's', [requestText(request)]);
    return JSON.parse(reply as string) as Record<string, unknown>;
  }

  /**
   * Allocates the plan's buffers on the service; they arrive as fds this process owns. A bus message
   * carries a bounded number of fds (dbus-daemon's max_message_unix_fds, 16 on Linux since dbus
   * 1.8.8), so the service hands out at most that many per Allocate call: a larger count is asked
   * for in several calls of the same request, and every part must come in the same heap and layout
   * (else every buffer received is closed and the error says so).
   */
  async allocate(plan: ServicePlan, options: { readonly name?: string; readonly owner?: string } = {}): Promise<ServiceBuffers> {
    if (!(plan instanceof ServicePlan)) throw new InputError('allocate(plan): expected a plan from this connection\'s negotiate()', 'plan', plan);
    try {
      return await this.#allocatePart(plan.request, options, 0);
    } catch (err) {
      const limit = err instanceof InputError && err.field === 'count' ? perCallLimit(err) : undefined;
      if (limit === undefined) throw err;
      return await this.#allocateInParts(plan, options, limit);
    }
  }

  async #allocateInParts(plan: ServicePlan, options: { readonly name?: string; readonly owner?: string }, limit: number): Promise<ServiceBuffers> {
    const fields = parseYaml(plan.request) as Record<string, unknown>;
    const parts: ServiceBuffers[] = [];
    try {
      for (let given = 0; given < plan.count; given += limit) {
        const part = await this.#allocatePart(JSON.stringify({ ...fields, count: Math.min(limit, plan.count - given) }), options, given);
        parts.push(part);
        const [first, now] = [layoutKey(parts[0]!.used), layoutKey(part.used)];
        if (now !== first) throw new ServiceError('Internal', `the ${plan.count} buffers took ${parts.length} Allocate calls (at most ${limit} fds per message) and the parts differ (${first} then ${now}): the heap filled between the calls; ask for ${limit} or fewer at a time`, { limit, first, then: now });
      }
    } catch (err) {
      for (const part of parts) for (const b of part) b.close();
      throw err;
    }
    const buffers = parts.flat() as DmaBuffer[] & { used: PlanChoice; frames?: ReadonlyArray<readonly DmaBuffer[]> };
    const frames = parts.flatMap((p) => p.frames ?? []);
    buffers.used = { ...parts[0]!.used, count: frames.length > 0 ? frames.length : buffers.length };
    if (frames.length > 0) buffers.frames = frames;
    return buffers;
  }

  async #allocatePart(request: string, options: { readonly name?: string; readonly owner?: string }, first: number): Promise<ServiceBuffers> {
    const opts: Record<string, DBusVariant> = {};
    if (options.name !== undefined) opts['name'] = new dbus.Variant('s', options.name);
    const [reply, fds] = await this.#call('Allocate', 'sa{sv}', [request, opts]);
    const wire = JSON.parse(reply as string) as WireChoice & { bufferFds?: 'memfd' | 'dma-buf' };
    return this.#adopt(wire, fds as number[], wire.bufferFds ?? 'dma-buf', options.owner ?? 'service', options.name, first);
  }

  /** The received fds as buffers of the wire layout, named `name-N` from `first`. */
  #adopt(wire: WireChoice, fds: readonly number[], kind: 'memfd' | 'dma-buf', owner: string, name: string | undefined, first: number): ServiceBuffers {
    const used = choiceOf(wire, (c) => this.#handle(c));
    // One layout per plane of a multi-planar format (a buffer each), else the one layout.
    const layouts: BufferLayout[] = planeBufferLayouts(used);
    const planes = layouts.length;
    const buffers = fds.map((received, n) => {
      const fd = this.backend.receive(received, `heap #${used.heap.id}`, kind);
      const record: BufferRecord = { fd, layout: layouts[n % planes]!, heap: used.heap, owner, name: name === undefined ? undefined : bufferName(name, first + Math.floor(n / planes), planes === 1 ? undefined : n % planes), closed: false, watched: false, slot: -1 };
      this.#live.add(record);
      return new DmaBuffer(this.#host, record);
    }) as DmaBuffer[] & { used: PlanChoice; frames?: DmaBuffer[][] };
    if (planes > 1) buffers.frames = framesOf(buffers, planes);
    buffers.used = used;
    return buffers;
  }

  /**
   * Plans a pipeline (the text `udalloc pipeline plan FILE` takes) on the service's platform and
   * allocates every ring together: the rings in the order they were placed, each with its buffers,
   * and the plan as the service reports it (steps, pools by heap handle). All rings or none.
   */
  async allocatePipeline(pipeline: string): Promise<ServicePipeline> {
    if (typeof pipeline !== 'string') throw new InputError('allocatePipeline(pipeline): expected the pipeline\'s YAML or JSON text', 'pipeline', pipeline);
    const [reply, fds] = await this.#call('AllocatePipeline', 'sa{sv}', [pipeline, {}]);
    const wire = JSON.parse(reply as string) as Record<string, unknown> & { rings: Array<WireChoice & { edge: string; part: 'edge' | 'in' | 'out'; producer: string; consumers: string[]; fds: number[] }>; bufferFds: 'memfd' | 'dma-buf' };
    const all = fds as number[];
    const rings = wire.rings.map((r) => ({ edge: r.edge, part: r.part, producer: r.producer, consumers: r.consumers, buffers: this.#adopt(r, r.fds.map((i) => all[i]!), wire.bufferFds, 'service', r.part === 'edge' ? r.edge : `${r.edge}-${r.part}`, 0) }));
    const { rings: _rings, bufferFds: _kind, ...plan } = wire;
    return { rings, plan };
  }

  /** What the service charges this caller: bytes and quotas per heap kind, buffers still held. */
  async usage(): Promise<Record<string, unknown>> {
    const [reply] = await this.#call('GetUsage', '', []);
    return JSON.parse(reply as string) as Record<string, unknown>;
  }

  /** The buffers this connection holds open. */
  stats(): { backend: string; buffers: Array<{ fd: number; heap: HeapHandle; size: number; format: string; modifier: string; owner: string; name: string | undefined }> } {
    return { backend: 'service', buffers: [...this.#live].map((r) => ({ fd: r.fd, heap: r.heap, size: r.layout.size, format: r.layout.format, modifier: r.layout.modifier, owner: r.owner, name: r.name })) };
  }

  /** Closes every buffer still open and the bus connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const record of [...this.#live]) if (!record.closed) this.#host.release(record);
    this.bus.disconnect();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The service's heaps now, as ListHeaps answers: handle, kind, capacity, free, and whether the policy lets this caller use it. */
  async heapList(): Promise<Array<{ heap: HeapHandle; kind: HeapKind; capacity: number; free: number; contiguous: boolean; cpuAccess: boolean; reachable: boolean }>> {
    const rows = await this.refreshHeaps();
    return rows.map((h) => ({ heap: this.#handles.get(h['handle']!.value as number)!, kind: h['kind']!.value as HeapKind, capacity: Number(h['capacity']!.value), free: Number(h['free']!.value), contiguous: h['contiguous']!.value as boolean, cpuAccess: h['cpu-access']!.value as boolean, reachable: h['reachable']!.value as boolean }));
  }

  /** @internal */
  async refreshHeaps(): Promise<Array<Record<string, { value: unknown }>>> {
    const [heaps] = await this.#call('ListHeaps', '', []);
    for (const h of heaps as Array<Record<string, { value: unknown }>>) {
      const id = h['handle']!.value as number;
      if (this.#handles.has(id)) continue;
      this.#handles.set(id, new HeapHandle(id, { name: `service heap #${id}`, kind: h['kind']!.value as HeapKind, base: undefined, end: undefined, capacity: Number(h['capacity']!.value), contiguous: h['contiguous']!.value as boolean, cpuAccess: h['cpu-access']!.value as boolean, path: `dbus:${this.#name}` }));
    }
    return heaps as Array<Record<string, { value: unknown }>>;
  }

  #handle(choice: WireChoice): HeapHandle {
    let handle = this.#handles.get(choice.heap);
    if (!handle) {
      // A heap the service gained after connect(): known by what the plan says of it.
      handle = new HeapHandle(choice.heap, { name: `service heap #${choice.heap}`, kind: choice.heapKind, base: undefined, end: undefined, capacity: 0, contiguous: choice.heapKind !== 'system', cpuAccess: choice.cpu !== 'none', path: `dbus:${this.#name}` });
      this.#handles.set(choice.heap, handle);
    }
    return handle;
  }

  async #call(member: string, signature: string, body: unknown[]): Promise<unknown[]> {
    if (this.#closed) throw new InputError('the service connection is closed', 'connection');
    try {
      const reply = await this.bus.call(new dbus.Message({ destination: this.#name, path: OBJECT_PATH, interface: INTERFACE, member, signature, body }));
      return reply?.body ?? [];
    } catch (err) {
      throw serviceErrorOf(err);
    }
  }
}

/** The per-call buffer limit a BadRequest on count names (details.limit), if that is what it was. */
function perCallLimit(err: InputError & { details?: Record<string, unknown> }): number | undefined {
  const limit = (err as { limit?: unknown }).limit;
  return typeof limit === 'number' && limit > 0 ? limit : undefined;
}

/** What must match between the parts of a set allocated in several calls. */
function layoutKey(c: PlanChoice): string {
  return `heap #${c.heap.id}, ${c.format} ${c.modifier}, ${c.planes.map((p) => `${p.offset}/${p.pitch}`).join(' ')}, ${c.size} bytes`;
}

function requestText(request: RequestFields | string): string {
  if (typeof request === 'string') return request;
  if (request === null || typeof request !== 'object') throw new InputError('negotiate(request): expected the request fields ({ devices, width, height, ... }) or a request text', 'request', request);
  return JSON.stringify(request);
}

const SHORT_NAMES = new Map<string, string>(Object.entries(ERRORS).map(([short, full]) => [full, short]));

/**
 * A D-Bus error reply as a ServiceError with its short name and the details line parsed; a bad
 * request is an InputError naming the field, as open() throws.
 */
export function serviceErrorOf(err: unknown): unknown {
  if (!(err instanceof dbus.DBusError)) return err;
  const text = err.text ?? '';
  const at = text.lastIndexOf(`\n${DETAILS_PREFIX}`);
  let details: Record<string, unknown> = {};
  let message = text;
  if (at >= 0) {
    message = text.slice(0, at);
    try {
      details = JSON.parse(text.slice(at + 1 + DETAILS_PREFIX.length)) as Record<string, unknown>;
    } catch {
      message = text;
    }
  }
  const name = SHORT_NAMES.get(err.type) ?? err.type;
  if (name === 'BadRequest') return Object.assign(new InputError(message, typeof details['field'] === 'string' ? details['field'] : undefined, details['value']), typeof details['limit'] === 'number' ? { limit: details['limit'] } : {});
  return new ServiceError(name, message, details);
}

/** Connects to the udalloc service (`udalloc serve`) on a bus: an allocator whose buffers come as fds. */
export async function connect(options: ConnectOptions = {}): Promise<ServiceAllocator> {
  const waitMs = options.waitMs ?? 0;
  const deadline = Date.now() + waitMs;
  const bus = await connectBus(options.bus, { waitMs });
  const allocator = new ServiceAllocator(bus, options.name ?? BUS_NAME);
  for (;;) {
    try {
      await allocator.refreshHeaps();
      return allocator;
    } catch (err) {
      const unknown = err instanceof ServiceError && err.error === 'org.freedesktop.DBus.Error.ServiceUnknown';
      // A service started a moment ago may not own its name yet.
      if (unknown && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      bus.disconnect();
      if (unknown) throw new Error(`no udalloc service ${options.name ? `named ${options.name} ` : ''}on the bus (${options.bus ?? 'system'})${waitMs > 0 ? ` after ${waitMs / 1000} s` : ''}: start one with "udalloc serve${options.bus ? ` --bus ${options.bus}` : ''}${options.name ? ` --name ${options.name}` : ''}"`);
      throw err;
    }
  }
}
