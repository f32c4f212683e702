// Helpers over a parsed Request that the solver, the allocator and the simulator share: how its
// devices and uses are written, and whether its size fits exact integer arithmetic.

import { InputError } from '../errors.js';
import { checked } from '../util/int.js';
import type { Request } from './model.js';

/** "camera:write" for a device whose use the request states, else the device's name. */
export function deviceEntries(request: Request): string[] {
  return request.devices.map((d) => {
    const use = request.access.get(d);
    return use === undefined ? d : `${d}:${use}`;
  });
}

/** Requests already found to be of a size the layout arithmetic can hold exactly. */
const magnitudeChecked = new WeakSet<Request>();

/** Total pixels x bytes must stay an exact integer; used before any layout arithmetic. */
export function checkRequestMagnitude(request: Request): void {
  if (magnitudeChecked.has(request)) return;
  for (const f of request.formats) {
    const maxCpp = Math.max(...f.planes.map((p) => p.cpp));
    const bytes = request.width * request.height * maxCpp * f.planes.length * request.count;
    try {
      checked('width x height x bytes per pixel x count', bytes);
    } catch {
      throw new InputError(
        `request: ${request.width}x${request.height} ${f.name} x ${request.count} buffers needs more than 2^53 bytes`,
        'width',
        request.width,
      );
    }
  }
  magnitudeChecked.add(request);
}
