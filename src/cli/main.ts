#!/usr/bin/env node
// udalloc command line. Exit codes scripts can rely on:
//   0 success / plan found, 3 conflict (no plan), 2 bad input (stderr names the field),
//   4 the kernel refused (every ranked plan out of memory, or another errno), 1 internal error.

import { parseArgs } from 'node:util';
import { InputError } from '../errors.js';
import { negotiateCommand } from './negotiate.js';
import { formatsCommand } from './formats.js';
import { heapsCommand } from './heaps.js';
import { allocCommand } from './alloc.js';
import { simulateCommand } from './simulate.js';
import { sizeCommand } from './size.js';
import { discoverCommand } from './discover.js';
import { devicesCommand } from './devices.js';
import { ConflictError, AllocationError } from '../allocator/errors.js';
import { KernelError } from '../kernel/errno.js';

export const EXIT = { ok: 0, internal: 1, input: 2, conflict: 3, kernel: 4 } as const;

const USAGE = `usage: udalloc <command> [options]

commands:
  negotiate   reconcile devices' constraints into a buffer plan, or explain the conflict
  explain     negotiate, then say for every format and heap why it was chosen or excluded
  alloc       negotiate, allocate the buffers as dma-bufs, show them and the heaps, release
  discover    read the platform from a .dtb, a sysfs tree or this machine; write a profile
  devices     list the devices with their constraints and where each came from
  heaps       list the heaps with kind, range, capacity, use and largest free block
  simulate    replay a trace or scenario on the simulated kernel; peaks, failures, fragmentation
  size        the smallest CMA/carveout/secure pool sizes that serve the workloads
  formats     list known DRM formats and modifiers
  help        show this text

run "udalloc <command> --help" for a command's options.
exit codes: 0 ok, 3 conflict (no plan), 4 allocation failed, 2 bad input, 1 internal error`;

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
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? EXIT.input : EXIT.ok;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`udalloc: unknown command "${command}"\n\n${USAGE}\n`);
    return EXIT.input;
  }
  try {
    return await run(rest);
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(`udalloc ${command}: ${err.message}\n`);
      return EXIT.input;
    }
    if (err instanceof ConflictError) {
      process.stderr.write(`udalloc ${command}: ${err.message}\n`);
      return EXIT.conflict;
    }
    if (err instanceof AllocationError || err instanceof KernelError) {
      process.stderr.write(`udalloc ${command}: ${err.message}\n`);
      return EXIT.kernel;
    }
    // parseArgs reports unknown or malformed options with these codes.
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`udalloc ${command}: ${(err as Error).message}\n`);
      return EXIT.input;
    }
    process.stderr.write(`udalloc ${command}: internal error: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.internal;
  }
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
