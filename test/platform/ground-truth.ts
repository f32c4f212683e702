// Scores device-tree discovery against the ground truth in test/platform/ground-truth/: per board,
// every display, writeback, capture, codec and GPU master established by hand from the Linux 6.12
// device-tree sources and drivers (each fact with the dts line or driver function it comes from),
// and every /reserved-memory region. Used by ground-truth.test.ts and `npm run ground-truth`.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseDtb } from '../../src/platform/fdt.js';
import { deriveFromTree, type DiscoveredPlatform } from '../../src/platform/derive.js';
import { dtbPath } from './dtbs.js';

export interface TruthMaster {
  readonly path: string;
  readonly compatible: string;
  readonly kind: 'display' | 'writeback' | 'camera' | 'codec' | 'gpu';
  readonly iommu: boolean;
  /** Exclusive end of the CPU addresses the device reaches (hex), or null when nothing limits it. */
  readonly dmaLimit: string | null;
  readonly heaps: readonly string[] | null;
}

export interface TruthRegion {
  readonly name: string;
  readonly base: string | null;
  readonly size: string;
  readonly compatible: readonly string[] | null;
  readonly reusable: boolean;
  readonly noMap: boolean;
  readonly cmaDefault: boolean;
  readonly linkedBy: readonly string[];
}

export interface BoardTruth {
  readonly dtb: string;
  readonly memory: string | null;
  readonly bootargs: string | null;
  readonly masters: readonly TruthMaster[];
  readonly reserved: readonly TruthRegion[] | null;
}

export const GROUND_TRUTH_DIR = new URL('../../../test/platform/ground-truth/', import.meta.url);

export function groundTruth(): BoardTruth[] {
  const dir = GROUND_TRUTH_DIR.pathname;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parseYaml(readFileSync(join(dir, f), 'utf8')) as BoardTruth);
}

/** The heaps udalloc should list for a board's regions, by the kernel's rules (kernel/dma/contiguous.c rmem_cma_setup, of_reserved_mem). */
export function expectedHeaps(board: BoardTruth): string[] {
  const out: string[] = [`system system ${board.memory === null ? 0 : Number(board.memory)}`];
  for (const r of board.reserved ?? []) {
    const pool = (r.compatible ?? []).includes('shared-dma-pool');
    if (pool && r.reusable && !r.noMap) out.push(`${r.name} cma ${Number(r.size)}${r.cmaDefault ? ' default' : ''}`);
    else if (r.noMap && r.base !== null && (pool || r.linkedBy.length > 0)) out.push(`${r.name} carveout ${Number(r.size)}`);
  }
  return out.sort();
}

export interface BoardScore {
  readonly dtb: string;
  readonly masters: number;
  /** Masters discovery found with the right kind. */
  readonly found: number;
  readonly wrongKind: string[];
  readonly missed: string[];
  readonly spurious: string[];
  readonly iommuWrong: string[];
  readonly dmaWrong: string[];
  readonly heapLinksWrong: string[];
  readonly heapsWrong: string[];
  readonly discovered: number;
}

const pathOf = (p: DiscoveredPlatform, source: string): string => source.slice(p.origin.length + 1);

