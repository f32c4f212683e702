// The .dtb parser: hand-built trees, every kind of corruption, and fuzzing by mutation of a real
// board's tree: only InputError may come out, never a crash or a hang.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseDtb } from '../../src/platform/fdt.js';
import { deriveFromTree } from '../../src/platform/derive.js';
import { InputError } from '../../src/errors.js';
import { buildDtb, strings } from './fdt-builder.js';
import { dtbPath } from './dtbs.js';

const small = buildDtb(
  {
    props: { '#address-cells': [2], '#size-cells': [2], model: 'test board' },
    children: {
      'memory@40000000': { props: { device_type: 'memory', reg: [0, 0x40000000, 0, 0x80000000] } },
      soc: { props: { compatible: 'simple-bus', '#address-cells': [1], '#size-cells': [1] }, children: { 'display@1000': { props: { compatible: strings('vendor,soc-dpu', 'vendor,dpu'), status: 'okay', phandle: [7] } } } },
    },
  },
  [[0x48000000n, 0x1000n]],
);

const rejects = (blob: Uint8Array, message: RegExp) => assert.throws(() => parseDtb(blob, 'x.dtb'), (err) => err instanceof InputError && message.test(err.message));

describe('flattened device tree parser', () => {
  it('reads nodes, properties, phandles, cells and the memory reservation block', () => {
    const tree = parseDtb(small, 'small.dtb');
    assert.deepStrictEqual([...tree.root.walk()].map((n) => n.path), ['/', '/memory@40000000', '/soc', '/soc/display@1000']);
    assert.strictEqual(tree.root.string('model'), 'test board');
    const display = tree.find('/soc/display@1000')!;
    assert.deepStrictEqual(display.strings('compatible'), ['vendor,soc-dpu', 'vendor,dpu']);
    assert.strictEqual(tree.byPhandle(7), display);
    assert.deepStrictEqual(tree.ranges(tree.find('/memory@40000000')!), [{ address: 0x40000000, size: 0x80000000 }]);
    assert.deepStrictEqual(tree.reservations, [{ address: 0x48000000n, size: 0x1000n }]);
  });

  it('rejects corrupt headers and structure with the offset and the problem', () => {
    const copy = () => new Uint8Array(small);
    const set32 = (b: Uint8Array, off: number, v: number) => new DataView(b.buffer).setUint32(off, v);
    rejects(small.subarray(0, 20), /too short for a device tree header/);
    let b = copy();
    set32(b, 0, 0xfeedd00d);
    rejects(b, /magic 0xfeedd00d is not 0xd00dfeed/);
    rejects(small.subarray(0, small.length - 8), /totalsize \d+ is larger than the blob .* truncated/);
    b = copy();
    set32(b, 20, 99);
    set32(b, 24, 99);
    rejects(b, /version 99 .* is not supported/);
    b = copy();
    set32(b, 8, 1 << 30);
    rejects(b, /structure block .* is not inside the blob/);
    b = copy();
    const structOff = new DataView(b.buffer).getUint32(8);
    set32(b, structOff, 0x77);
    rejects(b, /unknown structure token 0x77/);
  });

  it('limits nesting depth', () => {
    let node = {};
    for (let i = 0; i < 70; i++) node = { children: { n: node } };
    rejects(buildDtb(node), /nested deeper than 64/);
  });

  it('every truncation of a valid blob is an InputError, never another exception', () => {
    for (let len = 0; len < small.length; len++) {
      const cut = new Uint8Array(small.subarray(0, len));
      // Keep totalsize consistent with the cut so the structure parser itself meets the end.
      if (len >= 8) new DataView(cut.buffer).setUint32(4, len);
      assert.throws(() => parseDtb(cut, 'cut.dtb'), InputError, `length ${len}`);
    }
  });

  it('fuzz: random mutations of a real board tree give a tree or an InputError, quickly', { timeout: 120_000 }, () => {
    const real = readFileSync(dtbPath('broadcom/bcm2711-rpi-4-b.dtb'));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(real.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 16 }), fc.option(fc.nat(real.length), { nil: undefined }), (edits, cut) => {
        const blob = new Uint8Array(real.subarray(0, cut ?? real.length));
        for (const [at, byte] of edits) if (at < blob.length) blob[at] = byte;
        try {
          deriveFromTree(parseDtb(blob, 'fuzz.dtb'));
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
        }
      }),
      { numRuns: 1500, seed: 2026 },
    );
  });
});
