// Random scenarios for the solver's property tests: small platforms and requests, built through
// the real profile loader so that they are what a user could write.

import fc from 'fast-check';
import { parsePlatform, makeRequest, type RequestFields } from '../../src/constraints/load.js';
import { FORMATS } from '../../src/constraints/formats.js';
import { MODIFIERS, modifierAppliesTo } from '../../src/constraints/modifiers.js';
import type { Platform, Request } from '../../src/constraints/model.js';

const FORMAT_POOL = ['XRGB8888', 'NV12', 'RGB565', 'YUYV', 'YUV420'];
const MODIFIER_POOL = ['LINEAR', 'Y_TILED', 'X_TILED', 'AFBC_16x16', 'VIVANTE_TILED', 'BROADCOM_SAND128'];
export const MiB = 1 << 20;

const heapArb = fc.record({
  kind: fc.constantFrom('system', 'cma', 'cma', 'carveout', 'secure', 'system-contig'),
  size: fc.constantFrom(4 * MiB, 16 * MiB, 64 * MiB, 256 * MiB),
  base: fc.constantFrom(0x10000000, 0x80000000, 0x1_0000_0000, 0x8_0000_0000),
  /**
   * Where in its 256 MiB slot the pool starts: any page for a carveout or secure pool, any
   * pageblock for a CMA area (Linux refuses others). With the larger CMA alignment orders, a
   * pageblock base is not aligned for every buffer, so where the first buffer lands matters.
   */
  offset: fc.nat(0xffff),
  alignOrder: fc.constantFrom(undefined, undefined, 4, 10, 12),
});

const ruleArb = fc.record({
  access: fc.constantFrom('readwrite', 'readwrite', 'read', 'write'),
  /** Modifiers used more narrowly than the format (by position in the final list; widening ones dropped). */
  narrow: fc.array(fc.tuple(fc.nat(2), fc.constantFrom('read', 'write')), { maxLength: 2 }),
  modifiers: fc.uniqueArray(fc.constantFrom(...MODIFIER_POOL), { minLength: 1, maxLength: 3 }),
  pitchAlign: fc.constantFrom(1, 16, 64, 256, 48),
  heightAlign: fc.constantFrom(1, 2, 16),
  widthAlign: fc.constantFrom(1, 1, 1, 16, 32),
  offsetAlign: fc.constantFrom(1, 4096),
  maxWidth: fc.option(fc.constantFrom(640, 2048, 4096), { nil: undefined }),
  maxPitch: fc.option(fc.constantFrom(1024, 4096, 8192, 16384), { nil: undefined }),
  implicitPlaneOffsets: fc.constantFrom(false, false, false, true),
});

function deviceArb(heapCount: number) {
  return fc.record({
    iommu: fc.boolean(),
    dmaBits: fc.option(fc.constantFrom(32, 34, 40), { nil: undefined }),
    alignment: fc.constantFrom(4096, 4096, 65536, 1 << 20, 1 << 21),
    heaps: fc.option(fc.uniqueArray(fc.integer({ min: 0, max: heapCount - 1 }), { minLength: 1, maxLength: heapCount }), { nil: undefined }),
    preferredHeaps: fc.uniqueArray(fc.integer({ min: 0, max: heapCount - 1 }), { maxLength: 2 }),
    sizeAlign: fc.constantFrom(1, 1, 8192, 1 << 20),
    maxSize: fc.option(fc.constantFrom(2 * MiB, 8 * MiB), { nil: undefined }),
    protected: fc.constantFrom('optional', 'optional', 'optional', 'optional', 'required', 'forbidden'),
    formats: fc.uniqueArray(fc.tuple(fc.constantFrom(...FORMAT_POOL), ruleArb), { minLength: 1, maxLength: 4, selector: ([f]) => f }),
  });
}

