// A device without an IOMMU may need its buffers to start on a physical boundary larger than a
// page: the heap must guarantee it (CMA's order alignment, a carveout's placement).

import { formatBytes } from '../units.js';
import { PAGE_SIZE, type Device } from '../model.js';
import type { DeviceRule } from './rule.js';

export const alignment: DeviceRule<'alignment'> = {
  name: 'alignment',
  scope: 'device',
  merge: 'lcm',
  target: 'heap',
  physical: true,
  liftedBySize: false,
  // Every heap gives a page: only a larger alignment restricts.
  read: (d: Device) => (d.alignment > PAGE_SIZE ? d.alignment : 1),
  advice: (f) => `${f.device} needs ${formatBytes(f.value as number)} physical base alignment ${f.where}, which no pool it reaches guarantees`,
  valueText: (v) => formatBytes(v as number),
};