export function scoreBoard(board: BoardTruth): BoardScore {
  const found = deriveFromTree(parseDtb(readFileSync(dtbPath(board.dtb)), board.dtb));
  const byPath = new Map(found.devices.map((d) => [pathOf(found, d.source), d]));
  const truthPaths = new Set(board.masters.map((m) => m.path));
  const s = { dtb: board.dtb, masters: board.masters.length, found: 0, wrongKind: [] as string[], missed: [] as string[], spurious: [] as string[], iommuWrong: [] as string[], dmaWrong: [] as string[], heapLinksWrong: [] as string[], heapsWrong: [] as string[], discovered: found.devices.length };
  for (const m of board.masters) {
    const d = byPath.get(m.path);
    if (!d) {
      s.missed.push(`${m.path} (${m.kind}, ${m.compatible})`);
      continue;
    }
    if (d.kind === m.kind) s.found++;
    else s.wrongKind.push(`${m.path}: ${d.kind}, truth ${m.kind}`);
    if (d.iommu !== m.iommu) s.iommuWrong.push(`${m.path}: ${d.iommu}, truth ${m.iommu}`);
    const bits = m.dmaLimit === null ? null : Math.floor(Math.log2(Number(m.dmaLimit)));
    if (d.dmaBits !== bits) s.dmaWrong.push(`${m.path}: ${d.dmaBits}, truth ${bits}`);
    if (JSON.stringify(d.heaps) !== JSON.stringify(m.heaps)) s.heapLinksWrong.push(`${m.path}: ${JSON.stringify(d.heaps)}, truth ${JSON.stringify(m.heaps)}`);
  }
  for (const [path, d] of byPath) if (!truthPaths.has(path)) s.spurious.push(`${path} (${d.kind}, ${d.compatible})`);
  const heaps = found.heaps.map((h) => `${h.name} ${h.kind} ${h.size}${h.default ? ' default' : ''}`).sort();
  const want = expectedHeaps(board);
  for (const h of want) if (!heaps.includes(h)) s.heapsWrong.push(`missing ${h}`);
  for (const h of heaps) if (!want.includes(h)) s.heapsWrong.push(`extra ${h}`);
  return s;
}

export interface Totals {
  readonly boards: number;
  readonly masters: number;
  readonly found: number;
  readonly discovered: number;
  readonly spurious: number;
  readonly iommuRight: number;
  readonly dmaRight: number;
  readonly matched: number;
  readonly heapsRight: number;
  readonly heaps: number;
}

export function totals(scores: readonly BoardScore[]): Totals {
  const sum = (f: (s: BoardScore) => number) => scores.reduce((a, s) => a + f(s), 0);
  const matched = sum((s) => s.masters - s.missed.length);
  return {
    boards: scores.length,
    masters: sum((s) => s.masters),
    found: sum((s) => s.found),
    discovered: sum((s) => s.discovered),
    spurious: sum((s) => s.spurious.length),
    matched,
    iommuRight: matched - sum((s) => s.iommuWrong.length),
    dmaRight: matched - sum((s) => s.dmaWrong.length),
    heapsRight: matched - sum((s) => s.heapLinksWrong.length) + sum((s) => (s.heapsWrong.length === 0 ? 1 : 0)),
    heaps: matched + scores.length,
  };
}

const pct = (a: number, b: number) => `${b === 0 ? 100 : ((100 * a) / b).toFixed(1)}%`;

export function report(scores: readonly BoardScore[]): string {
  const t = totals(scores);
  const lines = [
    `ground truth: ${t.boards} boards, ${t.masters} DMA masters`,
    `devices: recall ${t.found}/${t.masters} = ${pct(t.found, t.masters)} (found with the right kind), precision ${t.found}/${t.discovered} = ${pct(t.found, t.discovered)}, spurious ${t.spurious}`,
    `IOMMU ${t.iommuRight}/${t.matched} = ${pct(t.iommuRight, t.matched)}, DMA limit ${t.dmaRight}/${t.matched} = ${pct(t.dmaRight, t.matched)}, heaps ${t.heapsRight}/${t.heaps} = ${pct(t.heapsRight, t.heaps)} (device links and each board's heap list)`,
  ];
  for (const s of scores) {
    const wrong = [...s.missed.map((x) => `missed ${x}`), ...s.wrongKind.map((x) => `kind ${x}`), ...s.spurious.map((x) => `spurious ${x}`), ...s.iommuWrong.map((x) => `iommu ${x}`), ...s.dmaWrong.map((x) => `dma ${x}`), ...s.heapLinksWrong.map((x) => `heap link ${x}`), ...s.heapsWrong.map((x) => `heaps ${x}`)];
    lines.push(`  ${s.dtb}: ${s.found}/${s.masters}${wrong.length > 0 ? `\n    ${wrong.join('\n    ')}` : ''}`);
  }
  return lines.join('\n');
}
