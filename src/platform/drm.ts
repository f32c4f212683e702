// A live DRM/KMS card (/dev/dri/cardN) described from the driver's own answers through libdrm
// (native/src/drm.c): each plane's IN_FORMATS pairs (or its plain format list, linear only, where
// the driver has no IN_FORMATS), writeback connectors and what they write, PRIME import and ADDFB2
// modifiers. One device per card: a buffer can be scanned out when any primary or overlay plane
// takes its format and modifier (cursor planes are left out), so the card's rules are the union of
// those planes'; a writeback connector is a device of its own that writes.

import { closeSync, constants, openSync } from 'node:fs';
import { findFormat } from '../constraints/formats.js';
import { findModifier, shortModifierName } from '../constraints/modifiers.js';
import type { DrmAddon, DrmDescription } from '../kernel/native/addon.js';
import type { DiscoveredFormat } from './derive.js';

/** DRM_PLANE_TYPE_* (include/drm/drm_plane.h, the "type" property's values). */
export const PLANE_TYPES: Readonly<Record<number, string>> = { 0: 'overlay', 1: 'primary', 2: 'cursor' };

export interface DrmCard {
  readonly path: string;
  readonly driver: string;
  /** Formats the card scans out (read), from its primary and overlay planes. */
  readonly formats: readonly DiscoveredFormat[];
  /** Formats its writeback connectors write, if it has any. */
  readonly writeback: readonly DiscoveredFormat[];
  readonly prime: boolean;
  readonly addfb2Modifiers: boolean;
  readonly notes: readonly string[];
}

/** The planes' answers as format rules (pure: the unit tests feed it fuzzed answers). */
export function cardRules(path: string, d: DrmDescription): { formats: DiscoveredFormat[]; writeback: DiscoveredFormat[]; notes: string[] } {
  const notes: string[] = [];
  const modifiers = new Map<string, { mods: string[]; planes: Set<number> }>();
  const unknownFormats = new Set<string>();
  const unknownModifiers = new Set<string>();
  for (const p of d.planes) {
    const type = PLANE_TYPES[p.type] ?? `type ${p.type}`;
    if (type === 'cursor') continue;
    // Without IN_FORMATS a plane takes its formats linear only (drm_plane.c format_default_modifiers).
    const pairs: Array<[number, string]> = p.pairs ?? p.formats.map((f) => [f, '0x0000000000000000']);
    for (const [code, hex] of pairs) {
      const name = findFormat(code)?.name;
      if (!name) {
        unknownFormats.add(`0x${code.toString(16)}`);
        continue;
      }
      const m = findModifier(hex);
      if (!m) {
        unknownModifiers.add(hex);
        continue;
      }
      const entry = modifiers.get(name) ?? { mods: [], planes: new Set<number>() };
      const short = shortModifierName(m);
      if (!entry.mods.includes(short)) entry.mods.push(short);
      entry.planes.add(p.id);
      modifiers.set(name, entry);
    }
  }
  if (unknownFormats.size > 0) notes.push(`${path} (${d.driver}): formats udalloc does not know, left out: ${[...unknownFormats].join(', ')}`);
  if (unknownModifiers.size > 0) notes.push(`${path} (${d.driver}): modifiers udalloc does not know, left out: ${[...unknownModifiers].join(', ')}`);
  const formats = [...modifiers].map(([format, e]): DiscoveredFormat => ({
    format,
    access: 'read',
    // LINEAR first when offered: the layout every other device can share.
    modifiers: e.mods.includes('LINEAR') ? ['LINEAR', ...e.mods.filter((x) => x !== 'LINEAR')] : e.mods,
    pitchAlign: 1,
    source: `${path} (${d.driver}) plane${e.planes.size > 1 ? 's' : ''} ${[...e.planes].join(', ')} ${d.planes.some((p) => e.planes.has(p.id) && p.pairs) ? 'IN_FORMATS' : 'formats (no IN_FORMATS: linear)'}`,
  }));
  const writeback: DiscoveredFormat[] = [];
  for (const w of d.writeback) {
    for (const code of w.formats) {
      const format = findFormat(code)?.name;
      if (format && !writeback.some((x) => x.format === format)) writeback.push({ format, access: 'write', modifiers: ['LINEAR'], pitchAlign: 1, source: `${path} (${d.driver}) writeback connector ${w.id} WRITEBACK_PIXEL_FORMATS` });
    }
  }
  if (!d.prime) notes.push(`${path} (${d.driver}): no DRM_CAP_PRIME: it cannot import dma-bufs`);
  return { formats, writeback, notes };
}

/** The indices set in a possible_crtcs bitmask. */
export function crtcIndices(mask: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 32; i++) if ((mask >>> i) & 1) out.push(i);
  return out;
}

/** Describes a card through libdrm; a card that vanishes or refuses us gives an error line, never a throw. */
export function describeDrm(path: string, addon: DrmAddon): DrmCard | { readonly path: string; readonly error: string } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR);
  } catch (err) {
    return { path, error: `cannot open: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  try {
    let d: DrmDescription;
    try {
      d = addon.drmDescribe(fd);
    } catch (err) {
      return { path, error: `${(err as Error).message}` };
    }
    const { formats, writeback, notes } = cardRules(path, d);
    // Which CRTCs each plane can feed, and the pitch the driver picks for its own (dumb) buffers:
    // hints for the reader, not constraints (an imported buffer may have any pitch the plane takes).
    notes.push(`${path} (${d.driver}): ${d.planes.map((p) => `plane ${p.id} ${PLANE_TYPES[p.type] ?? `type ${p.type}`} -> CRTC ${crtcIndices(p.possibleCrtcs).join('/') || 'none'}`).join('; ')}`);
    try {
      const pitches = [640, 641, 1001].map((w) => `${w} px -> ${addon.drmDumbPitch(fd, w, 16, 32)}`);
      notes.push(`${path} (${d.driver}): dumb-buffer pitch at 32 bpp (a hint): ${pitches.join(', ')}`);
    } catch (err) {
      notes.push(`${path} (${d.driver}): no dumb buffers (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    return { path, driver: d.driver, formats, writeback, prime: (d.prime & 1) !== 0, addfb2Modifiers: d.addfb2Modifiers !== 0, notes };
  } finally {
    closeSync(fd);
  }
}
