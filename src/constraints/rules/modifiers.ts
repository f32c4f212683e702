// The modifiers (tilings, compressions) a device takes a format in, best first. The solver
// intersects the devices' lists and ranks a modifier by its places in them (problem.ts).

import { shortModifierName } from '../modifiers.js';
import { listText } from '../../util/list-text.js';
import type { StructuralRule } from './rule.js';

export const modifiers: StructuralRule<'modifiers'> = {
  name: 'modifiers',
  scope: 'structural',
  per: 'format',
  atom: (_device, rule) => rule!.modifiers.map(shortModifierName),
  advice: (f) => `${f.device} takes ${f.format} only as ${listText(f.value as string[])} ${f.where}`,
};
