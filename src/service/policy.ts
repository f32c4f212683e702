// The service's policy: who may reach which kinds of heap, and how many bytes each user or group
// may hold in each. Clients are identified by what the bus says (uid, and the groups of that uid),
// never by anything they claim. Pure: parsing and decisions only; the service applies them.
//
// policy.yaml:
//   default:  { system: 512MiB, cma: 64MiB }          # bytes per heap kind for anyone not listed
//   users:    { "1000": { cma: 256MiB }, alice: { system: 2GiB } }
//   groups:   { video: { cma: 128MiB } }
//   reach:    { secure: [drm], carveout: [] }          # kinds only these groups may use
//   cmaReserve: 16MiB                                   # CMA the service always keeps free

import { z } from 'zod';
import type { HeapKind } from '../constraints/model.js';
import { HEAP_KINDS as KIND_TABLE } from '../constraints/heap-kinds/index.js';
import { formatBytes, parseByteCount } from '../constraints/units.js';
import { InputError, showValue } from '../errors.js';
import { readInputText } from '../util/input-file.js';
import { yamlData } from '../util/yaml.js';
import { didYouMean } from '../util/suggest.js';

/** The heap kinds a policy names: every kind of the heap-kind table. */
export const HEAP_KINDS = Object.keys(KIND_TABLE) as readonly HeapKind[];

const bytes = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const parsed = parseByteCount(v);
  if ('error' in parsed) {
    ctx.addIssue({ code: 'custom', message: parsed.error });
    return z.NEVER;
  }
  return parsed.value;
});
const perKind = z.strictObject(Object.fromEntries(HEAP_KINDS.map((k) => [k, bytes.optional()])) as Record<HeapKind, z.ZodOptional<typeof bytes>>);
const policySchema = z.strictObject({
  default: perKind.optional(),
  users: z.record(z.string(), perKind).optional(),
  groups: z.record(z.string(), perKind).optional(),
  reach: z.strictObject(Object.fromEntries(HEAP_KINDS.map((k) => [k, z.array(z.string()).optional()])) as Record<HeapKind, z.ZodOptional<z.ZodArray<z.ZodString>>>).optional(),
  cmaReserve: bytes.optional(),
});

export type Quotas = Partial<Record<HeapKind, number>>;

export interface Policy {
  readonly default: Quotas;
  readonly users: ReadonlyMap<string, Quotas>;
  readonly groups: ReadonlyMap<string, Quotas>;
  /** Heap kinds only some groups may reach; kinds not listed are open to everyone. */
  readonly reach: ReadonlyMap<HeapKind, readonly string[]>;
  /** Where each reach rule comes from: the file's key, or udalloc's default rule. */
  readonly reachSource: ReadonlyMap<HeapKind, string>;
  readonly cmaReserve: number;
  readonly origin: string;
}

/** Carveouts are off by default (they are usually a device's own memory); everything else open. */
const DEFAULT_REACH: ReadonlyMap<HeapKind, readonly string[]> = new Map([['carveout', []]]);

export function parsePolicy(text: string, origin = 'policy'): Policy {
  const data = yamlData(text, origin, 'policy');
  const result = policySchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.map(String).join('.');
      const key = issue.keys[0]!;
      const known = issue.path.length === 0 ? Object.keys(policySchema.shape) : issue.path[0] === 'reach' || issue.path.length === 2 || issue.path[0] === 'default' ? HEAP_KINDS : [];
      throw new InputError(`${origin}: policy field ${where ? `${where}.` : ''}${key}: unknown${didYouMean(key, known)}; the fields are ${known.join(', ')}`, where ? `${where}.${key}` : key, key);
    }
    const path = issue.path.map(String).join('.');
    let value: unknown = data;
    for (const k of issue.path) value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined;
    throw new InputError(`${origin}: policy field ${path || '(top level)'}${value === undefined ? '' : ` = ${showValue(value)}`}: ${issue.message}`, path, value);
  }
  const p = result.data;
  const clean = (q: Record<string, number | undefined> | undefined): Quotas => Object.fromEntries(Object.entries(q ?? {}).filter(([, v]) => v !== undefined)) as Quotas;
  const reach = new Map(DEFAULT_REACH);
  const reachSource = new Map<HeapKind, string>([...DEFAULT_REACH.keys()].map((k) => [k, `udalloc's default rule, not in ${origin}: ${k} heaps are closed unless the policy's reach.${k} lists groups`]));
  for (const [k, groups] of Object.entries(p.reach ?? {})) {
    if (!groups) continue;
    reach.set(k as HeapKind, groups);
    reachSource.set(k as HeapKind, `${origin} reach.${k}`);
  }
  return {
    default: clean(p.default),
    users: new Map(Object.entries(p.users ?? {}).map(([u, q]) => [u, clean(q)])),
    groups: new Map(Object.entries(p.groups ?? {}).map(([g, q]) => [g, clean(q)])),
    reach,
    reachSource,
    cmaReserve: p.cmaReserve ?? 0,
    origin,
  };
}

