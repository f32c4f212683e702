// udalloc devices: what each device of a platform requires, with where every constraint came from.

import { parseArgs } from 'node:util';
import { shortModifierName } from '../constraints/modifiers.js';
import { formatBytes } from '../constraints/units.js';
import type { Device } from '../constraints/model.js';
import { LAYOUT_RULES, NEUTRAL } from '../constraints/rules/index.js';
import { platformFromOption, platformHelp } from './platform-option.js';

const HELP = `usage: udalloc devices [--platform FILE] [--json]

${platformHelp}
  --json                print one JSON object instead of text`;

function deviceJson(d: Device) {
  return {
    name: d.name,
    iommu: d.iommu,
    dmaBits: d.dmaBits ?? null,
    heaps: d.heaps ?? null,
    preferredHeaps: d.preferredHeaps,
    alignment: d.alignment,
    sizeAlign: d.sizeAlign,
    maxSize: d.maxSize ?? null,
    coherent: d.coherent,
    protected: d.protected,
    formats: [...d.formats.values()].map((r) => ({ format: r.format.name, access: r.access, modifierAccess: Object.fromEntries([...r.modifierAccess].map(([m, a]) => [shortModifierName(m), a])), modifiers: r.modifiers.map(shortModifierName), pitchAlign: r.pitchAlign, heightAlign: r.heightAlign, widthAlign: r.widthAlign, offsetAlign: r.offsetAlign, maxWidth: r.maxWidth ?? null, maxHeight: r.maxHeight ?? null, maxPitch: r.maxPitch ?? null })),
    sources: d.sources,
  };
}

function deviceText(d: Device): string {
  const memory = d.iommu ? 'IOMMU: any pages' : `no IOMMU: contiguous${d.dmaBits !== undefined ? `, below 2^${d.dmaBits}` : ''}`;
  const lines = [`${d.name}: ${memory}${d.alignment > 4096 ? `, base aligned to ${formatBytes(d.alignment)}` : ''}${d.heaps ? `, only ${d.heaps.join(', ')}` : ''}${d.protected !== 'optional' ? `, protected ${d.protected}` : ''}`];
  // Sources of the memory constraints that were written down (defaults say nothing new).
  for (const [field, source] of Object.entries(d.sources)) if (['iommu', 'dmaBits', 'heaps', 'alignment', 'protected'].includes(field) && !source.includes('(default:')) lines.push(`    ${field}: ${source}`);
  for (const r of d.formats.values()) {
    // Every layout rule of the table that restricts this format, briefly.
    const stated = LAYOUT_RULES.flatMap((rule) => {
      const v = rule.read(r);
      return v !== NEUTRAL[rule.merge] && rule.brief ? [rule.brief(v)] : [];
    });
    const rules = [r.access !== 'readwrite' ? `${r.access} only` : '', ...stated].filter(Boolean).join(', ');
    lines.push(`  ${r.format.name.padEnd(12)} ${r.modifiers.map((m) => (r.modifierAccess.has(m) ? `${shortModifierName(m)} (${r.modifierAccess.get(m)} only)` : shortModifierName(m))).join(' > ')}${rules ? `  (${rules})` : ''}`);
  }
  return lines.join('\n');
}

/** The command's flags (parseArgs options); main.ts suggests the closest one for a typo. */
export const devicesOptions = { platform: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

export function devicesCommand(args: string[]): number {
  const { values } = parseArgs({ args, options: devicesOptions, strict: true, allowPositionals: false });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const platform = platformFromOption(values.platform);
  if (values.json) process.stdout.write(`${JSON.stringify({ platform: platform.name, devices: platform.devices.map(deviceJson) })}\n`);
  else process.stdout.write(`${platform.devices.map(deviceText).join('\n')}\n`);
  return 0;
}
