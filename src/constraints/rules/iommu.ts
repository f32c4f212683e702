// A device without an IOMMU sees physical addresses: its buffers must be physically contiguous,
// and its DMA limit and base alignment (dma-bits.ts, base-alignment.ts) hold for them.

import type { StructuralRule } from './rule.js';

export const iommu: StructuralRule<'iommu'> = {
  name: 'iommu',
  scope: 'structural',
  per: 'device',
  atom: (device) => (device.iommu ? undefined : false),
  advice: (f) => `${f.device} has no IOMMU and needs physically contiguous memory ${f.where}: it needs a contiguous pool (CMA or a carveout) it can reach, large enough for the buffer`,
};
