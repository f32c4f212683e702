// Files the CLI writes (--record, --html, --write-profile): checked before any work is done, so a
// typo in a path costs one line and exit 2, never a stack trace after an allocation already ran.

import { accessSync, appendFileSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from '../errors.js';

/** Throws an InputError naming the flag unless `path` can be written (created, replaced or appended). */
export function checkOutputPath(path: string, flag: string): void {
  const fail = (why: string): never => {
    throw new InputError(`${flag} ${path}: cannot write: ${why}`, flag.replace(/^--/, ''), path);
  };
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') fail((err as NodeJS.ErrnoException).code ?? String(err));
  }
  if (st) {
    if (st.isDirectory()) fail('it is a directory (give a file name)');
    try {
      accessSync(path, constants.W_OK);
    } catch (err) {
      fail(`${(err as NodeJS.ErrnoException).code ?? 'not writable'} (not writable)`);
    }
    return;
  }
  const dir = dirname(resolve(path));
  let parent;
  try {
    parent = statSync(dir);
  } catch (err) {
    fail(`its directory ${dir} does not exist (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!parent!.isDirectory()) fail(`${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    fail(`its directory ${dir} is not writable`);
  }
}

/** Writes (or appends) after the check; a failure that only shows now (a full disk) is still one line. */
export function writeOutput(path: string, text: string, flag: string, append = false): void {
  try {
    if (append) appendFileSync(path, text);
    else writeFileSync(path, text);
  } catch (err) {
    throw new InputError(`${flag} ${path}: cannot write: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, flag.replace(/^--/, ''), path);
  }
}
