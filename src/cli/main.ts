#!/usr/bin/env node
// udalloc command line. Exit codes scripts can rely on:
//   0 success / plan found, 3 conflict (no plan), 2 bad input (stderr names the field),
//   4 the kernel refused (every ranked plan out of memory, or another errno), 5 the service's
//   policy refused (quota, heap reach, CMA reserve), 1 internal error.

import { InputError } from '../errors.js';
import { negotiateCommand, negotiateOptions } from './negotiate.js';
import { formatsCommand, formatsOptions } from './formats.js';
import { heapsCommand, heapsOptions } from './heaps.js';
import { allocCommand, allocOptions } from './alloc.js';
import { simulateCommand, simulateOptions } from './simulate.js';
import { sizeCommand, sizeOptions } from './size.js';
import { discoverCommand, discoverOptions } from './discover.js';
import { devicesCommand, devicesOptions } from './devices.js';
import { usageCommand, usageOptions } from './usage.js';
import { serveCommand, serveOptions } from './serve.js';
import { pipelineCommand, pipelineOptions } from './pipeline.js';
import { ionMapCommand, ionMapOptions } from './ion-map.js';
import { poolsCommand, poolsOptions } from './pools.js';
import { SERVICE_ERROR_KINDS, withServiceDefault } from './service-client.js';
import { ServiceError } from '../service/client.js';
import { ConflictError, AllocationError } from '../allocator/errors.js';
import { KernelError } from '../kernel/errno.js';
import { conflictJson } from './output.js';
import { closest } from '../util/suggest.js';
import { packageVersion } from './version.js';

export const EXIT = { ok: 0, internal: 1, input: 2, conflict: 3, kernel: 4, refused: 5 } as const;

const USAGE = `usage: udalloc <command> [options]

commands:
  negotiate   reconcile devices' constraints into a buffer plan, or explain the conflict
  explain     negotiate, then say for every format and heap why it was chosen or excluded
  alloc       negotiate, allocate the buffers as dma-bufs, show them and the heaps, release
  pipeline    plan (or allocate) every buffer ring of a pipeline of devices together
  discover    read the platform from a .dtb, a sysfs tree or this machine; write a profile
  devices     list the devices with their constraints and where each came from
  heaps       list the heaps with kind, range, capacity, use and largest free block
  pools       each CMA area now: free, largest buffer that fits, fragmentation, holders; --fit, --map
  simulate    replay a trace or scenario on the simulated kernel; peaks, failures, fragmentation
  size        the smallest CMA/carveout/secure pool sizes that serve the workloads
  formats     list known DRM formats and modifiers
  usage       which processes hold which dma-bufs, per heap and per process
  serve       the allocator as a D-Bus service: buffers as fds for programs in any language
  ion-map     let legacy ION programs run on this kernel: which dma-buf heap each ION heap id uses
  help        show this text

run "udalloc <command> --help" for a command's options.
exit codes: 0 ok, 3 conflict (no plan), 4 allocation failed, 5 refused by the service's policy,
            2 bad input, 1 internal error`;

const COMMANDS: Record<string, (args: string[]) => Promise<number> | number> = {
  negotiate: (args) => negotiateCommand(args),
  explain: (args) => negotiateCommand(args, 'explain'),
  formats: formatsCommand,
  heaps: heapsCommand,
  alloc: allocCommand,
  simulate: simulateCommand,
  size: sizeCommand,
  discover: discoverCommand,
  devices: devicesCommand,
  usage: usageCommand,
  serve: serveCommand,
  pipeline: pipelineCommand,
  'ion-map': ionMapCommand,
  pools: poolsCommand,
};

