// --platform for every command: a profile path; without one, this machine's own platform when it
// has dma-buf heaps (discovered live), else the built-in example board on the simulated kernel.

import { fileURLToPath } from 'node:url';
import { join, relative } from 'node:path';
import { loadPlatform, parsePlatform } from '../constraints/load.js';
import { listDirectory } from '../util/fs.js';
import { discoverLive } from '../platform/live.js';
import { profileYaml } from '../platform/profile-writer.js';
import type { Platform } from '../constraints/model.js';
import { InputError } from '../errors.js';
import { BACKEND_NAMES, type BackendChoice } from '../allocator/backend-select.js';

/** boards/example.yaml shipped with the package (dist/src/cli -> package root). */
export const BUILTIN_PLATFORM = fileURLToPath(new URL('../../../boards/example.yaml', import.meta.url));

export const platformHelp = `  --platform FILE       platform profile (YAML or JSON); default: this machine's heaps when it has
                        /dev/dma_heap, else the built-in example board`;

export function platformFromOption(file: string | undefined, root = '/'): Platform {
  if (file !== undefined) return loadPlatform(file);
  if (listDirectory(join(root, 'dev/dma_heap')).length > 0) {
    const live = discoverLive(root);
    process.stderr.write(`udalloc: no --platform given; using this machine's heaps (${live.heaps.map((h) => h.name).join(', ')}); devices and formats need a profile (udalloc discover --write-profile)\n`);
    return parsePlatform(profileYaml(live, 'this-machine'), 'discovered from this machine');
  }
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
