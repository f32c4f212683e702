// --service [ADDRESS] for negotiate, explain, alloc and heaps: the same command answered by a
// running `udalloc serve` (its platform, heaps and policy) instead of this process.

import { choiceWire } from '../service/wire.js';
import { InputError } from '../errors.js';
import { formatBytes } from '../constraints/units.js';
import type { ChoiceExplanation } from '../solver/explain-choices.js';
import { choicesText } from './output.js';
import { cpuRoundTrip } from './cpu-round-trip.js';
import type { RequestFields } from '../constraints/load.js';
import { readInputText } from '../util/input-file.js';
import { yamlData } from '../util/yaml.js';
import { connect, ServiceError, type ServiceAllocator, type ServicePlan } from '../service/client.js';
import type { PlanChoice } from '../allocator/plan.js';

export const serviceHelp = `  --service [ADDRESS]   ask a running "udalloc serve" instead (the system bus, or ADDRESS:
                        session or a D-Bus address); its platform, heaps and policy apply`;

/** The service's error names as the CLI's JSON error kinds (main.ts turns kinds into exit codes). */
export const SERVICE_ERROR_KINDS: Readonly<Record<string, 'kernel' | 'refused'>> = { OutOfMemory: 'kernel', Kernel: 'kernel', QuotaExceeded: 'refused', PolicyDenied: 'refused', ReserveKept: 'refused', UnknownCaller: 'refused' };

/** "--service" with no value (last, or before another flag) means the system bus. */
export function withServiceDefault(args: readonly string[]): string[] {
  const out: string[] = [];
  args.forEach((arg, i) => {
    out.push(arg);
    const next = args[i + 1];
    if (arg === '--service' && (next === undefined || next.startsWith('-'))) out.push('system');
  });
  return out;
}

/** The request text to send: the file's fields (YAML or JSON) with the flags' fields over them. */
export function requestText(file: string | undefined, flags: RequestFields): string {
  let fields: Record<string, unknown> = {};
  if (file !== undefined) {
    const text = readInputText(file, { what: 'request', field: 'request', maxBytes: 64 * 1024 });
    const data = yamlData(text, file, 'request', 'YAML or JSON');
    if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new InputError(`${file}: a request must be a mapping of fields`, 'request', file);
    fields = data as Record<string, unknown>;
  }
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) fields[k] = v;
  return JSON.stringify(fields);
}

function describe(c: PlanChoice): string {
  const d = c.heap.describe();
  return `${c.format} ${c.modifier} in ${c.heap} (${d.kind}), ${c.count} x ${formatBytes(c.size)}`;
}

export function planText(plan: ServicePlan | PlanChoice, rationale: readonly string[] = []): string {
  const lines = [`plan: ${describe(plan)}`, `  size      ${plan.size} bytes per buffer, base alignment ${formatBytes(plan.alignment)}`];
  plan.planes.forEach((p, i) => lines.push(`  plane ${i}   offset ${p.offset}  pitch ${p.pitch}  size ${p.size}`));
  if (rationale.length > 0) lines.push('why:', ...rationale.map((r) => `  ${r}`));
  return lines.join('\n');
}

/** Runs one command on the service; prints like the local command; the service's errors go to main.ts like the others. */
/** How long the CLI waits for a bus and a service started a moment before it. */
const START_WAIT_MS = 3000;