/** Each command's flags, for "did you mean" on a mistyped one. */
const FLAGS: Record<string, readonly string[]> = {
  negotiate: Object.keys(negotiateOptions),
  explain: Object.keys(negotiateOptions),
  formats: Object.keys(formatsOptions),
  heaps: Object.keys(heapsOptions),
  alloc: Object.keys(allocOptions),
  simulate: Object.keys(simulateOptions),
  size: Object.keys(sizeOptions),
  discover: Object.keys(discoverOptions),
  devices: Object.keys(devicesOptions),
  usage: Object.keys(usageOptions),
  serve: Object.keys(serveOptions),
  pipeline: Object.keys(pipelineOptions),
  'ion-map': Object.keys(ionMapOptions),
  pools: Object.keys(poolsOptions),
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? EXIT.input : EXIT.ok;
  }
  if (command === '--version' || command === '-V' || command === 'version') {
    process.stdout.write(`udalloc ${packageVersion()}\n`);
    return EXIT.ok;
  }
  const run = COMMANDS[command];
  if (!run) {
    const near = closest(command, [...Object.keys(COMMANDS), 'help']);
    process.stderr.write(`udalloc: unknown command "${command}"${near ? ` (did you mean ${near}?)` : ''}\n\n${USAGE}\n`);
    return EXIT.input;
  }
  // With --json, stdout carries exactly one JSON object whatever happens: the command's, or the error's.
  const json = rest.includes('--json');
  const fail = (code: number, message: string, error: Record<string, unknown>): number => {
    process.stderr.write(`udalloc ${command}: ${message}\n`);
    if (json) process.stdout.write(`${JSON.stringify(error)}\n`);
    return code;
  };
  try {
    return await run(withServiceDefault(rest));
  } catch (err) {
    if (err instanceof InputError) return fail(EXIT.input, err.message, { error: { kind: 'input', message: err.message, ...(err.field !== undefined ? { field: err.field } : {}) } });
    if (err instanceof ConflictError) return fail(EXIT.conflict, err.message, { conflict: conflictJson(err.conflict, err.request) });
    if (err instanceof AllocationError) {
      return fail(EXIT.kernel, err.message, { error: { kind: 'kernel', message: err.message, attempts: err.attempts.map((a) => ({ heap: a.heap.describe().name, errno: a.errno, allocated: a.allocated })) } });
    }
    if (err instanceof KernelError) return fail(EXIT.kernel, err.message, { error: { kind: 'kernel', message: err.message, errno: err.errno } });
    // A running service's answer (--service): the same shapes and codes as the local commands'.
    if (err instanceof ServiceError) {
      // A conflict's message already says "conflict: ...".
      const message = err.error === 'Conflict' ? err.message : `${err.error}: ${err.message}`;
      if (err.error === 'Conflict') return fail(EXIT.conflict, message, { conflict: err.details });
      const kind = SERVICE_ERROR_KINDS[err.error];
      return fail(kind ? EXIT[kind] : EXIT.internal, message, { error: { kind: kind ?? 'internal', name: err.error, message: err.message, details: err.details } });
    }
    // parseArgs reports unknown or malformed options with these codes.
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      const message = withFlagSuggestion((err as Error).message, command);
      return fail(EXIT.input, message, { error: { kind: 'input', message } });
    }
    process.stderr.write(`udalloc ${command}: internal error: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.internal;
  }
}

/** parseArgs' "Unknown option '--formt'" with the closest real flag of the command. */
function withFlagSuggestion(message: string, command: string): string {
  // A value starting with "-" (--count -1) reads as the next option: say so in one line.
  const dash = /Option '(--?[^']+)' argument is ambiguous/.exec(message);
  if (dash) return `${dash[1]}: its value starts with "-", which reads as another option; write ${dash[1]}=VALUE (a negative or dash-led value is then checked like any other)`;
  const m = /Unknown option '(--?[^']+)'/.exec(message);
  if (!m) return message;
  const flags = FLAGS[command] ?? [];
  const near = closest(m[1]!.replace(/^-+/, ''), flags);
  return near ? `${message.replace(/\. To specify a positional argument.*$/s, '')} (did you mean --${near}?)` : message;
}

// `udalloc ... | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`udalloc: internal error: ${String(err)}\n`);
    process.exitCode = EXIT.internal;
  },
);
