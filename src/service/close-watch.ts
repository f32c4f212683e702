// Knowing from the kernel when a handed-out buffer is gone: an inotify watch on the buffer's inode.
// The service's fd, the bus daemon's copy in flight, the client's fds, files opened again through
// /proc/<pid>/fd/<n> and every mapping all keep the inode; when the last of them lets go the
// inode goes, and inotify reports IN_IGNORED for its watch (fs/dcache.c dentry_unlink_inode() ->
// fsnotify_inoderemove() for an unlinked file such as a memfd). Open and close events themselves
// are not reported for such pseudo files (FMODE_NONOTIFY), so that is the one event used. Where
// inotify is missing or a file kind never reports it, the /proc scan and the grace period decide.

import { closeSync } from 'node:fs';
import { loadNative, type NativeAddon } from '../kernel/native/addon.js';

export class CloseWatch {
  readonly #addon: NativeAddon | undefined;
  readonly #fd: number | undefined;
  readonly #keys = new Map<number, string>();
  readonly #byKey = new Map<string, number>();

  constructor() {
    let addon: NativeAddon | undefined;
    let fd: number | undefined;
    try {
      addon = loadNative();
      fd = addon.inotifyInit();
    } catch {
      // No native binding or no inotify: grants fall back to the /proc scan and the grace period.
    }
    this.#addon = addon;
    this.#fd = fd;
  }

  /** Watches the inode behind `fd` (one of ours, still open); false when it cannot. */
  watch(fd: number, key: string): boolean {
    if (this.#fd === undefined) return false;
    try {
      const wd = this.#addon!.inotifyWatchGone(this.#fd, `/proc/self/fd/${fd}`);
      // A key watched before belonged to an inode that went (its number is reused): its old watch
      // must not report the new buffer gone.
      const old = this.#byKey.get(key);
      if (old !== undefined && old !== wd) this.#keys.delete(old);
      this.#keys.set(wd, key);
      this.#byKey.set(key, wd);
      return true;
    } catch {
      return false;
    }
  }

  /** The keys whose inode went since the last call: no process and no socket queue holds them. */
  gone(): string[] {
    if (this.#fd === undefined || this.#keys.size === 0) return [];
    const out: string[] = [];
    for (const wd of this.#addon!.inotifyDrain(this.#fd)) {
      const key = this.#keys.get(wd);
      if (key === undefined) continue;
      this.#keys.delete(wd);
      if (this.#byKey.get(key) !== wd) continue; // an earlier inode of the same number
      this.#byKey.delete(key);
      out.push(key);
    }
    return out;
  }

  /** Stops watching a grant released some other way (a scan found no holder). */
  forget(key: string): void {
    const wd = this.#byKey.get(key);
    if (wd === undefined) return;
    this.#byKey.delete(key);
    this.#keys.delete(wd);
    this.#addon!.inotifyUnwatch(this.#fd!, wd);
  }

  dispose(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
  }
}