/** Who is calling, as the bus tells it: uid, user name, and the names of the user's groups. */
export interface Client {
  readonly uid: number;
  readonly user: string;
  readonly groups: readonly string[];
}

/** Whether the client may reach a heap kind at all; a denial names the groups that may. */
export function mayReach(policy: Policy, client: Client, kind: HeapKind): { ok: true } | { ok: false; why: string } {
  const allowed = policy.reach.get(kind);
  if (allowed === undefined || allowed.some((g) => client.groups.includes(g))) return { ok: true };
  return { ok: false, why: `${kind} heaps are for ${allowed.length > 0 ? `members of ${allowed.join(', ')}` : 'no one'} (${policy.reachSource.get(kind) ?? `${policy.origin} reach.${kind}`}); ${client.user} (uid ${client.uid}) is in ${client.groups.join(', ') || 'no group'}` };
}

/**
 * The client's quota for a heap kind: its own entry (by uid or name) when it has one, else the
 * largest of its groups' entries, else the default; undefined means no limit.
 */
export function quotaFor(policy: Policy, client: Client, kind: HeapKind): { bytes: number | undefined; from: string } {
  for (const key of [String(client.uid), client.user]) {
    const q = policy.users.get(key)?.[kind];
    if (q !== undefined) return { bytes: q, from: `${policy.origin} users.${key}.${kind}` };
  }
  let best: { bytes: number; from: string } | undefined;
  for (const g of client.groups) {
    const q = policy.groups.get(g)?.[kind];
    if (q !== undefined && (!best || q > best.bytes)) best = { bytes: q, from: `${policy.origin} groups.${g}.${kind}` };
  }
  if (best) return best;
  const q = policy.default[kind];
  return q !== undefined ? { bytes: q, from: `${policy.origin} default.${kind}` } : { bytes: undefined, from: `${policy.origin}: no limit for ${kind}` };
}

/** A refusal the service turns into a named D-Bus error, with the numbers behind it. */
export interface Refusal {
  readonly error: 'QuotaExceeded' | 'PolicyDenied' | 'ReserveKept';
  readonly message: string;
  readonly quota?: number;
  readonly charged?: number;
  readonly asked?: number;
}

/**
 * Whether `asked` more bytes in a heap of `kind` may be handed to the client, which is charged
 * `charged` bytes there now; `free` is the heap's free space, or how to get it (CMA keeps the
 * policy's reserve).
 */
export function admit(policy: Policy, client: Client, kind: HeapKind, asked: number, charged: number, free: number | (() => number)): Refusal | undefined {
  const reach = mayReach(policy, client, kind);
  if (!reach.ok) return { error: 'PolicyDenied', message: reach.why };
  const quota = quotaFor(policy, client, kind);
  if (quota.bytes !== undefined && charged + asked > quota.bytes) {
    return { error: 'QuotaExceeded', message: `${client.user} (uid ${client.uid}) holds ${formatBytes(charged)} in ${kind} heaps and asks for ${formatBytes(asked)} more; the quota is ${formatBytes(quota.bytes)} (${quota.from})`, quota: quota.bytes, charged, asked };
  }
  // Not enough free CMA at all is the kernel's ENOMEM to report, not the reserve's refusal. The
  // free space is asked for only here (a heap's statistics cost a walk of its pages).
  if (kind === 'cma' && policy.cmaReserve > 0) free = typeof free === 'function' ? free() : free;
  if (kind === 'cma' && policy.cmaReserve > 0 && typeof free === 'number' && free >= asked && free - asked < policy.cmaReserve) {
    return { error: 'ReserveKept', message: `the service keeps ${formatBytes(policy.cmaReserve)} of CMA free (${policy.origin} cmaReserve); ${formatBytes(free)} is free and ${formatBytes(asked)} was asked`, asked };
  }
  return undefined;
}

/** Reads a policy file (YAML); without one, everything open except carveouts, no quotas. */
export function loadPolicy(file: string | undefined): Policy {
  if (file === undefined) return parsePolicy('', 'built-in policy (no --policy file)');
  return parsePolicy(readInputText(file, { what: 'policy', field: 'policy', maxBytes: 1024 * 1024 }), file);
}
