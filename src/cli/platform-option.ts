// --platform for every command: a profile path, or the built-in example board when none is given
// (the simulated platform a fresh checkout runs on).

import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { loadPlatform } from '../constraints/load.js';
import type { Platform } from '../constraints/model.js';
import { InputError } from '../errors.js';
import { BACKEND_NAMES, type BackendChoice } from '../allocator/backend-select.js';

/** boards/example.yaml shipped with the package (dist/src/cli -> package root). */
export const BUILTIN_PLATFORM = fileURLToPath(new URL('../../../boards/example.yaml', import.meta.url));

export const platformHelp = `  --platform FILE       platform profile (YAML or JSON); default: the built-in example board`;

export function platformFromOption(file: string | undefined): Platform {
  if (file !== undefined) return loadPlatform(file);
  const rel = relative(process.cwd(), BUILTIN_PLATFORM);
  const shown = rel.startsWith('..') ? BUILTIN_PLATFORM : rel;
  process.stderr.write(`udalloc: no --platform given; using the built-in example board (${shown})\n`);
  return loadPlatform(shown);
}

export const backendHelp = `  --backend B           auto (default: real heaps when present, else simulated), sim, dma-heap, udmabuf, ion`;

export function backendOption(value: string | undefined): BackendChoice {
  if (value === undefined) return 'auto';
  if (!(BACKEND_NAMES as readonly string[]).includes(value)) throw new InputError(`--backend ${JSON.stringify(value)}: expected one of ${BACKEND_NAMES.join(', ')}`, 'backend', value);
  return value as BackendChoice;
}