export const scenarioArb = fc.integer({ min: 1, max: 4 }).chain((heapCount) =>
  fc.record({
    heaps: fc.array(heapArb, { minLength: heapCount, maxLength: heapCount }),
    devices: fc.array(deviceArb(heapCount), { minLength: 1, maxLength: 3 }),
    width: fc.integer({ min: 1, max: 2500 }),
    height: fc.integer({ min: 1, max: 1500 }),
    formats: fc.uniqueArray(fc.constantFrom(...FORMAT_POOL), { minLength: 1, maxLength: 3 }),
    cpu: fc.constantFrom('none', 'none', 'write'),
    protected: fc.constantFrom(false, false, false, true),
    count: fc.integer({ min: 1, max: 4 }),
    /** Which devices take part (bit mask; at least the first). */
    participants: fc.integer({ min: 0, max: 7 }),
    /** How each device uses the buffer, when the request says ('' = not stated). */
    uses: fc.array(fc.constantFrom('', '', 'read', 'write', 'readwrite'), { minLength: 3, maxLength: 3 }),
  }),
);

export type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

/** Builds the scenario through the real profile loader, dropping modifiers a format cannot take. */
export function build(s: Scenario): { platform: Platform; request: Request; profile: { heaps: Record<string, unknown>[] }; fields: RequestFields } {
  // Fixed pools cannot overlap (the loader refuses them): a pool that would start inside an
  // earlier one moves up in 256 MiB steps (no pool here is larger).
  const bases: number[] = [];
  s.heaps.forEach((h, i) => {
    let base = h.base + (h.kind === 'cma' ? (h.offset % 128) * 2 * MiB : h.offset * 4096);
    while (s.heaps.some((o, j) => j < i && o.kind !== 'system' && base < bases[j]! + o.size && bases[j]! < base + h.size)) base += 0x1000_0000;
    bases.push(base);
  });
  const heapName = (i: number) => `h${i}`;
  const profile = {
    name: 'random',
    heaps: s.heaps.map((h, i) => ({ name: heapName(i), kind: h.kind, size: h.size, ...(h.kind === 'system' ? {} : { base: bases[i]! }), ...(h.kind === 'cma' && h.alignOrder !== undefined ? { alignOrder: h.alignOrder } : {}) })),
    devices: s.devices.map((d, i) => ({
      name: `d${i}`,
      iommu: d.iommu,
      ...(d.dmaBits !== undefined ? { dmaBits: d.dmaBits } : {}),
      alignment: d.alignment,
      ...(d.heaps ? { heaps: d.heaps.map(heapName) } : {}),
      preferredHeaps: d.preferredHeaps.map(heapName),
      sizeAlign: d.sizeAlign,
      ...(d.maxSize !== undefined ? { maxSize: d.maxSize } : {}),
      protected: d.protected,
      formats: Object.fromEntries(
        d.formats.map(([f, r]) => {
          const format = FORMATS.find((x) => x.name === f)!;
          const mods = r.modifiers.filter((m) => modifierAppliesTo(MODIFIERS.find((x) => x.name.endsWith(m))!, format));
          const modifiers = mods.length > 0 ? mods : ['LINEAR'];
          const { narrow, ...rule } = r;
          const modifierAccess = Object.fromEntries(narrow.filter(([i, use]) => i < modifiers.length && (r.access === 'readwrite' || r.access === use)).map(([i, use]) => [modifiers[i]!, use]));
          return [f, { ...rule, modifiers, modifierAccess, ...(r.maxWidth === undefined ? { maxWidth: undefined } : {}) }];
        }),
      ),
    })),
  };
  const platform = parsePlatform(JSON.stringify(profile), 'random.json');
  const fields: RequestFields = {
    width: s.width,
    height: s.height,
    formats: s.formats,
    devices: platform.devices.flatMap((d, i) => (i === 0 || (s.participants & (1 << i)) !== 0 ? [s.uses[i] ? `${d.name}:${s.uses[i]}` : d.name] : [])),
    cpu: s.cpu as Request['cpu'],
    protected: s.protected,
    count: s.count,
  };
  return { platform, request: makeRequest(platform, fields), profile, fields };
}
