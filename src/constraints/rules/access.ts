// What a device can do with a format (read, write or both), and modifiers it uses more narrowly
// (EGL external_only: sample only). Only a rule that excludes the use the request states restricts;
// the atom is the request's statement as much as the device's, so explanations blame it late and
// fixes may narrow the stated use (solver/fixes.ts).

import { accessCovers } from '../model.js';
import { shortModifierName } from '../modifiers.js';
import { listText } from '../../util/list-text.js';
import type { StructuralRule } from './rule.js';

export const access: StructuralRule<'access'> = {
  name: 'access',
  scope: 'structural',
  per: 'format',
  statedByRequest: true,
  atom: (_device, rule, need) => {
    if (need === undefined) return undefined;
    // The format's access when that excludes the use, else the modifiers that do.
    if (!accessCovers(rule!.access, need)) return rule!.access;
    const narrow = [...rule!.modifierAccess].filter(([, use]) => !accessCovers(use, need)).map(([m, use]) => `${shortModifierName(m)}: ${use}`);
    return narrow.length > 0 ? narrow : undefined;
  },
  advice: (f, { request }) => {
    const use = request.access.get(f.device);
    const can = Array.isArray(f.value) ? `uses ${f.format} only so (${listText(f.value as string[])})` : `only ${f.value === 'read' ? 'reads' : 'writes'} ${f.format}`;
    return `${f.device} ${can} ${f.where}, and the request has it ${use === 'readwrite' ? 'reading and writing' : use === 'read' ? 'reading' : 'writing'} the buffer`;
  },
};
