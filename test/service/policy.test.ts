// The service's policy decisions: quotas by user (uid or name), group and default, heap kinds
// reserved to groups (carveouts closed unless opened), the CMA reserve; malformed policies name
// the field and value.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.js';
import { admit, mayReach, parsePolicy, quotaFor, type Client } from '../../src/service/policy.js';

const MiB = 2 ** 20;
const policy = parsePolicy(
  ['default: { system: 512MiB, cma: 64MiB }', 'users:', '  "1000": { cma: 256MiB }', '  alice: { system: 2GiB }', 'groups:', '  video: { cma: 128MiB }', '  camera: { cma: 96MiB }', 'reach: { secure: [drm] }', 'cmaReserve: 16MiB'].join('\n'),
  'policy.yaml',
);
const alice: Client = { uid: 1001, user: 'alice', groups: ['video', 'camera'] };
const bob: Client = { uid: 1000, user: 'bob', groups: [] };
const eve: Client = { uid: 1002, user: 'eve', groups: ['drm'] };

describe('service policy', () => {
  it('quotas: the user entry (uid or name), else the largest group entry, else the default', () => {
    assert.deepStrictEqual(quotaFor(policy, bob, 'cma'), { bytes: 256 * MiB, from: 'policy.yaml users.1000.cma' });
    assert.deepStrictEqual(quotaFor(policy, alice, 'system'), { bytes: 2048 * MiB, from: 'policy.yaml users.alice.system' });
    assert.deepStrictEqual(quotaFor(policy, alice, 'cma'), { bytes: 128 * MiB, from: 'policy.yaml groups.video.cma' });
    assert.deepStrictEqual(quotaFor(policy, eve, 'cma'), { bytes: 64 * MiB, from: 'policy.yaml default.cma' });
    assert.strictEqual(quotaFor(policy, eve, 'secure').bytes, undefined);
  });

  it('reach: secure heaps only for the groups named, carveouts closed unless a policy opens them', () => {
    assert.deepStrictEqual(mayReach(policy, eve, 'secure'), { ok: true });
    const denied = mayReach(policy, alice, 'secure');
    assert.ok(!denied.ok && /secure heaps are for members of drm \(policy\.yaml reach\.secure\); alice \(uid 1001\) is in video, camera/.test(denied.why));
    // The carveout rule is not in policy.yaml: the refusal says it is udalloc's default, not a key of that file.
    const carveout = mayReach(policy, eve, 'carveout');
    assert.ok(!carveout.ok && /^carveout heaps are for no one \(udalloc's default rule, not in policy\.yaml: carveout heaps are closed unless the policy's reach\.carveout lists groups\); eve/.test(carveout.why), JSON.stringify(carveout));
    assert.ok(mayReach(parsePolicy('reach: { carveout: [drm] }'), eve, 'carveout').ok);
    const closed = mayReach(parsePolicy('reach: { carveout: [] }', 'site.yaml'), eve, 'carveout');
    assert.ok(!closed.ok && /\(site\.yaml reach\.carveout\)/.test(closed.why));
  });

  it('admission names the quota, the charge and the ask; the CMA reserve is kept', () => {
    assert.strictEqual(admit(policy, alice, 'cma', 32 * MiB, 64 * MiB, 200 * MiB), undefined);
    const over = admit(policy, alice, 'cma', 80 * MiB, 64 * MiB, 200 * MiB)!;
    assert.deepStrictEqual([over.error, over.quota, over.charged, over.asked], ['QuotaExceeded', 128 * MiB, 64 * MiB, 80 * MiB]);
    assert.match(over.message, /alice \(uid 1001\) holds 64 MiB in cma heaps and asks for 80 MiB more; the quota is 128 MiB \(policy\.yaml groups\.video\.cma\)/);
    assert.strictEqual(admit(policy, alice, 'cma', 8 * MiB, 0, 20 * MiB)!.error, 'ReserveKept');
    assert.strictEqual(admit(policy, alice, 'secure', MiB, 0, 100 * MiB)!.error, 'PolicyDenied');
  });

  it('a malformed policy names the field and value', () => {
    const bad = (text: string, field: string, message: RegExp) =>
      assert.throws(() => parsePolicy(text, 'p.yaml'), (e) => e instanceof InputError && e.field === field && message.test(e.message));
    bad('default: { system: lots }', 'default.system', /^p\.yaml: policy field default\.system = "lots": is not a size/);
    bad('defaults: {}', 'defaults', /^p\.yaml: policy field defaults: unknown \(did you mean default\?\)/);
    bad('reach: { secret: [drm] }', 'reach.secret', /^p\.yaml: policy field reach\.secret: unknown \(did you mean secure\?\)/);
    bad('users: { bob: { cma: -1 } }', 'users.bob.cma', /^p\.yaml: policy field users\.bob\.cma = -1: must not be negative/);
    assert.throws(() => parsePolicy('default: { cma: 12XB }', 'p.yaml'), /p\.yaml: policy field default\.cma = "12XB": is not a size/);
    assert.throws(() => parsePolicy('default: { sytem: 1GiB }', 'p.yaml'), /p\.yaml: policy field default\.sytem: unknown \(did you mean system\?\)/);
    assert.throws(() => parsePolicy('cmaReserv: 1MiB', 'p.yaml'), /policy field cmaReserv: unknown \(did you mean cmaReserve\?\)/);
    assert.throws(() => parsePolicy('cmaReserve: [', 'p.yaml'), /p\.yaml: not valid YAML/);
  });
});
