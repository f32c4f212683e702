// Reading what the kernel publishes, where a missing path means "not present", not an error.

import { readdirSync } from 'node:fs';

/** The entries of a directory, sorted; [] when it does not exist or cannot be read. */
export function listDirectory(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}
