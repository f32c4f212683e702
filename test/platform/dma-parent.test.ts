// DMA windows as the kernel computes them (drivers/of/device.c of_dma_configure_id(),
// drivers/of/address.c of_dma_get_range() and __of_get_dma_parent()), on constructed trees: a
// device's "dma-mem" interconnect is its DMA parent; from there, empty dma-ranges mean 1:1 and the
// walk goes on, but past the first node a missing dma-ranges ends it (-ENODEV: no window).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDtb } from '../../src/platform/fdt.js';
import { deriveFromTree } from '../../src/platform/derive.js';
import { buildDtb, strings, type NodeSpec, type Prop } from './fdt-builder.js';

/** A display controller (a compatible its 6.12 driver matches) at the end of a chain of buses. */
const display = (extra: Record<string, Prop> = {}): NodeSpec => ({
  props: { compatible: 'fsl,imx8mp-lcdif', reg: [0x1000, 0x100], status: 'okay', ...extra },
});
const bus = (props: NonNullable<NodeSpec['props']>, children: Record<string, NodeSpec>): NodeSpec => ({ props: { compatible: 'simple-bus', '#address-cells': [1], '#size-cells': [1], ranges: true, ...props }, children });
/** dma-ranges of a 30-bit window: bus address 0 is CPU address 0, 1 GiB long. */
const WINDOW_1G = [0, 0, 0x40000000];

function dmaBitsOf(root: NodeSpec): number | null {
  const p = deriveFromTree(parseDtb(buildDtb({ props: { '#address-cells': [1], '#size-cells': [1] }, children: root.children }), 't.dtb'));
  const d = p.devices.find((x) => x.compatible === 'fsl,imx8mp-lcdif');
  assert.ok(d, 'the display is found');
  return d.dmaBits;
}

describe('DMA parents and windows as the kernel computes them', () => {
  it('the bus right above the device may lack dma-ranges: the walk goes on to its parent', () => {
    assert.strictEqual(dmaBitsOf({ children: { soc: bus({ 'dma-ranges': WINDOW_1G }, { sub: bus({}, { 'lcdif@1000': display() }) }) } }), 30);
  });

  it('past the first bus, a missing dma-ranges ends the walk: no window (-ENODEV), whatever is further up', () => {
    const tree = { children: { soc: bus({ 'dma-ranges': WINDOW_1G }, { mid: bus({}, { sub: bus({}, { 'lcdif@1000': display() }) }) }) } };
    assert.strictEqual(dmaBitsOf(tree), null);
    // An empty dma-ranges on that bus means 1:1: the walk reaches the window.
    const oneToOne = { children: { soc: bus({ 'dma-ranges': WINDOW_1G }, { mid: bus({ 'dma-ranges': true }, { sub: bus({}, { 'lcdif@1000': display() }) }) }) } };
    assert.strictEqual(dmaBitsOf(oneToOne), 30);
  });

  it('a "dma-mem" interconnect is the DMA parent: its window applies, not the parent bus\'s', () => {
    const mbus: NodeSpec = { props: { compatible: 'vendor,mbus', '#interconnect-cells': [1], phandle: [9], '#address-cells': [1], '#size-cells': [1], 'dma-ranges': [0, 0, 0x20000000] } };
    const tree = {
      children: {
        soc: bus({}, {
          'dram-controller@2000': mbus,
          'lcdif@1000': display({ interconnects: [9, 4], 'interconnect-names': strings('dma-mem') }),
        }),
      },
    };
    assert.strictEqual(dmaBitsOf(tree), 29);
    // Without the interconnect, the parent bus (no dma-ranges) and the root give no window.
    const plain = { children: { soc: bus({}, { 'dram-controller@2000': mbus, 'lcdif@1000': display() }) } };
    assert.strictEqual(dmaBitsOf(plain), null);
  });
});
