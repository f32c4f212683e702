// The live state of each CMA area, as the kernel shows it: /sys/kernel/debug/cma/<area>/
// (mm/cma_debug.c: base_pfn, count and used in pages, order_per_bit, bitmap as u32 words, maxchunk:
// the largest free run in pages), /sys/kernel/mm/cma/<area>/ (mm/cma_sysfs.c: alloc_pages_success,
// alloc_pages_fail, release_pages_success since boot), /proc/meminfo (CmaTotal, CmaFree: every area
// together). What cannot be read is said, with what the answers then lack.

import { join } from 'node:path';
import { meminfo } from '../kernel/meminfo.js';
import { listDirectory, readText } from '../util/fs.js';
import { InputError } from '../errors.js';

export interface CmaAreaState {
  readonly name: string;
  /** From debugfs (root, debugfs mounted); undefined without it. */
  readonly debug: {
    readonly basePfn: number;
    readonly pages: number;
    readonly orderPerBit: number;
    readonly usedPages: number;
    /** The kernel's largest free run, in pages: it ignores the alignment a buffer of a given size needs. */
    readonly maxChunkPages: number;
    /** One bit per 2^orderPerBit pages, set when in use (the bitmap's u32 words, least significant bit first). */
    readonly bitmap: readonly boolean[];
  } | undefined;
  /** From sysfs (CONFIG_CMA_SYSFS): counters since boot, in pages. */
  readonly counters: { readonly allocSuccess: number | undefined; readonly allocFail: number | undefined; readonly releaseSuccess: number | undefined } | undefined;
}

export interface CmaState {
  readonly areas: readonly CmaAreaState[];
  /** /proc/meminfo CmaTotal and CmaFree (bytes), every area together. */
  readonly total: number | undefined;
  readonly free: number | undefined;
  /** What could not be read, and what the answers lack for it. */
  readonly missing: readonly string[];
}

function number(path: string): number | undefined {
  const text = readText(path)?.trim();
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

/** debugfs's u32 array ("bitmap"): words separated by spaces or newlines, each 32 bits, LSB first. */
function bitmapOf(text: string, bits: number, where: string): boolean[] {
  const words = text.trim().split(/\s+/).filter((w) => w.length > 0);
  if (words.length * 32 < bits) throw new InputError(`${where}: ${words.length} words hold ${words.length * 32} bits, the area has ${bits}`, 'bitmap', where);
  const out = new Array<boolean>(bits);
  for (let i = 0; i < bits; i++) {
    const word = Number(words[i >> 5]);
    if (!Number.isInteger(word) || word < 0 || word > 0xffffffff) throw new InputError(`${where}: word ${i >> 5} is ${JSON.stringify(words[i >> 5])}, not a u32`, 'bitmap', where);
    out[i] = ((word >>> (i & 31)) & 1) === 1;
  }
  return out;
}

/** Reads every CMA area under `root` ("/" on a live system). A malformed file is an error naming it. */
export function readCmaState(root = '/'): CmaState {
  const debugDir = join(root, 'sys/kernel/debug/cma');
  const sysDir = join(root, 'sys/kernel/mm/cma');
  const debugNames = listDirectory(debugDir);
  const sysNames = listDirectory(sysDir);
  const names = [...new Set([...debugNames, ...sysNames])];
  const missing: string[] = [];
  if (debugNames.length === 0) missing.push(`${debugDir}: not readable (debugfs not mounted, or not root): no bitmap, so no largest free run, no largest buffer that fits, no --fit and no --map; mount -t debugfs debugfs /sys/kernel/debug and run as root`);
  if (sysNames.length === 0) missing.push(`${sysDir}: absent (CONFIG_CMA_SYSFS off): no allocation failure counters since boot`);
  const areas = names.map((name): CmaAreaState => {
    let debug: CmaAreaState['debug'];
    if (debugNames.includes(name)) {
      const dir = join(debugDir, name);
      const basePfn = number(join(dir, 'base_pfn'));
      const pages = number(join(dir, 'count'));
      const orderPerBit = number(join(dir, 'order_per_bit')) ?? 0;
      const usedPages = number(join(dir, 'used'));
      const maxChunkPages = number(join(dir, 'maxchunk'));
      const bitmapText = readText(join(dir, 'bitmap'));
      if (basePfn === undefined || pages === undefined || usedPages === undefined || maxChunkPages === undefined || bitmapText === undefined) {
        missing.push(`${dir}: base_pfn, count, used, maxchunk or bitmap unreadable: area ${name} has no bitmap`);
      } else {
        debug = { basePfn, pages, orderPerBit, usedPages, maxChunkPages, bitmap: bitmapOf(bitmapText, Math.floor(pages / 2 ** orderPerBit), join(dir, 'bitmap')) };
      }
    }
    const sys = join(sysDir, name);
    const counters = sysNames.includes(name) ? { allocSuccess: number(join(sys, 'alloc_pages_success')), allocFail: number(join(sys, 'alloc_pages_fail')), releaseSuccess: number(join(sys, 'release_pages_success')) } : undefined;
    return { name, debug, counters };
  });
  const mem = meminfo(root);
  if (mem['CmaTotal'] === undefined) missing.push(`${join(root, 'proc/meminfo')}: no CmaTotal (CONFIG_CMA off?)`);
  return { areas, total: mem['CmaTotal'], free: mem['CmaFree'], missing };
}
