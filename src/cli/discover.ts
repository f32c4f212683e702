// udalloc discover: the platform as Linux publishes it (a .dtb, a sysfs tree, or this machine),
// printed with the source of every value, and optionally written as a profile to refine.

import { CMA_MIN_ALIGNMENT_BYTES } from '../constraints/heap-kinds/index.js';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { checkOutputPath, writeOutput } from './output-file.js';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../errors.js';
import { formatAddress, formatBytes, parseByteCount } from '../constraints/units.js';
import { readDtbFile } from '../platform/fdt.js';
import { deriveFromTree, type DiscoveredPlatform } from '../platform/derive.js';
import { discoverLive } from '../platform/live.js';
import { profileYaml } from '../platform/profile-writer.js';

const HELP = `usage: udalloc discover [--dtb FILE [--cma SIZE] | --sysfs ROOT] [--probe] [--json] [--write-profile FILE]

  --dtb FILE            read a flattened device tree (.dtb)
  --sysfs ROOT          read a running system's tree under ROOT (ROOT/dev/dma_heap, ROOT/proc/meminfo,
                        ROOT/sys/firmware/devicetree/base, ROOT/sys/class/drm...); default: /
  --cma SIZE            with --dtb: the default CMA area's size when the tree does not give one
                        (the kernel's CONFIG_CMA_SIZE_MBYTES or cma=; a .dtb cannot know it)
  --probe               on this machine: import a scattered (system heap) and a contiguous (CMA)
                        buffer into each camera and display to learn which need contiguous memory
  --json                print one JSON object: {"heaps":[...],"devices":[...]}
  --write-profile FILE  write the platform as a profile (YAML) to complete with formats`;

function text(p: DiscoveredPlatform, notes: readonly string[]): string {
  const lines = [`platform from ${p.origin}`, ...notes.map((n) => `  ${n}`), 'heaps:'];
  for (const h of p.heaps) {
    const where = h.base !== null ? ` at ${formatAddress(h.base)}` : h.limit !== null ? ` below ${formatAddress(h.limit)}` : '';
    lines.push(`  ${h.name}: ${h.kind}${h.default ? ' (default CMA)' : ''}${h.private ? ' (private memory of the devices linking to it)' : ''}, ${h.size > 0 ? formatBytes(h.size) : 'size unknown'}${where}`, `      from ${h.source}`);
  }
  lines.push('devices:');
  for (const d of p.devices) {
    lines.push(`  ${d.name}: ${d.kind} (${d.compatible}), ${d.iommu ? 'IOMMU' : 'no IOMMU'}${d.dmaBits !== null ? `, ${d.dmaBits}-bit DMA` : ''}${d.heaps ? `, heaps ${d.heaps.join(', ')}` : ''}`);
    lines.push(`      iommu: ${d.sources.iommu}`);
    if (d.dmaBits !== null) lines.push(`      dmaBits: ${d.sources.dmaBits}`);
    if (d.heaps) lines.push(`      heaps: ${d.sources.heaps}`);
    for (const f of d.formats ?? []) lines.push(`      ${f.format}: ${f.access}, ${f.modifiers.join(', ')}, pitch a multiple of ${f.pitchAlign}    (${f.source.split('; pitch:')[0]})`);
  }
  if (p.devices.length === 0) lines.push('  (none found)');
  return lines.join('\n');
}

/** The command's flags (parseArgs options); main.ts suggests the closest one for a typo. */
export const discoverOptions = { dtb: { type: 'string' }, sysfs: { type: 'string' }, cma: { type: 'string' }, probe: { type: 'boolean' }, json: { type: 'boolean' }, 'write-profile': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

/** A root to discover under must exist and look like one: a directory with proc/ or sys/ in it. */
function checkSysfsRoot(root: string): void {
  const isDir = (p: string) => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false;
    }
  };
  if (!isDir(root)) throw new InputError(`--sysfs ${root}: not a directory`, 'sysfs', root);
  if (!isDir(join(root, 'sys')) && !isDir(join(root, 'proc')) && !isDir(join(root, 'dev'))) {
    throw new InputError(`--sysfs ${root}: has no sys/, proc/ or dev/ in it; give the root of a Linux system (/ or a copy of its /sys, /proc and /dev)`, 'sysfs', root);
  }
}

