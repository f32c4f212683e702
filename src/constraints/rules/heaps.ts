// The only heaps a device reaches (device-tree memory-region links); the solver intersects them.

import { listText } from '../../util/list-text.js';
import type { StructuralRule } from './rule.js';

export const heaps: StructuralRule<'heaps'> = {
  name: 'heaps',
  scope: 'structural',
  per: 'device',
  atom: (device) => device.heaps,
  advice: (f) => `${f.device} reaches only ${listText(f.value as string[])} ${f.where}: a memory-region link in its device-tree node adds a pool`,
};
