// Acting on a fix as a user would: its changes applied to the profile's and the request's
// contents (not to the solver's objects), both loaded again, every request it makes negotiated
// and every buffer allocated on a fresh simulated kernel.

import { parsePlatform, makeRequest, type RequestFields } from '../../src/constraints/load.js';
import type { Platform } from '../../src/constraints/model.js';
import { SimKernel } from '../../src/kernel/sim/index.js';
import type { Change } from '../../src/solver/apply.js';
import { negotiate } from '../../src/solver/negotiate.js';
import type { Placement } from '../../src/solver/solve.js';

/**
 * Applies a fix's changes to the files' contents (not to the solver's objects), loads them again,
 * negotiates every request the fix makes and allocates every buffer on a fresh simulated kernel.
 * 'allocates', or what failed.
 */
export function actOn(profile: { heaps: Record<string, unknown>[] }, fields: RequestFields, changes: readonly Change[]): string {
  const heaps = profile.heaps.map((h) => ({ ...h }));
  let shared: RequestFields = { ...fields };
  const copies: RequestFields[] = [];
  for (const c of changes) {
    if (c.target === 'new-heap') heaps.push({ ...c.heap });
    else if (c.target === 'heap') {
      const h = heaps.find((x) => x['name'] === c.heap)!;
      if (c.field === 'limit') delete h['base'];
      h[c.field] = c.value;
    } else if (c.target === 'copy') copies.push({ ...c.request, formats: [...c.request.formats], devices: [...c.request.devices] });
    else shared = { ...shared, [c.field]: c.value };
  }
  let changed: Platform;
  try {
    changed = parsePlatform(JSON.stringify({ ...profile, heaps }), 'changed.json');
  } catch (err) {
    return `the changed profile does not load: ${String(err)}`;
  }
  const plans: Placement[] = [];
  for (const r of [shared, ...copies]) {
    const again = negotiate(changed, makeRequest(changed, r));
    if (!again.ok) return `the changed request ${JSON.stringify(r)} does not negotiate`;
    plans.push(again.plan);
  }
  const kernel = new SimKernel(changed.heaps, { maxFds: 1 << 16 });
  try {
    for (const p of plans) for (let i = 0; i < p.count; i++) kernel.allocate(p.heap.name, p.size);
  } catch (err) {
    return `${String(err)}`;
  }
  return 'allocates';
}
