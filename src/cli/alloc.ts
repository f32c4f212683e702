// udalloc alloc: negotiate, allocate on the selected backend, touch the buffers from the CPU when
// the request asks for CPU access, print buffers and heap occupancy, then release (or hold until
// Ctrl-C with --hold, to inspect the buffers with other tools).

import { layoutJson } from '../solver/json.js';
import { parseArgs } from 'node:util';
import { once } from 'node:events';
import { InputError } from '../errors.js';
import { formatAddress, formatBytes } from '../constraints/units.js';
import { openSync, type AllocatedBuffers } from '../allocator/allocator.js';
import type { DmaBuffer } from '../allocator/buffer.js';
import { heapRows, heapTable } from './heap-table.js';
import { backendHelp, backendOption, platformFromOption, platformHelp } from './platform-option.js';
import { cliRecorder } from './record-option.js';
import { checkOutputPath, writeOutput } from './output-file.js';
import { AllocationError, ConflictError } from '../allocator/errors.js';
import { requestFieldsFromFlags, requestFromCommandLine, requestHelp, requestOptions } from './request-flags.js';
import { onService, requestText, serviceHelp } from './service-client.js';
import { cpuRoundTrip } from './cpu-round-trip.js';

const HELP = `usage: udalloc alloc [--platform P | --service [ADDRESS]] [--request FILE] [request flags] [--name NAME] [--hold] [--record FILE] [--backend B] [--json]

${platformHelp}
${backendHelp}
  --name NAME           name the buffers NAME-0, NAME-1... (DMA_BUF_SET_NAME, shows in fdinfo)
  --hold                keep the buffers until Ctrl-C (SIGINT) or SIGTERM, then release them
  --record FILE         append the allocations and frees to a trace (JSON Lines) for simulate/size
  --json                print one JSON object instead of text
${serviceHelp}
${requestHelp}`;

function bufferJson(b: DmaBuffer) {
  const info = b.info();
  // A pool placed at boot (no base in the profile) sits at an address only the kernel knows.
  const physAddr = b.heap.describe().base !== undefined ? (info.physAddr ?? null) : null;
  return { fd: b.fd, heap: b.heap.describe().name, size: b.size, physAddr, name: info.name ?? null, inode: info.inode, format: b.format, modifier: b.modifier, planes: b.planes };
}


function describeText(bufs: AllocatedBuffers, cpu: string[], reason: string): string {
  const u = bufs.used;
  const lines = [`backend: ${reason}`];
  lines.push(`plan: ${u.count} x ${u.format} ${u.modifier} ${u.width}x${u.height}, ${u.size} bytes each (${formatBytes(u.size)}), in ${u.heap.describe().name} (${u.heap.describe().kind})`);
  for (const f of bufs.fallbacks) lines.push(`fallback: ${f.heap.describe().name} failed with ${f.errno} after ${f.allocated} buffer(s); used the next ranked plan`);
  lines.push('buffers:');
  bufs.forEach((b, i) => {
    const info = b.info();
    const known = info.physAddr !== undefined && b.heap.describe().base !== undefined;
    lines.push(`  fd ${b.fd}  ${b.heap.describe().name}  ${known ? `phys ${formatAddress(info.physAddr!)}  ` : ''}${b.size} bytes${info.name ? `  name ${info.name}` : ''}${cpu[i] ? `  cpu ${cpu[i]}` : ''}`);
    b.planes.forEach((p, j) => lines.push(`    plane ${j}  offset ${p.offset}  pitch ${p.pitch}  size ${p.size}`));
  });
  return lines.join('\n');
}

/** The command's flags (parseArgs options); main.ts suggests the closest one for a typo. */
export const allocOptions = { ...requestOptions, service: { type: 'string' }, platform: { type: 'string' }, backend: { type: 'string' }, name: { type: 'string' }, hold: { type: 'boolean' }, record: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

export async function allocCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: allocOptions,
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.name !== undefined && values.name === '') throw new InputError('--name: must not be empty', 'name', values.name);
  if (values.service !== undefined) return onService(values.service, 'alloc', { request: requestText(values.request, requestFieldsFromFlags(values)), json: values.json, name: values.name });
  if (values.record !== undefined) checkOutputPath(values.record, '--record');
  const recorder = values.record === undefined ? undefined : cliRecorder();
  const flush = () => {
    if (recorder) writeOutput(values.record!, recorder.drain(), '--record', true);
  };
  const dev = openSync({ backend: backendOption(values.backend), platform: platformFromOption(values.platform), record: recorder });
  const request = requestFromCommandLine(values.request, dev.platform, requestFieldsFromFlags(values));
  let bufs: AllocatedBuffers;
  try {
    bufs = await dev.allocate(dev.negotiate(request), values.name !== undefined ? { name: values.name } : {});
  } catch (err) {
    // What happened is recorded too: a request that found no plan or no memory, asked for and let go.
    if (recorder && (err instanceof ConflictError || err instanceof AllocationError)) {
      recorder.momentary(request);
      flush();
    }
    throw err;
  }
  // With --hold, install the signal handlers before anything is printed (see below).
  const signalled = values.hold ? Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]) : undefined;
  try {
    const cpu = request.cpu === 'none' ? [] : bufs.map((b) => cpuRoundTrip(b, request.cpu));
    const heapsAfter = heapRows(dev);
    if (values.json) {
      const u = bufs.used;
      const json = {
        backend: dev.backend.kind,
        reason: dev.backendReason,
        plan: layoutJson({ ...u, heap: u.heap.describe().name, heapKind: u.heap.describe().kind }),
        fallbacks: bufs.fallbacks.map((f) => ({ heap: f.heap.describe().name, errno: f.errno, allocated: f.allocated })),
        buffers: bufs.map((b, i) => ({ ...bufferJson(b), ...(cpu[i] ? { cpu: cpu[i] } : {}) })),
        heaps: heapsAfter,
        held: values.hold === true,
      };
      process.stdout.write(`${JSON.stringify(json, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}\n`);
    } else {
      process.stdout.write(`${describeText(bufs, cpu, dev.backendReason)}\nheaps after allocation:\n${heapTable(heapsAfter)}\n`);
    }
    if (values.hold) {
      // The handlers were installed before saying we hold: a signal arriving earlier would kill
      // the process with the default action. Signal listeners do not keep Node's event loop alive;
      // a timer does, until a signal comes.
      const keepAlive = setInterval(() => {}, 1 << 30);
      if (!values.json) process.stdout.write(`holding ${bufs.length} buffer(s) (pid ${process.pid}); press Ctrl-C to release\n`);
      await signalled;
      clearInterval(keepAlive);
    }
  } finally {
    bufs.forEach((b) => b.close());
    flush();
  }
  if (!values.json) process.stdout.write(`released ${bufs.length} buffer(s); ${dev.stats().heaps.every((h) => h.liveBytes === 0) ? 'no buffer of ours is left in any heap' : 'SOME BUFFERS REMAIN'}\n`);
  return 0;
}
