// udalloc heaps: the heaps of the selected backend with kind, range, capacity, use and largest free block.

import { parseArgs } from 'node:util';
import { openSync } from '../allocator/allocator.js';
import { heapRows, heapTable } from './heap-table.js';
import { onService, serviceHelp } from './service-client.js';
import { backendHelp, backendOption, platformFromOption, platformHelp } from './platform-option.js';

const HELP = `usage: udalloc heaps [--platform P | --service [ADDRESS]] [--backend B] [--json]

${platformHelp}
${backendHelp}
  --json                print one JSON object instead of text
${serviceHelp}`;

/** The command's flags (parseArgs options); main.ts suggests the closest one for a typo. */
export const heapsOptions = { service: { type: 'string' }, platform: { type: 'string' }, backend: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

export function heapsCommand(args: string[]): number | Promise<number> {
  const { values } = parseArgs({ args, options: heapsOptions, strict: true, allowPositionals: false });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.service !== undefined) return onService(values.service, 'heaps', { json: values.json });
  const dev = openSync({ backend: backendOption(values.backend), platform: platformFromOption(values.platform) });
  const rows = heapRows(dev);
  if (values.json) process.stdout.write(`${JSON.stringify({ backend: dev.backend.kind, reason: dev.backendReason, heaps: rows, missingHeaps: dev.missingHeaps })}\n`);
  else {
    const missing = dev.missingHeaps.length > 0 ? `note: the profile's heaps ${dev.missingHeaps.join(', ')} are not in this kernel; they are never used\n` : '';
    process.stdout.write(`${dev.backendReason}\n${missing}${rows.length > 0 ? heapTable(rows) : noHeaps(dev.backend.heaps().length)}\n`);
  }
  return 0;
}

function noHeaps(backendHeaps: number): string {
  return backendHeaps === 0
    ? "this backend has no heaps at all: nothing can be allocated through it (--backend sim simulates the profile's heaps)"
    : 'no heap of the profile exists on this backend: nothing can be allocated (udalloc discover --write-profile FILE writes a profile for this machine)';
}
