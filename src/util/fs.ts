// Reading what the kernel publishes, where a missing path means "not present", not an error.

import { readdirSync, readFileSync } from 'node:fs';

/** The entries of a directory, sorted; [] when it does not exist or cannot be read. */
export function listDirectory(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

/** A file's text; undefined when it does not exist or cannot be read. */
export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
