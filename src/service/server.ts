// `udalloc serve`: the allocator as a D-Bus service. Clients send the request text the CLI takes;
// the service negotiates, applies its policy (heap kinds a caller may reach, byte quotas, the CMA
// reserve), allocates, and replies with the plan and one Unix fd per buffer. Every buffer is charged
// to the caller the bus names (uid and pid from the daemon, not from the message) until no process
// holds it. Every failure is a named error; its message's last line is a JSON object of details.

import { closeSync, fstatSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { Request } from '../constraints/model.js';
import { parseRequest } from '../constraints/load.js';
import { formatBytes } from '../constraints/units.js';
import { Allocator } from '../allocator/allocator.js';
import { selectBackend, type BackendChoice } from '../allocator/backend-select.js';
import { selectPlatform } from '../platform/select.js';
import { clientText, LabelledBackend, opaqueView } from './opaque-heaps.js';
import type { Platform } from '../constraints/model.js';
import type { DmaBuffer } from '../allocator/buffer.js';
import { AllocationError, ConflictError } from '../allocator/errors.js';
import { isKernelError } from '../kernel/errno.js';
import { allocatesOnEmptyHeaps } from '../kernel/sim/index.js';
import { narrowPlan, type Plan, type PlanChoice } from '../allocator/plan.js';
import { negotiate } from '../solver/negotiate.js';
import { conflictJson, negotiationJson } from '../solver/json.js';
import { explainChoices } from '../solver/explain-choices.js';
import { busSocket, connectBus, dbus, sendWithFds, type Bus, type DBusMessage } from './bus.js';
import { handOutFor, type HandOut } from './hand-out.js';
import { callerOf, clientOf, readAccounts, type Caller } from './identity.js';
import { BUS_NAME, DETAILS_PREFIX, ERRORS, INTERFACE, INTROSPECTION_XML, METHODS, OBJECT_PATH, type ErrorName, type MethodName } from './interface.js';
import { CloseWatch } from './close-watch.js';
import { Ledger, type Grant, type HolderScan, type Reservation } from './ledger.js';
import { admit, mayReach, quotaFor, type Policy, type Refusal } from './policy.js';
import { fileKey, holdersOf, taggedBuffers } from './usage.js';
import { chargeTag } from './charge-tag.js';
import { standInWord } from './stand-in.js';
import { choiceWire, planWire } from './wire.js';
import { parsePipeline } from '../pipeline/description.js';
import { planPipeline } from '../pipeline/planner.js';
import { ringName, ringPlan } from '../pipeline/allocate.js';
import { conflictJson as pipelineConflictJson, conflictText, planJson } from '../pipeline/report.js';

export interface ServeOptions {
  /** "system" (default), "session" or a D-Bus address. */
  readonly bus?: string;
  /** The allocator the service hands buffers out of (its platform and kernel backend). */
  readonly allocator: Allocator;
  readonly policy: Policy;
  /** The well-known name to own (default org.udalloc.Allocator1). */
  readonly name?: string;
  /** How long a sent fd may be in a socket queue, invisible to /proc, before it counts as gone (ms). */
  readonly graceMs?: number;
  /** How often held buffers are rescanned while any are charged (ms). */
  readonly scanIntervalMs?: number;
  /** Largest request text accepted (bytes). */
  readonly maxRequestBytes?: number;
  /** Most buffers one Allocate call may ask for. */
  readonly maxBuffersPerCall?: number;
  /** Who holds which files (default: a /proc scan); tests substitute nothing here but the root. */
  readonly scan?: HolderScan;
  /** One line per event worth a log (start, refusals, releases); default none. */
  readonly log?: (line: string) => void;
  /** How long to wait for a bus that is not up yet (its daemon started at the same moment); default 0. */
  readonly waitForBusMs?: number;
}

/**
 * The allocator a service hands buffers out of. On the simulated kernel the clients' memfds stand
 * for the buffers and the service keeps one simulated fd per buffer handed out: the simulated
 * process gets no RLIMIT_NOFILE of its own to run into (real fds are limited by the real one).
 * The service closes every buffer itself, so no leak watch.
 */
export function openServiceAllocator(platform: string | Platform | undefined, backend: BackendChoice = 'auto'): Allocator {
  const real = typeof platform === 'object' ? platform : selectPlatform(platform);
  const selected = selectBackend(real, backend, { maxFds: 2 ** 30 });
  // Clients know heaps by handle only: the allocator sees "heap #N" (opaque-heaps.ts).
  const view = opaqueView(real, selected.backend);
  // The reason the log gives is the selection's, not "supplied by the caller".
  return new Allocator(view.platform, view.backend, selected.reason, undefined, false);
}

/** The default per-call buffer limit: dbus-daemon's max_message_unix_fds, 16 on Linux since dbus 1.8.8 (CVE-2014-3636). */
export const MAX_BUFFERS_PER_CALL = 16;
const MAX_REQUEST_BYTES = 64 * 1024;
/** Parsed requests kept (all dropped when full: a bound, not an LRU; clients repeat few shapes). */
const REQUEST_CACHE = 1024;

/** A reply the handlers throw: becomes a named D-Bus error (a client sees it as a ServiceError). */
class ErrorReply extends Error {
  constructor(
    readonly error: ErrorName,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class AllocatorService {
  readonly bus: Bus;
  readonly allocator: Allocator;
  readonly policy: Policy;
  readonly ledger: Ledger;
  readonly #options: ServeOptions;
  readonly #callers = new Map<string, Promise<Caller | undefined>>();
  readonly #accounts = readAccounts();
  readonly #timer: NodeJS.Timeout;
  /** How buffers reach clients (the dma-buf, or a stand-in on the simulated kernel). */
  readonly #handOut: HandOut;
  /** Calls being served, so stop() can wait for them. */
  readonly #running = new Set<Promise<void>>();
  readonly #closes = new CloseWatch();
  /** Parsed requests by connection and text (see #request). */
  readonly #requests = new Map<string, Request>();
  #stopped = false;

  private constructor(bus: Bus, options: ServeOptions) {
    this.bus = bus;
    this.allocator = options.allocator;
    this.policy = options.policy;
    this.#options = options;
    this.#handOut = handOutFor(options.allocator.backend.kind);
    // The service's own process is scanned too: its copies are closed once sent (before that a grant is
    // in flight anyway), and a client may live in the same process.
    this.ledger = new Ledger(options.scan ?? ((wanted) => holdersOf(wanted)), options.graceMs ?? 2000);
    this.#timer = setInterval(() => this.#refresh('timer', 'always'), options.scanIntervalMs ?? 5000);
    this.#timer.unref();
  }

  /** Connects to the bus, owns the name, and serves until stop(). */
  static async start(options: ServeOptions): Promise<AllocatorService> {
    const bus = await connectBus(options.bus, { waitMs: options.waitForBusMs ?? 0 });
    const service = new AllocatorService(bus, options);
    // This interface takes no fds: any a client sends are closed on arrival, never kept.
    busSocket(bus)?.on('fds', (fds: number[]) => {
      for (const fd of fds) {
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
      }
    });
    bus.addMethodHandler((msg: DBusMessage) => service.#dispatch(msg));
    bus.on('error', (err) => options.log?.(`bus error: ${err instanceof Error ? err.message : String(err)}`));
    // A client's connection closing (exit, crash, kill) ends the grace of the buffers in flight to it.
    await bus.call(new dbus.Message({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'AddMatch', signature: 's', body: ["type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged'"] }));
    bus.on('message', (msg: DBusMessage) => {
      if (msg.type === dbus.MessageType.SIGNAL && msg.member === 'NameOwnerChanged' && msg.sender === 'org.freedesktop.DBus') {
        const [name, , newOwner] = msg.body as [string, string, string];
        if (name.startsWith(':') && newOwner === '') {
          // (The rescan below is a full one: a client that is gone may have passed buffers on.)
          service.#callers.delete(name);
          for (const key of service.#requests.keys()) if (key.startsWith(`${name}\0`)) service.#requests.delete(key);
          service.ledger.connectionGone(name);
          setImmediate(() => service.#refresh('client gone', 'always'));
        }
      }
    });
    const reply = await bus.requestName(options.name ?? BUS_NAME, dbus.NameFlag.DO_NOT_QUEUE);
    if (reply !== dbus.RequestNameReply.PRIMARY_OWNER) {
      bus.disconnect();
      throw new Error(`the name ${options.name ?? BUS_NAME} is already owned on the bus (another udalloc serve is running)`);
    }
    const adopted = service.#adoptHeld();
    const backend = options.allocator.backend;
    const handles = backend instanceof LabelledBackend ? `; clients see ${[...backend.names].map(([label, name]) => `${label} = ${name}`).join(', ')}` : '';
    options.log?.(`serving ${options.name ?? BUS_NAME} at ${OBJECT_PATH} on the ${backend.kind} backend (${options.allocator.platform.name})${handles}${adopted > 0 ? `; ${adopted} buffer(s) granted before a restart and still held, charged again` : ''}`);
    return service;
  }

  /**
   * Charges again what an earlier run of the service granted and some process still holds: each
   * buffer's name carries the uid and heap kind it was charged to (charge-tag.ts), so a restart
   * (a crash, a kill, an upgrade) loses no charge and quotas still count those buffers until their
   * holders let go. A name any holder could have changed only counts when a process of the uid it
   * names holds the buffer. Returns how many were charged.
   */
  #adoptHeld(): number {
    const known = new Set(this.ledger.grants().map((g) => g.key));
    const now = Date.now();
    let adopted = 0;
    for (const b of taggedBuffers()) {
      if (known.has(fileKey(b.file))) continue;
      if (!b.uids.includes(b.uid)) {
        this.#options.log?.(`a buffer named as granted to uid ${b.uid} is held only by other users (pids ${b.pids.join(', ')}): not charged`);
        continue;
      }
      const heap = this.allocator.heaps().find((h) => (b.heap !== undefined ? standInWord(h.describe().name) === b.heap : h.describe().kind === b.kind));
      const caller: Caller = { ...clientOf(b.uid, undefined, this.#accounts), connection: `(granted before a restart; held by pid ${b.pids.join(', ')})`, pid: b.pids[0] };
      const grant = this.ledger.add(b.file, { kind: b.kind, heap: heap?.id ?? 0, size: b.size, caller, release: this.#holdSpace(heap?.describe().name, b.size) });
      grant.sentAt = now;
      grant.landed = true;
      adopted++;
    }
    return adopted;
  }

  /**
   * On the simulated kernel the heap space of a buffer granted before a restart went with the old
   * process: an adopted stand-in takes that much space again until it is released. A real kernel
   * still has the buffer: nothing to do.
   */
  #holdSpace(heap: string | undefined, size: number): () => void {
    const backend = this.allocator.backend;
    if (backend.kind !== 'sim' || heap === undefined) return () => {};
    try {
      const fd = backend.allocate(heap, size);
      return () => backend.close(fd);
    } catch (err) {
      this.#options.log?.(`an adopted buffer's ${size} bytes do not fit in ${heap} any more (${err instanceof Error ? err.message : String(err)}): charged, not held`);
      return () => {};
    }
  }

  /** Stops serving: waits for calls in progress, releases every buffer the service still keeps, disconnects. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    await Promise.allSettled([...this.#running]);
    this.ledger.releaseAll();
    this.#closes.dispose();
    this.bus.disconnect();
  }

  /** The method handler: true when the message was for this object (answered now or later). */
  #dispatch(msg: DBusMessage): boolean {
    if (msg.path !== OBJECT_PATH || this.#stopped) return false;
    if (msg.interface === 'org.freedesktop.DBus.Introspectable' && msg.member === 'Introspect') {
      this.bus.send(dbus.Message.newMethodReturn(msg, 's', [INTROSPECTION_XML]));
      return true;
    }
    if (msg.interface !== undefined && msg.interface !== INTERFACE) return false;
    if (!Object.hasOwn(METHODS, msg.member)) {
      this.#sendError(msg, new ErrorReply('UnknownMethod', `${INTERFACE} has no method ${JSON.stringify(msg.member)}; it has ${Object.keys(METHODS).join(', ')}`));
      return true;
    }
    const member = msg.member as MethodName;
    const signature = msg.signature ?? '';
    if (signature !== METHODS[member].in) {
      this.#sendError(msg, new ErrorReply('InvalidArgs', `${member} takes (${METHODS[member].in}), the call carried (${signature})`, { expected: METHODS[member].in, got: signature }));
      return true;
    }
    const call = this.#serve(msg, member).finally(() => this.#running.delete(call));
    this.#running.add(call);
    return true;
  }

  async #serve(msg: DBusMessage, member: MethodName): Promise<void> {
    try {
      const caller = await this.#caller(msg.sender);
      switch (member) {
        case 'Negotiate': {
          const plan = this.#negotiate(this.#request(msg.body[0], caller));
          // Only plans in heaps the caller may use (quotas are Allocate's to judge, on what is held then).
          const usable = narrowPlan(plan, (c) => mayReach(this.policy, caller, c.heap.describe().kind).ok);
          if (!usable) throw this.#refusalError([...new Set([plan, ...plan.alternatives].map((c) => c.heap.describe().kind))].map((kind) => ({ error: 'PolicyDenied' as const, message: (mayReach(this.policy, caller, kind) as { why: string }).why })), caller, plan);
          this.bus.send(dbus.Message.newMethodReturn(msg, 's', [toJson(planWire(usable))]));
          return;
        }
        case 'Explain': {
          const request = this.#request(msg.body[0], caller);
          const result = negotiate(this.allocator.platform, request, { check: allocatesOnEmptyHeaps });
          const choices = explainChoices(this.allocator.platform, request, result);
          this.bus.send(dbus.Message.newMethodReturn(msg, 's', [toJson({ ...negotiationJson(result, request), choices })]));
          return;
        }
        case 'Allocate':
          return await this.#allocate(msg, caller);
        case 'AllocatePipeline':
          return await this.#allocatePipeline(msg, caller);
        case 'ListHeaps': {
          const heaps = this.allocator.stats().heaps.map((h) => {
            const d = h.heap.describe();
            return {
              handle: new dbus.Variant('u', h.heap.id),
              kind: new dbus.Variant('s', d.kind),
              capacity: new dbus.Variant('t', BigInt(h.capacity)),
              free: new dbus.Variant('t', BigInt(h.free)),
              contiguous: new dbus.Variant('b', d.contiguous),
              'cpu-access': new dbus.Variant('b', d.cpuAccess),
              reachable: new dbus.Variant('b', mayReach(this.policy, caller, d.kind).ok),
            };
          });
          this.bus.send(dbus.Message.newMethodReturn(msg, 'aa{sv}', [heaps]));
          return;
        }
        case 'GetUsage':
          this.#refresh('usage asked', 'always');
          this.bus.send(dbus.Message.newMethodReturn(msg, 's', [JSON.stringify(this.usageOf(caller))]));
          return;
      }
    } catch (err) {
      this.#sendError(msg, asErrorReply(err));
    }
  }

  /** A caller's charges: its uid's bytes and quotas per heap kind, and the buffers still held. */
  usageOf(caller: Caller): Record<string, unknown> {
    const kinds = [...new Set(this.allocator.heaps().map((h) => h.describe().kind))];
    const mine = this.ledger.heldBy(caller.uid);
    return {
      caller: { uid: caller.uid, user: caller.user, groups: caller.groups, pid: caller.pid, connection: caller.connection },
      kinds: Object.fromEntries(kinds.map((kind) => [kind, { charged: this.ledger.charged(caller.uid, kind), quota: quotaFor(this.policy, caller, kind).bytes ?? null, reachable: mayReach(this.policy, caller, kind).ok }])),
      buffers: mine.map((g) => grantJson(g, caller)),
    };
  }

  async #caller(sender: string | undefined): Promise<Caller> {
    if (!sender) throw new ErrorReply('UnknownCaller', 'the call has no sender: the service answers only calls routed by a bus daemon');
    let pending = this.#callers.get(sender);
    if (!pending) {
      pending = callerOf(this.bus, sender, this.#accounts);
      this.#callers.set(sender, pending);
    }
    const caller = await pending;
    if (!caller) {
      this.#callers.delete(sender);
      throw new ErrorReply('UnknownCaller', `the bus gave no credentials for ${sender} (it may have disconnected)`);
    }
    return caller;
  }

  #request(text: unknown, caller: Caller): Request {
    const limit = this.#options.maxRequestBytes ?? MAX_REQUEST_BYTES;
    if (typeof text !== 'string') throw new ErrorReply('InvalidArgs', 'the request must be a string');
    if (text.length > limit || Buffer.byteLength(text) > limit) throw new ErrorReply('BadRequest', `the request is ${Buffer.byteLength(text)} bytes; the service takes at most ${limit}`, { field: 'request', value: Buffer.byteLength(text), limit });
    // Clients repeat the same few requests (one per stream): parsed once per connection, the
    // Request object also hits the solver's memo. Its sources name this connection.
    const key = `${caller.connection}\0${text}`;
    let request = this.#requests.get(key);
    if (!request) {
      request = parseRequest(text, this.allocator.platform, `request from ${caller.user} (${caller.connection})`);
      if (this.#requests.size >= REQUEST_CACHE) this.#requests.clear();
      this.#requests.set(key, request);
    }
    return request;
  }

  /**
   * Allocate plans against whole capacities and lets allocation fall back on ENOMEM: on the
   * simulated kernel, space of buffers closed a moment ago is only known free after a rescan, and
   * a plan against free space would skip a heap that has room. Negotiate plans against free space.
   */
  #negotiate(request: Request, against: 'free' | 'capacity' = 'free'): Plan {
    return this.allocator.negotiate(request, { alternatives: 32, against });
  }

  async #allocate(msg: DBusMessage, caller: Caller): Promise<void> {
    const request = this.#request(msg.body[0], caller);
    const options = allocateOptions(msg.body[1]);
    const maxBuffers = this.#options.maxBuffersPerCall ?? MAX_BUFFERS_PER_CALL;
    if (request.count > maxBuffers) throw new ErrorReply('BadRequest', `count ${request.count}: one Allocate call hands out at most ${maxBuffers} buffers (a D-Bus message carries at most ${maxBuffers} fds); ask for ${maxBuffers} or fewer per call, several calls for more (connect().allocate() does so itself)`, { field: 'count', value: request.count, limit: maxBuffers });
    const plan = this.#negotiate(request, 'capacity');
    // A multi-planar format's frame is a buffer per plane: the fds are frames x planes.
    let perFrame = plan.buffers?.length ?? 1;
    for (const c of plan.alternatives) if (c.buffers && c.buffers.length > perFrame) perFrame = c.buffers.length;
    if (request.count * perFrame > maxBuffers) throw new ErrorReply('BadRequest', `count ${request.count}: ${plan.format} takes ${perFrame} buffers a frame (one per plane), and one Allocate call hands out at most ${maxBuffers} fds (a D-Bus message carries at most ${maxBuffers}); ask for ${Math.floor(maxBuffers / perFrame)} or fewer frames per call (connect().allocate() does so itself)`, { field: 'count', value: request.count, limit: Math.floor(maxBuffers / perFrame) });
    const got = await this.#allocateAdmitted(plan, caller, options.name);
    await this.#handOutAndReply(msg, caller, [{ ...got, name: options.name }], () => ({ ...choiceWire(got.buffers.used), bufferFds: this.#handOut.wire }));
  }

  /**
   * AllocatePipeline: the pipeline planned on the service's platform (heaps as handles), then every
   * ring allocated with its planned layout and heap, each admitted by the caller's policy and
   * quotas, and handed out in one reply, all or nothing: fds grouped by ring in the reply's JSON.
   */
  async #allocatePipeline(msg: DBusMessage, caller: Caller): Promise<void> {
    if (typeof msg.body[0] !== 'string') throw new ErrorReply('BadRequest', 'the pipeline must be a string of YAML or JSON', { field: 'pipeline' });
    allocateOptions(msg.body[1]);
    const spec = parsePipeline(msg.body[0], this.allocator.platform, 'pipeline');
    const result = planPipeline(this.allocator.platform, spec);
    if (!result.ok) throw new ErrorReply('Conflict', conflictText(result.conflict), pipelineConflictJson(result.conflict));
    const maxBuffers = this.#options.maxBuffersPerCall ?? MAX_BUFFERS_PER_CALL;
    const total = result.plan.rings.reduce((n, r) => n + r.choice.count * (r.choice.buffers?.length ?? 1), 0);
    if (total > maxBuffers) throw new ErrorReply('BadRequest', `the pipeline's rings hold ${total} buffers: one AllocatePipeline call hands out at most ${maxBuffers} (a D-Bus message carries at most ${maxBuffers} fds); use shallower rings, or Allocate each edge's request (udalloc pipeline plan --json shows them)`, { field: 'depth', value: total, limit: maxBuffers });
    const parts: Array<{ buffers: DmaBuffer[] & { used: PlanChoice }; reservation: Reservation; name: string }> = [];
    try {
      for (const ring of result.plan.rings) parts.push({ ...(await this.#allocateAdmitted(ringPlan(this.allocator, ring), caller, ringName(ring))), name: ringName(ring) });
    } catch (err) {
      for (const p of parts) {
        p.reservation.end();
        for (const b of p.buffers) if (!b.closed) b.close();
      }
      throw err;
    }
    await this.#handOutAndReply(msg, caller, parts, (fdsOf) => ({
      ...planJson(result.plan),
      rings: result.plan.rings.map((ring, i) => ({ edge: ring.edge, part: ring.part, producer: ring.producer, consumers: ring.consumers, ...choiceWire(parts[i]!.buffers.used), fds: fdsOf[i] })),
      bufferFds: this.#handOut.wire,
    }));
  }

  /**
   * Hands out allocated buffers (each part with its reservation) in one reply: each buffer's fd
   * charged to the caller and watched, the reservations ended in the same step, `replyOf` given
   * each part's fd indices in the reply. When the reply cannot go, nothing stays charged or held.
   */
  async #handOutAndReply(msg: DBusMessage, caller: Caller, parts: ReadonlyArray<{ buffers: readonly DmaBuffer[]; reservation: Reservation; name: string | undefined }>, replyOf: (fdsOf: number[][]) => object): Promise<void> {
    const handOut = this.#handOut;
    const handed: Array<{ buffer: DmaBuffer; fd: number }> = [];
    const grants: Grant[] = [];
    const fdsOf: number[][] = [];
    try {
      for (const { buffers, name } of parts) {
        const mine: number[] = [];
        buffers.forEach((buffer, n) => {
          const fd = handOut.fdFor(buffer, chargeTag(caller.uid, buffer.heap.describe().kind, name === undefined ? undefined : `${name}-${n}`));
          mine.push(handed.length);
          handed.push({ buffer, fd });
          const st = fstatSync(fd);
          const grant = this.ledger.add({ dev: st.dev, ino: st.ino }, { kind: buffer.heap.describe().kind, heap: buffer.heap.id, size: buffer.size, caller, release: handOut.releaseOf(buffer) });
          grants.push(grant);
          this.#closes.watch(fd, grant.key);
        });
        fdsOf.push(mine);
      }
      // The grants carry the charge now (added in this same step: no decision ran in between).
      for (const p of parts) p.reservation.end();
      const fds = handed.map((h) => h.fd);
      await sendWithFds(this.bus, dbus.Message.newMethodReturn(msg, 'sah', [JSON.stringify(replyOf(fdsOf)), fds]), fds);
    } catch (err) {
      // Nothing reached the caller: no charge stays, and every buffer goes.
      for (const p of parts) p.reservation.end();
      for (const h of handed) handOut.drop(h.buffer, h.fd);
      for (const g of grants) {
        this.ledger.forget(g.key);
        this.#closes.forget(g.key);
      }
      for (const p of parts) for (const b of p.buffers) if (!b.closed) b.close();
      throw err;
    }
    const now = Date.now();
    for (const g of grants) g.sentAt = now;
    // The service's own copies go now: the client (or the bus daemon, on its way there) holds the buffer.
    for (const h of handed) handOut.drop(h.buffer, h.fd);
  }

  /**
   * Allocates the plan's buffers in the first ranked heap the policy lets the caller reach with
   * room in its quota (and the CMA reserve kept), and reserves their charge. Charges are made exact
   * (a /proc scan) before a refusal, and once more before giving up when every heap is out of memory.
   */
  async #allocateAdmitted(plan: Plan, caller: Caller, name: string | undefined): Promise<{ buffers: DmaBuffer[] & { used: PlanChoice }; reservation: Reservation }> {
    const refusals: Refusal[] = [];
    const decide = (choice: PlanChoice): Refusal | undefined => {
      const d = choice.heap.describe();
      return admit(this.policy, caller, d.kind, choice.count * choice.size, this.ledger.charged(caller.uid, d.kind), () => this.allocator.backend.heapStats(d.name).free);
    };
    const narrowed = (): Plan | undefined => {
      refusals.length = 0;
      return narrowPlan(plan, (choice) => {
        const refusal = decide(choice);
        if (refusal) refusals.push(refusal);
        return refusal === undefined;
      });
    };
    let admitted = narrowed();
    if (!admitted && refusals.some((r) => r.error !== 'PolicyDenied')) {
      // A refusal is never based on a buffer already let go: rescan, and if buffers closed within
      // the grace may be what stands in the way, wait for it to end and rescan once more.
      this.#refresh('refusal pending');
      admitted = narrowed();
      if (!admitted && refusals.some((r) => r.error !== 'PolicyDenied') && (await this.#graceOver())) admitted = narrowed();
    }
    if (!admitted) throw this.#refusalError(refusals, caller, plan);
    const options = { owner: `${caller.user}:${caller.pid ?? '?'}`, name };
    try {
      return this.#allocateReserved(admitted, caller, options);
    } catch (err) {
      if (!(err instanceof AllocationError)) throw err;
      // Out of memory may be buffers already let go whose simulated space the service still keeps.
      if (this.#refresh('out of memory') === 0 && !(await this.#graceOver())) throw err;
      const again = narrowed();
      if (!again) throw this.#refusalError(refusals, caller, plan);
      return this.#allocateReserved(again, caller, options);
    }
  }

  /**
   * Allocates an admitted plan and reserves the buffers' charge, in one synchronous step with the
   * admission that preceded it: every limit the service enforces (quotas by user and group, read
   * from the ledger's charges; the CMA reserve, read from the heap's free space) is decided and
   * then counted before any other call's decision can run. Callers must not await between
   * admitting a plan and calling this.
   */
  #allocateReserved(admitted: Plan, caller: Caller, options: { owner: string; name: string | undefined }): { buffers: DmaBuffer[] & { used: PlanChoice }; reservation: Reservation } {
    const buffers = this.allocator.allocateSync(admitted, options);
    const reservation = this.ledger.reserve(caller, buffers.used.heap.describe().kind, buffers.reduce((sum, b) => sum + b.size, 0));
    return { buffers, reservation };
  }

  /**
   * Waits (at most one grace period) until the grants still in their grace leave it, then rescans:
   * under memory pressure, buffers closed within the grace are not yet known to be gone. True when
   * something was released.
   */
  async #graceOver(): Promise<boolean> {
    const ends = this.ledger.graceEnds();
    if (ends === undefined) return false;
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(ends - Date.now(), this.ledger.graceMs)) + 1));
    return this.#refresh('out of memory, after the grace') > 0;
  }

  #refusalError(refusals: readonly Refusal[], caller: Caller, plan: Plan): ErrorReply {
    // The refusal of the best plan the policy would otherwise allow says most; a denial only when all are.
    const first = refusals.find((r) => r.error !== 'PolicyDenied') ?? refusals[0]!;
    const kinds = new Set([plan, ...plan.alternatives].map((c) => c.heap.describe().kind));
    const held = [...kinds].flatMap((k) => this.ledger.heldBy(caller.uid, k)).map((g) => grantJson(g, caller));
    this.#options.log?.(`refused ${caller.user} (uid ${caller.uid}, pid ${caller.pid ?? '?'}): ${first.message}`);
    const message = refusals.length > 1 ? `${first.message}; no other ranked plan is allowed either (${refusals.slice(1).map((r) => r.message).join('; ')})` : first.message;
    return new ErrorReply(first.error, message, { quota: first.quota, charged: first.charged, asked: first.asked, refusals, held });
  }

  /**
   * Releases what no one holds any more; the number released. The kernel's word that a buffer's
   * inode went answers first (no scan); a /proc scan runs when that releases nothing, and always
   * for the timer, GetUsage and a client leaving (it covers grants without a watch).
   */
  #refresh(why: string, scan: 'if-needed' | 'always' = 'if-needed'): number {
    if (this.#stopped) return 0;
    let released = this.ledger.releaseClosed(this.#closes.gone()).length;
    if (released === 0 || scan === 'always') {
      const scanned = this.ledger.refresh();
      for (const g of scanned) this.#closes.forget(g.key);
      released += scanned.length;
    }
    if (released > 0) this.#options.log?.(`${why}: ${released} buffer(s) no process holds any more, released`);
    return released;
  }

  #sendError(msg: DBusMessage, err: ErrorReply): void {
    if (err.error === 'Internal') this.#options.log?.(`internal error on ${msg.member}: ${err.stack ?? err.message}`);
    this.bus.send(new dbus.Message({ type: dbus.MessageType.ERROR, replySerial: msg.serial as unknown as string, destination: msg.sender, errorName: ERRORS[err.error], signature: 's', body: [`${clientText(err.message)}\n${DETAILS_PREFIX}${toJson(err.details)}`] }));
  }
}

