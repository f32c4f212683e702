// widthAlign, the rule added through the rule table (constraints/rules/width-align.ts): a device
// that pads widths to a step (a V4L2 frame size step, 16 for the Hantro decoders) needs every row
// to hold the padded width. Plans honour it, the checker states it by hand, and a conflict it
// causes is explained and fixed like any other.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeRequest, parsePlatform, type RequestFields } from '../../src/constraints/load.js';
import { atomLabel } from '../../src/solver/atoms.js';
import { negotiate } from '../../src/solver/negotiate.js';
import { violations } from '../../src/solver/verify.js';
import { allocatesOnEmptyHeaps } from '../../src/kernel/sim/fix-check.js';
import { actOn } from './act-on.js';
import { hardwareAdvice } from '../../src/solver/fixes.js';

function board(decoder: string, display: string) {
  const profile = {
    heaps: [{ name: 'system', kind: 'system', size: 4 * 2 ** 30 }],
    devices: [
      { name: 'decoder', iommu: true, formats: JSON.parse(decoder) as unknown },
      { name: 'display', iommu: true, formats: JSON.parse(display) as unknown },
    ],
  };
  return { profile, platform: parsePlatform(JSON.stringify(profile), 'hantro.json') };
}

describe('widthAlign: rows hold the width padded to the device step', () => {
  it('a 1918-pixel NV12 frame from a decoder with a 16-pixel step gets 1920-byte rows in both planes, 1088 luma rows', () => {
    const { platform } = board('{"NV12":{"access":"write","widthAlign":16,"heightAlign":16}}', '{"NV12":{"access":"read"}}');
    const request = makeRequest(platform, { width: 1918, height: 1080, formats: ['NV12'], devices: ['decoder:write', 'display:read'] });
    const result = negotiate(platform, request);
    if (!result.ok) throw new Error('expected a plan');
    assert.deepStrictEqual(result.plan.planes.map((p) => [p.pitch, p.rows]), [[1920, 1088], [1920, 544]]);
    assert.deepStrictEqual(violations(platform, request, result.plan), []);
    // The checker states the rule by hand: rows of 1918 bytes are refused, naming the padded width.
    const narrow = { ...result.plan, planes: result.plan.planes.map((p, i) => ({ ...p, pitch: 1918, offset: i === 0 ? 0 : 1918 * 1088 })) };
    assert.ok(violations(platform, request, narrow).some((v) => /decoder: plane 0 pitch 1918 holds fewer than the 1920 bytes of a row 1920 pixels wide/.test(v)), violations(platform, request, narrow).join('; '));
  });

  it('is not a pitch alignment: with 3-byte pixels, a 16-pixel step and a 64-byte pitch alignment give 3136-byte rows at 1040 pixels (an lcm of 48 and 64 would give 3264)', () => {
    const { platform } = board('{"RGB888":{"widthAlign":16}}', '{"RGB888":{"pitchAlign":64}}');
    const request = makeRequest(platform, { width: 1040, height: 100, formats: ['RGB888'], devices: ['decoder', 'display'] });
    const result = negotiate(platform, request);
    if (!result.ok) throw new Error('expected a plan');
    assert.strictEqual(result.plan.planes[0]!.pitch, 3136);
    assert.deepStrictEqual(violations(platform, request, result.plan), []);
  });

  it('a step that pushes rows past the display\'s largest pitch is a conflict naming both rules; the smaller size it offers allocates, and is the largest that does', () => {
    const { profile, platform } = board('{"XRGB8888":{"access":"write","widthAlign":64}}', '{"XRGB8888":{"access":"read","maxPitch":4000}}');
    const fields: RequestFields = { width: 990, height: 540, formats: ['XRGB8888'], devices: ['decoder:write', 'display:read'] };
    // 990 pixels alone fit (3960 bytes); padded to 1024 they do not (4096).
    const result = negotiate(platform, makeRequest(platform, fields), { check: allocatesOnEmptyHeaps });
    if (result.ok) throw new Error('expected a conflict');
    const core = result.conflict.core.map(atomLabel);
    assert.ok(core.includes('decoder.XRGB8888.widthAlign') && core.includes('display.XRGB8888.maxPitch'), core.join(', '));
    const size = result.conflict.fixes.find((f) => f.changes.some((c) => c.target === 'request' && c.field === 'width'));
    assert.ok(size, result.conflict.fixes.map((f) => f.text).join(' | '));
    const width = (size.changes.find((c) => c.target === 'request' && c.field === 'width') as { value: number }).value;
    assert.strictEqual(width, 960, size.text);
    assert.strictEqual(actOn(profile, fields, size.changes), 'allocates');
    // Two pixels wider pads to 1024 again.
    assert.notStrictEqual(actOn(profile, fields, size.changes.map((c) => (c.target === 'request' && c.field === 'width' ? { ...c, value: width + 2 } : c))), 'allocates');
  });

  it('what a conflict says about the step, read from the rule table', () => {
    const { platform } = board('{"XRGB8888":{"access":"write","widthAlign":64}}', '{"XRGB8888":{"access":"read","maxPitch":4000}}');
    const request = makeRequest(platform, { width: 990, height: 540, formats: ['XRGB8888'], devices: ['decoder:write', 'display:read'] });
    const result = negotiate(platform, request);
    if (result.ok) throw new Error('expected a conflict');
    const step = result.conflict.core.find((a) => a.constraint === 'widthAlign')!;
    assert.strictEqual(step.value, 64);
    assert.match(hardwareAdvice(step, result.conflict.core, request), /^decoder pads XRGB8888 widths to a multiple of 64 pixels and needs every row to hold the padded width \(hantro\.json.*devices\[0\]\.formats\.XRGB8888\)$/);
  });
});
