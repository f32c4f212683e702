// Schemas for untrusted platform profiles and requests (zod). They check shape and ranges and
// resolve names (formats, modifiers) so that every error names the exact field path and value.

import { z } from 'zod';
import { findFormat, formatNames } from './formats.js';
import { findModifier, modifierNames } from './modifiers.js';
import { parseByteCount } from './units.js';
import { didYouMean } from '../util/suggest.js';

// z.unknown() so that NaN, booleans and the like reach parseByteCount and get its precise message.
const bytes = z.unknown().transform((input, ctx) => {
  const parsed = parseByteCount(input);
  if ('error' in parsed) {
    ctx.addIssue({ code: 'custom', message: parsed.error });
    return z.NEVER;
  }
  return parsed.value;
});

const positiveBytes = bytes.refine((n) => n > 0, { message: 'must be greater than 0' });

/** Alignments are positive integers; powers of two are usual but not required (some ISPs use 48). */
const alignment = positiveBytes;

const name = z.string().trim().min(1, 'must not be empty').max(128, 'is longer than 128 characters');

const formatName = z.union([z.string(), z.number()]).transform((input, ctx) => {
  const f = findFormat(input);
  if (!f) {
    ctx.addIssue({ code: 'custom', message: `unknown format${typeof input === 'string' ? didYouMean(input, formatNames()) : ''}; run "udalloc formats" for the list` });
    return z.NEVER;
  }
  return f;
});

const modifierName = z.string().transform((input, ctx) => {
  const m = findModifier(input);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `unknown modifier${didYouMean(input, modifierNames())}; run "udalloc formats" for the list` });
    return z.NEVER;
  }
  return m;
});

export const heapKinds = ['system', 'system-contig', 'cma', 'carveout', 'secure'] as const;

export const heapSchema = z.strictObject({
  name,
  kind: z.enum(heapKinds),
  base: bytes.optional(),
  size: positiveBytes,
  /** Upper bound (exclusive) of where the pool may be placed, for dynamically placed pools (alloc-ranges). */
  limit: positiveBytes.optional(),
  contiguous: z.boolean().optional(),
  cpuAccess: z.boolean().optional(),
  cached: z.boolean().optional(),
  maxAlign: alignment.optional(),
  /** CMA only: CONFIG_CMA_ALIGNMENT, 2..12 (mm/Kconfig), default 8. */
  alignOrder: z.number().int().min(2).max(12).optional(),
});

export const formatRuleSchema = z.strictObject({
  /** read (scanout, encode, texture), write (capture, decode, render) or readwrite (default). */
  access: z.enum(['read', 'write', 'readwrite']).optional(),
  /**
   * Narrower access for some modifiers, as EGL's external_only flag marks modifiers a GPU can only
   * sample: { Y_TILED: read }.
   */
  modifierAccess: z.record(z.string(), z.enum(['read', 'write', 'readwrite'])).optional(),
  modifiers: z.array(modifierName).min(1, 'must list at least one modifier').optional(),
  pitchAlign: alignment.optional(),
  heightAlign: alignment.optional(),
  /** Widths padded to a multiple of this many pixels, rows holding the padded width (a V4L2 frame size step). */
  widthAlign: z.number().int().positive().max(1 << 16).optional(),
  offsetAlign: alignment.optional(),
  maxWidth: z.number().int().positive().max(1 << 20).optional(),
  maxHeight: z.number().int().positive().max(1 << 20).optional(),
  /** Largest pitch in bytes of any plane (a pitch register's width). */
  maxPitch: z.number().int().positive().max(2 ** 32).optional(),
  /**
   * The device finds every plane after plane 0 itself, right after the one before, with pitches
   * derived from plane 0's (V4L2 single-planar NV12, YUV420...: chroma at bytesperline x height).
   */
  implicitPlaneOffsets: z.boolean().optional(),
});

export const deviceSchema = z.strictObject({
  name,
  iommu: z.boolean().optional(),
  dmaBits: z.number().int().min(12).max(64).optional(),
  heaps: z.array(name).min(1, 'must name at least one heap (omit the field to allow any)').optional(),
  preferredHeaps: z.array(name).optional(),
  alignment: alignment.optional(),
  sizeAlign: alignment.optional(),
  maxSize: positiveBytes.optional(),
  coherent: z.boolean().optional(),
  protected: z.enum(['required', 'forbidden', 'optional']).optional(),
  formats: z.record(z.string(), formatRuleSchema.nullable()).refine((r) => Object.keys(r).length > 0, { message: 'must list at least one format' }),
});

export const profileSchema = z.strictObject({
  name: name.optional(),
  heaps: z.array(heapSchema).min(1, 'must list at least one heap'),
  devices: z.array(deviceSchema).min(1, 'must list at least one device'),
});

const dimension = z.number().int('must be a whole number of pixels').positive('must be at least 1').max(1 << 20, 'is larger than 1048576 pixels');

export const requestSchema = z.strictObject({
  width: dimension,
  height: dimension,
  // Optional: without it, the formats every device takes (see buildRequest).
  formats: z.array(formatName).min(1, 'must list at least one format').optional(),
  devices: z.array(name).min(1, 'must list at least one device'),
  cpu: z.enum(['none', 'read', 'write', 'readwrite']).default('none'),
  protected: z.boolean().default(false),
  count: z.number().int('must be a whole number').positive('must be at least 1').max(4096, 'is more than 4096 buffers').default(1),
  // The size is set by what produces the frames (a stream, a sensor mode): never a fix's to change.
  fixedSize: z.boolean().optional(),
});

export type RawProfile = z.output<typeof profileSchema>;
export type RawRequest = z.output<typeof requestSchema>;
export { formatName as formatNameSchema };
