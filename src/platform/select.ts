// Which platform a program or command means: a profile file, a shipped board by name
// ("raspberry-pi-4"), or, when nothing is named, this machine (discovered live) where it has
// dma-buf heaps, else the built-in example board. One place, so that the library's open() and
// every command agree.

import { existsSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlatform, parsePlatform } from '../constraints/load.js';
import type { Platform } from '../constraints/model.js';
import { InputError } from '../errors.js';
import { listDirectory } from '../util/fs.js';
import { didYouMean } from '../util/suggest.js';
import { discoverLive } from './live.js';
import type { DiscoveredPlatform } from './derive.js';
import { profileYaml } from './profile-writer.js';

/**
 * A discovered platform as the solver's Platform: through the profile text (one loader, one set
 * of checks), with each device's sources put back to what discovery saw (a sysfs path, an ioctl,
 * a probe) rather than the lines of a profile nobody wrote.
 */
export function platformFromDiscovery(found: DiscoveredPlatform, name: string, origin = `discovered from ${found.origin}`): Platform {
  const platform = parsePlatform(profileYaml(found, name), origin);
  return {
    ...platform,
    devices: platform.devices.map((d) => {
      const seen = found.devices.find((x) => x.name === d.name);
      if (!seen) return d;
      const sources = { ...d.sources, iommu: seen.sources.iommu, ...(seen.dmaBits !== null ? { dmaBits: seen.sources.dmaBits } : {}), ...(seen.heaps ? { heaps: seen.sources.heaps } : {}) };
      const formats = new Map([...d.formats].map(([k, rule]) => [k, { ...rule, source: seen.formats?.find((f) => f.format === k)?.source ?? rule.source }]));
      return { ...d, sources, formats };
    }),
  };
}

/** The boards/ folder shipped with the package (dist/src/platform -> package root). */
export const BOARDS_DIR = fileURLToPath(new URL('../../../boards/', import.meta.url));
export const EXAMPLE_BOARD = join(BOARDS_DIR, 'example.yaml');

/** Names of the shipped boards: "example", "raspberry-pi-4", ... */
export function shippedBoards(): string[] {
  return listDirectory(BOARDS_DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
}

/** Other names people give the shipped boards (the SoC, a short name): suggested, never loaded silently. */
const BOARD_ALIASES: Readonly<Record<string, readonly string[]>> = {
  'raspberry-pi-4': ['rpi4', 'rpi-4', 'pi4', 'raspberrypi4', 'bcm2711'],
  'imx8mp-evk': ['imx8mp', 'imx8m-plus', 'imx8mplus'],
  'rockpro64-rk3399': ['rockpro64', 'rk3399'],
  'x86-laptop-tgl': ['tgl', 'tigerlake', 'tiger-lake', 'x86'],
};

/** " (did you mean raspberry-pi-4?)" for an alias or a close name of a shipped board. */
function boardSuggestion(name: string, boards: readonly string[]): string {
  const lower = name.toLowerCase();
  const aliased = boards.find((b) => BOARD_ALIASES[b]?.includes(lower));
  return aliased ? ` (did you mean ${aliased}?)` : didYouMean(name, boards);
}

/** A path relative to the working directory when that is shorter, for messages. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

export interface SelectOptions {
  /** Root of the live system (tests use a fake tree). */
  readonly root?: string;
  /** Where to say which platform was chosen when none was named (the CLI writes to stderr). */
  readonly note?: (line: string) => void;
}

/**
 * A profile path ("-": standard input), or a shipped board's name when no such file exists; undefined means this
 * machine when it has dma-buf heaps, else the example board.
 */
export function selectPlatform(spec: string | undefined, options: SelectOptions = {}): Platform {
  const root = options.root ?? '/';
  if (spec !== undefined) {
    // "-" is standard input, like a path.
    if (spec === '-' || existsSync(spec) || /[/\\]|\.(ya?ml|json)$/i.test(spec)) return loadPlatform(spec);
    const boards = shippedBoards();
    const name = basename(spec);
    if (boards.includes(name)) return loadPlatform(shown(join(BOARDS_DIR, `${name}.yaml`)));
    throw new InputError(`platform ${JSON.stringify(spec)}: no such file, and no shipped board of that name${boardSuggestion(name, boards)} (boards: ${boards.join(', ')})`, 'platform', spec);
  }
  if (listDirectory(join(root, 'dev/dma_heap')).length > 0) {
    const live = discoverLive(root);
    options.note?.(`no platform given; using this machine's heaps (${live.heaps.map((h) => h.name).join(', ')}) and devices; formats need a profile (udalloc discover --write-profile)`);
    return platformFromDiscovery(live, 'this-machine', 'discovered from this machine');
  }
  options.note?.(`no platform given; using the built-in example board (${shown(EXAMPLE_BOARD)})`);
  return loadPlatform(shown(EXAMPLE_BOARD));
}
