// The formats a device takes at all (per device). The solver intersects the request's formats with
// every device's list (problem.ts).

import { listText } from '../../util/list-text.js';
import type { StructuralRule } from './rule.js';

export const formats: StructuralRule<'formats'> = {
  name: 'formats',
  scope: 'structural',
  per: 'device',
  atom: (device) => [...device.formats.keys()],
  advice: (f, { core }) => {
    const others = core.filter((a) => a.constraint === 'formats' && a.device !== undefined && a.device !== f.device).map((a) => a.device!);
    // When the others' stated uses are part of the conflict, they take some of these formats, but not that way.
    const used = core.some((a) => a.constraint === 'access' && others.includes(a.device!)) ? ' for the use the request states' : '';
    return `${f.device} takes only ${listText(f.value as string[])} ${f.where}${others.length > 0 ? `, none of which ${listText(others)} take${others.length === 1 ? 's' : ''} as well${used}` : ''}`;
  },
};
