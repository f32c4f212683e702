// The largest buffer a device takes, in bytes (a size register's width, an IOMMU window).

import { formatBytes } from '../units.js';
import type { Device } from '../model.js';
import type { DeviceRule } from './rule.js';

export const maxSize: DeviceRule<'maxSize'> = {
  name: 'maxSize',
  scope: 'device',
  merge: 'min',
  target: 'heap',
  physical: false,
  liftedBySize: true,
  read: (d: Device) => d.maxSize ?? Infinity,
  advice: (f) => `${f.device} takes buffers up to ${formatBytes(f.value as number)} ${f.where}`,
  valueText: (v) => formatBytes(v as number),
  sizeBound: { exceeded: (d) => (d.maxSize !== undefined ? `takes buffers up to ${formatBytes(d.maxSize)}` : undefined) },
};
