// udalloc ion-map: writes the ION map native/ion reads (src/ion-compat/map.ts): each ION heap id a
// legacy program uses, and the dma-buf heap udalloc's solver picks for it on this machine.

import { existsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_ION_HEAPS, ION_MAP_ENV, ION_MAP_PATH, ION_TYPES, ionMap, ionMapText, parseIonHeap } from '../ion-compat/map.js';
import { platformFromOption, platformHelp } from './platform-option.js';
import { checkOutputPath } from './output-file.js';

const HELP = `usage: udalloc ion-map [--heap ID:TYPE[:NAME][=DEVICE:USE,...]]... [--service [ADDRESS]]
                     [--platform P] [--output FILE] [--json]

Writes the table that lets ION programs run on a kernel without ION (native/ion: LD_PRELOAD
libudalloc-ion.so, or the drop-in libion.so): each ION heap id the programs use, its ION type and
name, and the dma-buf heap its buffers come from. For an id whose devices are named, udalloc's
solver picks that heap for those devices; otherwise the id's ION type does (system: the system
heap; dma: the default CMA area; carveout: a carveout). Ids this machine cannot serve are left out,
and the table says why.

  --heap SPEC           an id the programs use, e.g. 4:dma:ion_cma_heap=gpu:write,display:read
                        (types: ${ION_TYPES.join(', ')}); repeatable. Default: system 0,
                        system_contig 1, carveout 2, dma 4, with no devices
  --service [ADDRESS]   ids with devices allocate through the udalloc service's Allocate call, so
                        legacy programs are charged and held to quotas (ADDRESS: a D-Bus address;
                        default: the system bus); without a service they allocate directly
${platformHelp}
  --output FILE         where to write it (default: $${ION_MAP_ENV}, else ${ION_MAP_PATH}; - for stdout)
  --json                print the table as JSON (heaps, and those left out with why) and write nothing`;

export const ionMapOptions = {
  heap: { type: 'string', multiple: true },
  service: { type: 'string' },
  platform: { type: 'string' },
  output: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function ionMapCommand(args: string[]): number {
  // "--service" alone means the system bus: give parseArgs a value it can take.
  const normalized = args.flatMap((a, i) => (a === '--service' && (args[i + 1] === undefined || args[i + 1]!.startsWith('--')) ? ['--service=system'] : [a]));
  const { values } = parseArgs({ args: normalized, options: ionMapOptions, strict: true, allowPositionals: false });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const platform = platformFromOption(values.platform);
  const specs = values.heap ? values.heap.map((h) => parseIonHeap(h, platform)) : DEFAULT_ION_HEAPS;
  const entries = ionMap(platform, specs);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ platform: platform.name, heaps: entries.filter((e) => e.heap).map((e) => ({ ...e.spec, dmaHeap: e.path, kind: e.heap!.kind, why: e.why, ...(e.request ? { request: e.request } : {}) })), leftOut: entries.filter((e) => !e.heap).map((e) => ({ ...e.spec, why: e.why })) })}\n`);
    return 0;
  }
  const output = values.output ?? process.env[ION_MAP_ENV] ?? ION_MAP_PATH;
  const text = ionMapText(entries, { platform: platform.name, bus: values.service, date: new Date().toISOString().slice(0, 10) });
  if (output === '-') {
    process.stdout.write(text);
  } else {
    if (output === ION_MAP_PATH) mkdirSync(dirname(output), { recursive: true });
    checkOutputPath(output, '--output');
    writeFileSync(output, text);
  }
  const kept = entries.filter((e) => e.heap);
  if (output === '-') return kept.length === 0 ? 3 : 0;
  const log = process.stdout;
  log.write(`wrote ${output}: ${kept.length} ION heap(s) for legacy programs${values.service !== undefined ? `, through the udalloc service on ${values.service}` : ''}\n`);
  for (const e of kept) log.write(`  id ${e.spec.id} (${e.spec.type}, ${e.spec.name}) -> ${e.path}: ${e.why}\n`);
  // A map for another machine's heaps (a profile, or the example board here) is written as asked, but said so.
  const absent = kept.filter((e) => !existsSync(e.path!));
  if (absent.length > 0) log.write(`note: this machine has no ${absent.map((e) => e.path).join(', ')}: the map is for platform ${platform.name}; on this machine those ids would fail with ENODEV\n`);
  for (const e of entries) if (!e.heap) log.write(`  left out: id ${e.spec.id} (${e.spec.type}): ${e.why}\n`);
  if (kept.length === 0) {
    log.write('no ION heap can be served on this machine: legacy programs will find no heaps\n');
    return 3;
  }
  return 0;
}
