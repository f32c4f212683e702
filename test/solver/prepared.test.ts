// A prepared platform keeps what it learns (compiled shapes, explained conflicts, the last answer),
// keyed by every field of a request, its sources included: on random platforms and requests, a
// request differing from another in any one field never gets the other's answer, and every
// answer equals the one a bare platform works out afresh.

import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeRequest, type RequestFields } from '../../src/constraints/load.js';
import type { Platform } from '../../src/constraints/model.js';
import { allocatesOnEmptyHeaps } from '../../src/kernel/sim/fix-check.js';
import { negotiationJson } from '../../src/solver/json.js';
import { negotiate, type Negotiation } from '../../src/solver/negotiate.js';
import { prepare } from '../../src/solver/prepared.js';
import { build, scenarioArb } from './scenarios.js';

/** One field of the request changed (the origin changes every source). */
const changeArb = fc.constantFrom('width', 'height', 'formats', 'devices', 'access', 'cpu', 'protected', 'count', 'origin');

function changed(platform: Platform, fields: RequestFields, change: string): { fields: RequestFields; origin: string } {
  const devices = fields.devices!;
  switch (change) {
    case 'width':
      return { fields: { ...fields, width: fields.width! + 2 }, origin: 'A' };
    case 'height':
      return { fields: { ...fields, height: fields.height! + 2 }, origin: 'A' };
    case 'formats': {
      const others = ['NV12', 'XRGB8888', 'YUYV'].filter((f) => !fields.formats!.includes(f));
      return { fields: { ...fields, formats: fields.formats!.length > 1 ? [...fields.formats!].reverse() : [...fields.formats!, others[0]!] }, origin: 'A' };
    }
    case 'devices': {
      const absent = platform.devices.find((d) => !devices.some((e) => e.split(':')[0] === d.name));
      // Another device joins, or the last one leaves (a platform of one device has no other).
      return { fields: { ...fields, devices: absent ? [...devices, absent.name] : devices.slice(0, Math.max(1, devices.length - 1)) }, origin: 'A' };
    }
    case 'access': {
      const [first, ...rest] = devices;
      const name = first!.split(':')[0]!;
      const use = first!.endsWith(':read') ? 'write' : 'read';
      return { fields: { ...fields, devices: [`${name}:${use}`, ...rest] }, origin: 'A' };
    }
    case 'cpu':
      return { fields: { ...fields, cpu: fields.cpu === 'none' ? 'write' : 'none' }, origin: 'A' };
    case 'protected':
      return { fields: { ...fields, protected: !fields.protected }, origin: 'A' };
    case 'count':
      return { fields: { ...fields, count: fields.count! + 1 }, origin: 'A' };
    default:
      return { fields, origin: 'B' };
  }
}

/** What a caller can see of an answer: its JSON shape with the fix sentences and rationale. */
const seen = (n: Negotiation) => JSON.parse(JSON.stringify(negotiationJson(n, { width: 0, height: 0, cpu: 'none' }))) as unknown;

describe('a prepared platform keeps answers keyed by the whole request', () => {
  it('two requests that differ in any one field, sources included, never share an answer; each equals a fresh one', () => {
    const tried = new Map<string, number>();
    let conflicts = 0;
    fc.assert(
      fc.property(scenarioArb, changeArb, (s, change) => {
        const { platform, fields } = build(s);
        const other = changed(platform, fields, change);
        if (JSON.stringify(other.fields) === JSON.stringify(fields) && other.origin === 'A') return;
        const prepared = prepare(platform);
        const ask = (f: RequestFields, origin: string) => negotiate(prepared, makeRequest(platform, f, `request from ${origin}`), { check: allocatesOnEmptyHeaps });
        const fresh = (f: RequestFields, origin: string) => negotiate(platform, makeRequest(platform, f, `request from ${origin}`), { check: allocatesOnEmptyHeaps });
        let first: Negotiation;
        try {
          first = ask(fields, 'A');
        } catch {
          return; // a request the loader refuses (a device with no format in common): nothing to share
        }
        let second: Negotiation;
        try {
          second = ask(other.fields, other.origin);
        } catch {
          return;
        }
        tried.set(change, (tried.get(change) ?? 0) + 1);
        if (!second.ok) conflicts++;
        assert.notStrictEqual(second, first, `${change}: the changed request got the first one's answer`);
        assert.deepStrictEqual(seen(second), seen(fresh(other.fields, other.origin)), `${change}: the kept answer differs from a fresh one`);
        // A conflict names only its own request: no source of the first caller's.
        if (!second.ok && other.origin === 'B') {
          const text = JSON.stringify(seen(second));
          assert.ok(!text.includes('request from A'), `${change}: B's conflict names A: ${text}`);
        }
        // And asking the first again, in a new object, still gets the first's answer.
        assert.deepStrictEqual(seen(ask(fields, 'A')), seen(first));
      }),
      { numRuns: 400, seed: 2121 },
    );
    for (const change of ['width', 'height', 'formats', 'devices', 'access', 'cpu', 'protected', 'count', 'origin']) assert.ok((tried.get(change) ?? 0) > 10, `${change}: ${JSON.stringify([...tried])}`);
    assert.ok(conflicts > 40, `${conflicts} conflicts compared`);
  });
});
