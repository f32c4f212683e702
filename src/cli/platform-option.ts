// --platform for every command: a profile path or a shipped board's name; without one, this
// machine's own platform when it has dma-buf heaps, else the example board (platform/select.ts).

import type { Platform } from '../constraints/model.js';
import { selectPlatform } from '../platform/select.js';
import { InputError } from '../errors.js';
import { BACKEND_NAMES, type BackendChoice } from '../allocator/backend-select.js';

export const platformHelp = `  --platform P          platform profile (YAML or JSON file) or a shipped board's name
                        (example, raspberry-pi-4, ...); default: this machine's heaps when it
                        has /dev/dma_heap, else the built-in example board`;

export function platformFromOption(spec: string | undefined, root = '/'): Platform {
  return selectPlatform(spec, { root, note: (line) => process.stderr.write(`udalloc: ${line}\n`) });
}

export const backendHelp = `  --backend B           auto (default: real heaps when present, else simulated), sim, dma-heap, udmabuf, ion`;

export function backendOption(value: string | undefined): BackendChoice {
  if (value === undefined) return 'auto';
  if (!(BACKEND_NAMES as readonly string[]).includes(value)) throw new InputError(`--backend ${JSON.stringify(value)}: expected one of ${BACKEND_NAMES.join(', ')}`, 'backend', value);
  return value as BackendChoice;
}