/** JSON with 64-bit values (modifiers, sizes beyond 2^53) as strings, its texts as clients read them (clientText). */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? String(v) : typeof v === 'string' ? clientText(v) : v));
}

function grantJson(g: Grant, caller: Caller): Record<string, unknown> {
  return { inode: g.file.ino, size: g.size, heap: g.heap, kind: g.kind, sizeText: formatBytes(g.size), yours: g.caller.connection === caller.connection, pid: g.caller.pid };
}

function allocateOptions(raw: unknown): { name: string | undefined } {
  const options = (raw ?? {}) as Record<string, { signature?: string; value: unknown }>;
  let name: string | undefined;
  for (const [key, variant] of Object.entries(options)) {
    if (key === 'name') {
      if (typeof variant.value !== 'string') throw new ErrorReply('BadRequest', `option name: expected a string (s), got ${variant.signature ?? typeof variant.value}`, { field: 'options.name' });
      name = variant.value;
    } else {
      throw new ErrorReply('BadRequest', `option ${JSON.stringify(key)}: unknown (the options are: name)`, { field: `options.${key}` });
    }
  }
  return { name };
}

function asErrorReply(err: unknown): ErrorReply {
  if (err instanceof ErrorReply) return err;
  if (err instanceof InputError) return new ErrorReply('BadRequest', err.message, { field: err.field, value: typeof err.value === 'bigint' ? String(err.value) : err.value });
  if (err instanceof ConflictError) return new ErrorReply('Conflict', err.message, conflictJson(err.conflict, err.request));
  if (isKernelError(err)) return new ErrorReply('Kernel', err.message, { errno: err.errno, op: err.op });
  if (err instanceof AllocationError) return new ErrorReply('OutOfMemory', err.message, { attempts: err.attempts.map((a) => ({ heap: a.heap.id, kind: a.heap.describe().kind, errno: a.errno, allocated: a.allocated })) });
  return new ErrorReply('Internal', err instanceof Error ? err.message : String(err));
}

