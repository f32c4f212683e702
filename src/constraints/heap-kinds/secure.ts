// A protected (TrustZone/TEE) pool: a reserved region like a carveout, which the normal world
// cannot map.

import type { HeapKindRules } from './kind.js';
import { reservedPool } from './carveout.js';

export const secure: HeapKindRules = {
  ...reservedPool,
  kind: 'secure',
  cpuAccess: false,
  secure: true,
  scarcity: 4,
};
