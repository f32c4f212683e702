// --fit's buffers: "4x3840x2160:NV12" (a count of frames of a format, laid out linear and unpadded:
// the least a device asks) or "4x8MiB" (a count of byte sizes).

import { findFormat } from '../constraints/formats.js';
import { findModifier } from '../constraints/modifiers.js';
import { parseByteCount } from '../constraints/units.js';
import { computeLayout } from '../solver/layout.js';
import { InputError } from '../errors.js';

/** The buffers, in bytes, in the order they would be allocated. */
export function parseFitSpec(text: string): number[] {
  const fail = (why: string): never => {
    throw new InputError(`--fit ${JSON.stringify(text)}: ${why}; e.g. --fit 4x3840x2160:NV12 or --fit 4x8MiB`, 'fit', text);
  };
  const frames = /^(\d{1,4})x(\d{1,6})x(\d{1,6}):(\S+)$/.exec(text.trim());
  if (frames) {
    const [count, width, height] = [Number(frames[1]), Number(frames[2]), Number(frames[3])];
    if (count < 1 || width < 1 || height < 1) fail('count, width and height are at least 1');
    const format = findFormat(frames[4]!) ?? fail(`unknown format ${JSON.stringify(frames[4])} (udalloc formats lists them)`);
    const layout = computeLayout(format, findModifier('LINEAR')!, width, height, { pitchAlign: 1, heightAlign: 1, offsetAlign: 1, sizeAlign: 1 })!;
    // A multi-planar format's frame is a buffer per plane, allocated plane by plane.
    const frame = layout.buffers ?? [layout.size];
    return Array.from({ length: count }, () => frame).flat();
  }
  const bytes = /^(\d{1,4})x(.+)$/.exec(text.trim());
  if (!bytes) return fail('expected COUNTxWIDTHxHEIGHT:FORMAT or COUNTxSIZE');
  const count = Number(bytes[1]);
  if (count < 1) fail('the count is at least 1');
  const size = parseByteCount(bytes[2]);
  if ('error' in size) return fail(size.error);
  if (size.value < 1) fail('a buffer is at least 1 byte');
  return Array.from({ length: count }, () => size.value);
}
