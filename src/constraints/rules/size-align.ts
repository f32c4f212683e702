// The buffer's size is a multiple of this many bytes (a device that fetches in whole blocks).

import { formatBytes } from '../units.js';
import type { Device } from '../model.js';
import type { DeviceRule } from './rule.js';

export const sizeAlign: DeviceRule<'sizeAlign'> = {
  name: 'sizeAlign',
  scope: 'device',
  merge: 'lcm',
  target: 'layout',
  physical: false,
  liftedBySize: false,
  read: (d: Device) => d.sizeAlign,
  advice: (f) => `${f.device}'s sizeAlign is ${formatBytes(f.value as number)} ${f.where}`,
  valueText: (v) => formatBytes(v as number),
};
