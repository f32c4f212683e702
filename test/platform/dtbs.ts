// Where the real device trees are: the cache scripts/fetch-dtbs.sh fills (run by .ci/run).

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DTB_CACHE = process.env['UDALLOC_DTB_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'udalloc', 'dtbs');

export function dtbPath(relative: string): string {
  const path = join(DTB_CACHE, relative);
  if (!existsSync(path)) throw new Error(`${path} is missing: run scripts/fetch-dtbs.sh (it downloads Debian's arm64 kernel package once)`);
  return path;
}
