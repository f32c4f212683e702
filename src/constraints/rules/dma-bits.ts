// A device without an IOMMU reaches physical addresses below 2^dmaBits only (its DMA mask): the
// buffer's heap must end below the smallest such limit of the devices sharing it.

import { formatAddress } from '../units.js';
import { pow2 } from '../../util/int.js';
import type { Device } from '../model.js';
import type { DeviceRule } from './rule.js';

/** 53 bits and more cover every address a double holds exactly: no limit. */
const UNLIMITED_BITS = 53;

export const dmaBits: DeviceRule<'dmaBits'> = {
  name: 'dmaBits',
  scope: 'device',
  merge: 'min',
  target: 'heap',
  physical: true,
  liftedBySize: false,
  read: (d: Device) => (d.dmaBits !== undefined && d.dmaBits < UNLIMITED_BITS ? pow2(d.dmaBits) : Infinity),
  atomValue: (d: Device) => d.dmaBits!,
  advice: (f) => `${f.device} reaches only addresses below ${formatAddress(2 ** (f.value as number))} (${String(f.value)}-bit DMA) ${f.where}`,
};
