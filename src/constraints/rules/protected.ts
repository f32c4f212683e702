// A device that works only on protected memory (secure heaps), or never on it.

import type { StructuralRule } from './rule.js';

export const protectedMemory: StructuralRule<'protected'> = {
  name: 'protected',
  scope: 'structural',
  per: 'device',
  atom: (device) => (device.protected !== 'optional' ? device.protected : undefined),
  advice: (f) =>
    f.value === 'required'
      ? `${f.device} works only on protected memory ${f.where}: it needs a secure heap it can reach, large enough for the buffer (memory the firmware or TEE protects, exported as a dma-buf heap)`
      : `${f.device} cannot use protected memory ${f.where}: the buffer must not be protected while it shares it`,
};
