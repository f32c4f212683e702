// Writes a discovered platform as a profile (YAML) the user then refines: every value carries its
// source as a comment; formats, which device trees rarely describe, get a placeholder to replace
// from the driver.

import type { DiscoveredPlatform } from './derive.js';

const q = (s: string) => JSON.stringify(s);
const hex = (n: number) => `0x${n.toString(16)}`;
const GiB = 2 ** 30;

const PLACEHOLDER_FORMAT = { display: 'XRGB8888', writeback: 'XRGB8888', camera: 'NV12', codec: 'NV12', gpu: 'ARGB8888' } as const;
/** What the device kind does with buffers: scanout reads, capture writes; codecs and GPUs do both. */
const PLACEHOLDER_ACCESS = { display: 'access: read, ', writeback: 'access: write, ', camera: 'access: write, ', codec: '', gpu: '' } as const;

export function profileYaml(p: DiscoveredPlatform, name: string): string {
  const lines = [
    `# Platform profile written by \`udalloc discover\` from ${p.origin}.`,
    '# Each value says where it came from. Device trees rarely list pixel formats and modifiers:',
    "# replace each device's placeholder `formats` with what its driver supports before relying on plans.",
    `name: ${q(name)}`,
    'heaps:',
  ];
  for (const h of p.heaps) {
    lines.push(`  - name: ${q(h.name)}`, `    kind: ${h.kind}`);
    if (h.size > 0) lines.push(`    size: ${h.size}    # ${h.source}`);
    else lines.push(`    size: ${h.kind === 'system' ? GiB : 4096}    # TODO: not in the source (${h.source}); set the real size`);
    if (h.base !== null) lines.push(`    base: ${hex(h.base)}`);
    if (h.limit !== null) lines.push(`    limit: ${hex(h.limit)}    # highest address the pool may reach`);
    if (h.private) lines.push('    # a no-map region private to the device(s) linking to it (often firmware memory), not a buffer pool');
  }
  lines.push('devices:');
  const privateHeaps = new Set(p.heaps.filter((h) => h.private).map((h) => h.name));
  for (const d of p.devices) {
    lines.push(`  - name: ${q(d.name)}    # ${d.kind}: ${d.source} (${q(d.compatible)})`);
    lines.push(`    iommu: ${d.iommu}    # ${d.sources.iommu}`);
    if (d.dmaBits !== null) lines.push(`    dmaBits: ${d.dmaBits}    # ${d.sources.dmaBits}`);
    const pools = (d.heaps ?? []).filter((h) => !privateHeaps.has(h));
    const privates = (d.heaps ?? []).filter((h) => privateHeaps.has(h));
    if (pools.length > 0) lines.push(`    heaps: [${pools.map(q).join(', ')}]    # ${d.sources.heaps}`);
    if (privates.length > 0) lines.push(`    # memory-region ${privates.join(', ')}: private memory, not where shared buffers go`);
    if (d.formats && d.formats.length > 0) {
      lines.push('    formats:    # as the driver reported them');
      for (const f of d.formats) lines.push(`      ${f.format}: { access: ${f.access}, modifiers: [${f.modifiers.join(', ')}], pitchAlign: ${f.pitchAlign}${f.implicitPlaneOffsets ? ', implicitPlaneOffsets: true' : ''} }    # ${f.source}`);
    } else {
      lines.push('    formats:    # TODO: placeholder; list the formats and modifiers the driver supports');
      lines.push(`      ${PLACEHOLDER_FORMAT[d.kind]}: { ${PLACEHOLDER_ACCESS[d.kind]}modifiers: [LINEAR] }`);
    }
  }
  if (p.devices.length === 0) {
    // A profile needs a device; with none found, the CPU is the only user (any heap will do).
    lines.push('  - name: cpu    # no display, camera, codec or GPU found; the CPU is the one user', '    iommu: true    # the CPU maps any pages', '    formats:', '      XRGB8888: { modifiers: [LINEAR] }', '      NV12: { modifiers: [LINEAR] }');
  }
  return `${lines.join('\n')}\n`;
}
