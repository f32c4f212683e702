// udalloc formats: the DRM formats (and V4L2's raw Bayer formats) and modifiers udalloc knows, with their codes and geometry.

import { parseArgs } from 'node:util';
import { FORMATS, v4l2Only } from '../constraints/formats.js';
import { MODIFIERS, modifierHex, shortModifierName } from '../constraints/modifiers.js';

/** The command's flags (parseArgs options); main.ts suggests the closest one for a typo. */
export const formatsOptions = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

export function formatsCommand(args: string[]): number {
  const { values } = parseArgs({ args, options: formatsOptions, strict: true });
  if (values.help) {
    process.stdout.write('usage: udalloc formats [--json]\n');
    return 0;
  }
  const formats = FORMATS.map((f) => ({
    name: f.name,
    fourcc: `0x${f.fourcc.toString(16).padStart(8, '0')}`,
    code: f.code,
    planes: f.planes.map((p) => p.bits / 8),
    hsub: f.hsub,
    vsub: f.vsub,
    namespace: v4l2Only(f) ? 'v4l2' : 'drm',
    buffers: f.planeBuffers ? 'one per plane' : 'one',
  }));
  const modifiers = MODIFIERS.map((m) => ({
    name: m.name,
    short: shortModifierName(m),
    value: modifierHex(m.value),
    layout: m.layout.kind === 'opaque' ? `opaque: ${m.layout.why}` : m.layout.kind,
  }));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ formats, modifiers })}\n`);
    return 0;
  }
  const out = ['formats (name, fourcc, bytes per pixel of each plane, chroma subsampling; raw Bayer and multi-planar fourccs are V4L2\'s):'];
  for (const f of formats) out.push(`  ${f.name.padEnd(15)} ${f.fourcc} '${f.code}'  bytes/pixel ${f.planes.join('/')}  ${f.hsub}x${f.vsub}${f.namespace === 'v4l2' ? (f.buffers === 'one' ? '  (V4L2 raw Bayer)' : '  (V4L2 multi-planar: one buffer per plane)') : ''}`);
  out.push('', 'modifiers (name, short name, value, layout model):');
  for (const m of modifiers) out.push(`  ${m.name.padEnd(48)} ${m.short.padEnd(26)} ${m.value}  ${m.layout}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