export async function onService(address: string, command: 'negotiate' | 'explain' | 'alloc' | 'heaps' | 'usage', options: { request?: string; json?: boolean; name?: string } = {}): Promise<number> {
  let udalloc: ServiceAllocator;
  try {
    // A service (and its bus) started a moment ago in the same script is waited for, briefly.
    udalloc = await connect({ bus: address, waitMs: START_WAIT_MS });
  } catch (err) {
    throw new InputError(`--service ${address}: ${err instanceof Error ? err.message : String(err)}`, 'service', address);
  }
  const out = (text: string) => process.stdout.write(`${text}\n`);
  try {
    if (command === 'heaps') {
      const heaps = (await udalloc.heapList()).map((h) => ({ handle: h.heap.id, kind: h.kind, capacity: h.capacity, free: h.free, contiguous: h.contiguous, cpuAccess: h.cpuAccess, reachable: h.reachable }));
      if (options.json) out(JSON.stringify({ service: address, heaps }));
      else out(heaps.map((h) => `heap #${h.handle}  ${h.kind.padEnd(13)} ${formatBytes(h.capacity).padStart(10)}  free ${formatBytes(h.free).padStart(10)}  ${h.contiguous ? 'contiguous' : 'scattered'}${h.cpuAccess ? '' : ', no CPU access'}${h.reachable ? '' : '  (the policy keeps you out)'}`).join('\n'));
      return 0;
    }
    if (command === 'usage') {
      const u = (await udalloc.usage()) as { caller: { user: string; uid: number; pid: number | null }; kinds: Record<string, { charged: number; quota: number | null; reachable: boolean }>; buffers: Array<{ inode: number; size: number; heap: number; kind: string; pid: number | null }> };
      if (options.json) out(JSON.stringify(u));
      else {
        const lines = [`${u.caller.user} (uid ${u.caller.uid}) as the service sees you:`];
        for (const [kind, k] of Object.entries(u.kinds)) lines.push(`  ${kind.padEnd(13)} charged ${formatBytes(k.charged).padStart(10)}  quota ${k.quota === null ? 'none' : formatBytes(k.quota)}${k.reachable ? '' : '  (the policy keeps you out)'}`);
        lines.push(u.buffers.length === 0 ? 'no buffer of yours is held by any process' : 'buffers still held (by any process):');
        for (const b of u.buffers) lines.push(`  ino ${b.inode}  ${formatBytes(b.size)}  heap #${b.heap} (${b.kind})`);
        out(lines.join('\n'));
      }
      return 0;
    }
    const text = options.request!;
    if (command === 'explain') {
      const explained = await udalloc.explain(text);
      const conflict = 'conflict' in explained;
      if (options.json) out(JSON.stringify(explained));
      else {
        // The same text as the local command: the plan (or the conflict, as Negotiate words it), then every verdict.
        let head: string;
        try {
          const plan = await udalloc.negotiate(text);
          head = planText(plan, plan.rationale);
        } catch (err) {
          if (!(err instanceof ServiceError)) throw err;
          head = err.message;
        }
        out(`${head}\n${choicesText(explained['choices'] as ChoiceExplanation)}`);
      }
      return conflict ? 3 : 0;
    }
    const plan = await udalloc.negotiate(text);
    if (command === 'negotiate') {
      // The shape of negotiate --json, with heap handles for names.
      out(options.json ? JSON.stringify({ plan: choiceWire(plan), alternatives: plan.alternatives.map(choiceWire), rationale: plan.rationale }) : planText(plan, plan.rationale));
      return 0;
    }
    const buffers = await udalloc.allocate(plan, options.name !== undefined ? { name: options.name } : {});
    const cpu = plan.cpu === 'none' ? [] : buffers.map((b) => cpuRoundTrip(b, plan.cpu));
    const rows = buffers.map((b, i) => ({ fd: b.fd, size: b.size, inode: b.info().inode, ...(options.name !== undefined ? { name: `${options.name}-${i}` } : {}), ...(cpu[i] ? { cpu: cpu[i] } : {}) }));
    if (options.json) out(JSON.stringify({ service: address, plan: choiceWire(buffers.used), buffers: rows }));
    else out(`${planText(buffers.used)}\n${rows.map((r) => `  fd ${r.fd}  ${formatBytes(r.size)}  inode ${r.inode}${'name' in r ? `  ${r.name}` : ''}${'cpu' in r ? `  ${r.cpu}` : ''}`).join('\n')}\nreleased ${rows.length} buffer(s)`);
    for (const b of buffers) b.close();
    return 0;
  } finally {
    udalloc.close();
  }
}
