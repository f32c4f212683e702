#!/usr/bin/env node
// udalloc command line. Exit codes scripts can rely on:
//   0 success / plan found, 3 conflict (no plan), 2 bad input (stderr names the field), 1 internal error.

import { parseArgs } from 'node:util';
import { InputError } from '../errors.js';
import { negotiateCommand } from './negotiate.js';
import { formatsCommand } from './formats.js';

export const EXIT = { ok: 0, internal: 1, input: 2, conflict: 3 } as const;

const USAGE = `usage: udalloc <command> [options]

commands:
  negotiate   reconcile devices' constraints into a buffer plan, or explain the conflict
  formats     list known DRM formats and modifiers
  help        show this text

run "udalloc <command> --help" for a command's options.
exit codes: 0 plan, 3 conflict, 2 bad input, 1 internal error`;

const COMMANDS: Record<string, (args: string[]) => Promise<number> | number> = {
  negotiate: negotiateCommand,
  formats: formatsCommand,
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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`udalloc: internal error: ${String(err)}\n`);
    process.exitCode = EXIT.internal;
  },
);