export function discoverCommand(args: string[]): number {
  const { values } = parseArgs({ args, options: discoverOptions, strict: true, allowPositionals: false });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.dtb !== undefined && values.sysfs !== undefined) throw new InputError('give --dtb FILE or --sysfs ROOT, not both', 'dtb');
  if (values.cma !== undefined && values.dtb === undefined) throw new InputError('--cma SIZE goes with --dtb FILE: a running system reports its CMA size itself (/proc/meminfo CmaTotal)', 'cma', values.cma);
  if (values.probe === true && (values.dtb !== undefined || values.sysfs !== undefined)) throw new InputError('--probe imports test buffers into this machine\'s devices: it cannot go with --dtb or --sysfs', 'probe', true);
  if (values['write-profile'] !== undefined) checkOutputPath(values['write-profile'], '--write-profile');
  if (values.sysfs !== undefined) checkSysfsRoot(values.sysfs);
  let platform: DiscoveredPlatform;
  let notes: readonly string[] = [];
  let buffers: unknown[] = [];
  if (values.dtb !== undefined) {
    let cma: number | undefined;
    if (values.cma !== undefined) {
      const parsed = parseByteCount(values.cma);
      if ('error' in parsed || parsed.value === 0) throw new InputError(`--cma ${values.cma}: ${'error' in parsed ? parsed.error : 'must be greater than 0'} (as cma= takes it: 64M, 256MiB, 0x4000000)`, 'cma', values.cma);
      // A bare small number is almost surely MiB with the unit forgotten; a CMA area is at least a pageblock.
      if (/^\d+$/.test(values.cma.trim()) && parsed.value < CMA_MIN_ALIGNMENT_BYTES) throw new InputError(`--cma ${values.cma}: ${parsed.value} bytes is less than one 2 MiB pageblock, the least a CMA area has; give a unit (${values.cma}M, as the kernel's cma= reads it)`, 'cma', values.cma);
      cma = parsed.value;
    }
    platform = deriveFromTree(readDtbFile(values.dtb), cma !== undefined ? { cma } : {});
    notes = platform.notes ?? [];
  } else {
    const root = values.sysfs ?? '/';
    const live = discoverLive(root, root === '/', values.probe === true);
    platform = live;
    notes = live.notes;
    buffers = [...live.buffers];
  }
  if (values['write-profile'] !== undefined) {
    const name = values.dtb !== undefined ? basename(values.dtb).replace(/\.dtb$/, '') : 'this-machine';
    writeOutput(values['write-profile'], profileYaml(platform, name), '--write-profile');
    if (!values.json) process.stderr.write(`udalloc: wrote ${values['write-profile']}; add each device's formats before negotiating\n`);
  }
  if (values.json) {
    // A system heap of size 0 is RAM the firmware fills in at boot: unknown, null as every unknown value.
    const heaps = platform.heaps.map((h) => ({ name: h.name, kind: h.kind, base: h.base, size: h.kind === 'system' && h.size === 0 ? null : h.size, limit: h.limit, source: h.source, ...(h.default ? { default: true } : {}), ...(h.private ? { private: true } : {}), ...(h.alignment !== undefined ? { alignment: h.alignment } : {}) }));
    const devices = platform.devices.map((d) => ({ name: d.name, kind: d.kind, compatible: d.compatible, iommu: d.iommu, dmaBits: d.dmaBits, heaps: d.heaps, source: d.source, sources: d.sources, ...(d.formats ? { formats: d.formats } : {}) }));
    process.stdout.write(`${JSON.stringify({ origin: platform.origin, heaps, devices, notes, ...(values.dtb === undefined ? { buffers } : {}) })}\n`);
  } else process.stdout.write(`${text(platform, notes)}\n`);
  return 0;
}
