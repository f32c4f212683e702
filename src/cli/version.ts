// The package's version, read from its package.json (two folders up from dist/src/cli).

import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
