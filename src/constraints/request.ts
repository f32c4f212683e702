// Helpers over a parsed Request that the solver, the allocator and the simulator share: how its
// devices and uses are written, and whether its size fits exact integer arithmetic.

import { InputError } from '../errors.js';
import type { Request } from './model.js';

/** "camera:write" for a device whose use the request states, else the device's name. */
export function deviceEntry(request: Request, device: string): string {
  const use = request.access.get(device);
  return use === undefined ? device : `${device}:${use}`;
}

/** Every device of the request as its entry is written (deviceEntry()). */
export function deviceEntries(request: Request): string[] {
  return request.devices.map((d) => deviceEntry(request, d));
}

/**
 * Total pixels x bytes must stay an exact integer; used before any layout arithmetic. A few
 * multiplications per format: cheaper than remembering which requests passed (a WeakSet entry
 * per new request cost V8 ~0.6 us).
 */
export function checkRequestMagnitude(request: Request): void {
  for (const f of request.formats) {
    let maxCpp = 0;
    for (const p of f.planes) maxCpp = Math.max(maxCpp, p.cpp);
    const bytes = request.width * request.height * maxCpp * f.planes.length * request.count;
    if (Number.isSafeInteger(bytes) && bytes >= 0) continue;
    throw new InputError(`request: ${request.width}x${request.height} ${f.name} x ${request.count} buffers needs more than 2^53 bytes`, 'width', request.width);
  }
}
