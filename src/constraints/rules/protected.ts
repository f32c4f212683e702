// A device that works only on protected memory (secure heaps), or never on it.

import type { StructuralRule } from './rule.js';

export const protectedMemory: StructuralRule<'protected'> = {
  name: 'protected',
  scope: 'structural',
  per: 'device',
  atom: (device) => (device.protected !== 'optional' ? device.protected : undefined),
  advice: (f) => (f.value === 'required' ? `${f.device} works only on protected memory ${f.where}` : `${f.device} cannot use protected memory ${f.where}`),
};
