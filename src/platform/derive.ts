// From a device tree to udalloc's platform vocabulary: heaps from /reserved-memory, /memory and the
// cma= boot argument; devices (display, camera, codec, GPU) with their IOMMU, DMA window and
// memory-region links. Rules follow drivers/of/of_reserved_mem.c, kernel/dma/contiguous.c and
// drivers/of/address.c (dma-ranges); every value records the node and property it came from.

import { CMA_MIN_ALIGNMENT_BYTES, cmaAreaSize, HEAP_KINDS } from '../constraints/heap-kinds/index.js';
import { DRIVER_TABLE, type DriverRow } from './driver-table.js';
import { cellsToNumber, type DeviceTree, type DtNode } from './tree.js';

export type DeviceKind = 'display' | 'writeback' | 'camera' | 'codec' | 'gpu';

export interface DiscoveredHeap {
  /** As /dev/dma_heap names it: "system", the default CMA node's name ("linux,cma"), "reserved" for cma=. */
  readonly name: string;
  readonly kind: 'system' | 'cma' | 'carveout' | 'secure';
  readonly base: number | null;
  readonly size: number;
  /** Highest address (exclusive) a dynamically placed pool may reach (alloc-ranges, cma=...@start-end). */
  readonly limit: number | null;
  readonly source: string;
  /** True for the default CMA area (linux,cma-default, or the cma= area). */
  readonly default?: boolean;
  /** Base alignment of a dynamically placed region (the `alignment` property), in bytes. */
  readonly alignment?: number;
  /** A no-map region that is not a shared-dma-pool: a device's private (often firmware) memory. */
  readonly private?: boolean;
}

/** A format rule read from a live driver (V4L2 ENUM_FMT and TRY_FMT, DRM plane IN_FORMATS). */
export interface DiscoveredFormat {
  /** The DRM format name. */
  readonly format: string;
  readonly access: 'read' | 'write' | 'readwrite';
  readonly modifiers: readonly string[];
  readonly pitchAlign: number;
  /** The driver finds planes 1.. itself (V4L2 single-planar multi-plane formats such as NV12). */
  readonly implicitPlaneOffsets?: boolean;
  /** Where it came from: the ioctl and object, and the evidence for the pitch rule. */
  readonly source: string;
}

export interface DiscoveredDevice {
  /** Formats the driver reported, when it was asked (live V4L2 and DRM devices); else undefined. */
  readonly formats?: readonly DiscoveredFormat[];
  readonly name: string;
  readonly kind: DeviceKind;
  readonly compatible: string;
  readonly iommu: boolean;
  readonly dmaBits: number | null;
  /** Heaps named by memory-region links, or null when the node has none. */
  readonly heaps: readonly string[] | null;
  readonly source: string;
  /** Where each field came from (node path and property). */
  readonly sources: Readonly<Record<'iommu' | 'dmaBits' | 'heaps' | 'kind', string>>;
}

export interface DiscoveredPlatform {
  readonly origin: string;
  readonly heaps: readonly DiscoveredHeap[];
  readonly devices: readonly DiscoveredDevice[];
  /** What discovery left out or could not know, and why (a CSI-2 receiver, a CMA size). */
  readonly notes?: readonly string[];
}

export interface DeriveOptions {
  /**
   * The default CMA area's size when the tree has neither cma= nor a linux,cma-default node: the
   * kernel then sizes it from CONFIG_CMA_SIZE_MBYTES, which no device tree records.
   */
  readonly cma?: number;
}

/** Substrings of a compatible string that say what a node is; checked in this order. */
const KIND_HINTS: ReadonlyArray<[DeviceKind, readonly string[]]> = [
  ['display', ['-vop', 'vop-', ',vop', '-dpu', 'dcss', 'lcdif', 'hdlcd', '-hvs', 'mali-dp', 'komeda', 'display-controller', 'display-engine', '-de2', 'lcdc', '-dss', 'ltdc', 'mxsfb', 'ipu']],
  ['camera', ['-isp', 'isp-', 'unicam', 'camss', '-csi', '-isi', '-cif', 'camera', '-vin', 'vfe', 'vicap']],
  ['codec', ['-vpu', 'vpu-', 'vdec', 'venc', 'video-codec', 'hantro', 'rkvdec', 'venus', '-mfc', 'vepu', 'vdpu', 'coda', 'wave5', 'amphion', 'jpeg-enc', 'jpeg-dec', 'vcodec']],
  ['gpu', ['gpu', 'mali', 'adreno', 'v3d', 'vivante,gc', 'panfrost', 'powervr', 'sgx', 'img,']],
];
/** Helpers around those devices that are not buffer users themselves. */
/**
 * Generic node names (Devicetree Specification 2.2.2) of functions that are no DMA master for
 * buffers: a name guessed from the compatible does not make such a node a device (MediaTek's
 * "mediatek,mt8195-vdecsys" is a clock-controller).
 */
const NOT_A_MASTER_NAMES = new Set(['clock-controller', 'clock', 'pwm', 'syscon', 'power-controller', 'reset-controller', 'interrupt-controller', 'mailbox', 'pinctrl', 'iommu', 'mutex']);

const NOT_A_DEVICE = ['iommu', 'smmu', 'phy', 'audio', 'sound', 'i2s', 'spdif', 'clock', 'reset', 'regulator', 'gpio', 'pinctrl', 'syscon', 'thermal', 'cooling', 'pmu', 'mdss-dsi', 'dsi-ctrl', 'hdmi-codec', 'edp', 'grf', 'gcc', 'gpucc', 'dispcc', 'camcc', 'videocc', '-gmu', 'blk-ctrl', 'pwm', 'mutex'];

/**
 * MIPI CSI-2 receivers: they take the sensor's lanes and hand pixels to a capture block over an
 * internal bus (i.MX8MM mipi-csi2 -> imx7-csi, Renesas csi2 -> VIN, Allwinner mipi-csi2 -> csi);
 * the capture block is the DMA master that writes buffers, the receiver never touches memory.
 */
const CSI2_RECEIVERS = ['mipi-csi2', 'mipi-csis', 'csi2rx', '-csi2', 'csi2-'];
const CSI2_NOTE = 'a MIPI CSI-2 receiver, which passes pixels to a capture block and does no DMA of its own';

/**
 * Devices that translate addresses through an MMU of their own, so they map scattered pages although
 * their nodes carry no iommus, by the driver that binds them: GPUs (Vivante, Arm Mali, Broadcom V3D,
 * Imagination PowerVR) and Rockchip's RGA.
 */
const OWN_MMU: ReadonlyArray<[driverDir: string, mmu: string]> = [
  ['drivers/gpu/drm/etnaviv/', 'drivers/gpu/drm/etnaviv/etnaviv_iommu_v2.c'],
  ['drivers/gpu/drm/panfrost/', 'drivers/gpu/drm/panfrost/panfrost_mmu.c'],
  ['drivers/gpu/drm/panthor/', 'drivers/gpu/drm/panthor/panthor_mmu.c'],
  ['drivers/gpu/drm/lima/', 'drivers/gpu/drm/lima/lima_mmu.c'],
  // The VideoCore IV 3D engine (vc4_v3d.c) has none: only drivers/gpu/drm/v3d's cores do.
  ['drivers/gpu/drm/v3d/', 'drivers/gpu/drm/v3d/v3d_mmu.c'],
  ['drivers/gpu/drm/imagination/', 'drivers/gpu/drm/imagination/pvr_mmu.c'],
  // Rockchip's RGA writes a page table of every 4 KiB page of a buffer for its own MMU (vb2-dma-sg).
  ['drivers/media/platform/rockchip/rga/', 'drivers/media/platform/rockchip/rga/rga-buf.c fill_descriptors()'],
];

/** The Linux 6.12 drivers' compatibles (scripts/gen-driver-table.mjs), by compatible string. */
const DRIVERS: ReadonlyMap<string, DriverRow> = new Map(DRIVER_TABLE.map((row) => [row[0], row]));

/** What a node is, and how that is known: the driver that binds it, or a guess from the name. */
export interface Classification {
  /** undefined: not a DMA master for buffers (a CSI-2 receiver, a bridge, a bus), or nothing known. */
  readonly kind: DeviceKind | undefined;
  readonly why: string;
  /** The driver table had no row: `kind` is read from the compatible's name. */
  readonly guess: boolean;
  /** The source file of the of_device_id table that matched. */
  readonly file?: string;
}

/**
 * Drivers that make one DMA device of several enabled nodes, keyed by what the nodes share: later
 * nodes with the same key are no DMA master of their own.
 */
const ONE_DMA_DEVICE: ReadonlyArray<{ readonly key: (compatible: readonly string[], file: string | undefined) => string | undefined; readonly why: string }> = [
  // Of the nodes whose first compatible is the same, only the first available binds (-ENODEV for the rest).
  { key: (c, file) => (file === 'drivers/media/platform/verisilicon/hantro_drv.c' ? c[0] : undefined), why: 'Hantro binds only the first available node of a compatible (drivers/media/platform/verisilicon/hantro_drv.c hantro_disable_multicore(): "missing multi-core support, ignoring this instance")' },
  // Every display block is a component of one DRM device whose buffers are the first CRTC's first block's (its OVL).
  { key: (_c, file) => (file?.startsWith('drivers/gpu/drm/mediatek/') ? 'mediatek-drm' : undefined), why: 'MediaTek DRM maps every buffer with one device, CRTC 0\'s first block (drivers/gpu/drm/mediatek/mtk_drm_drv.c mtk_drm_kms_init(): "dma_dev = mtk_crtc_dma_dev_get(crtc)", used by every component and by PRIME import)' },
  // MDP3: one driver instance probes on the first RDMA and drives the other blocks as its parts.
  { key: (_c, file) => (file?.startsWith('drivers/media/platform/mediatek/mdp3/') ? 'mediatek-mdp3' : undefined), why: 'MDP3 runs on the first RDMA block\'s device and drives the others as its parts (drivers/media/platform/mediatek/mdp3/mtk-mdp3-core.c mdp_probe())' },
  // Every Vivante core (3D, 2D, NPU) is driven through one virtual device whose DMA is the first available core's.
  { key: (c) => (c.includes('vivante,gc') ? 'vivante,gc' : undefined), why: 'etnaviv drives every "vivante,gc" core through one device configured from the first available core (drivers/gpu/drm/etnaviv/etnaviv_drv.c etnaviv_pdev_probe(), of_dma_configure())' },
];

/**
 * Classifies a node by the driver that binds it (its compatibles, most specific first, against the
 * 6.12 drivers' of_device_id tables): a driver that is no DMA master (a CSI-2 receiver, a bus) rules
 * the node out; one whose own file shows what it does says so. A kind seen only elsewhere in the
 * driver (a display driver's directory also holds its encoders and timing generators) counts when
 * the node has an IOMMU stream of its own (`ownIommu`: it does DMA) or its name says the same kind
 * of device; a compatible no such driver matches is guessed from its name.
 */
export function classification(compatible: readonly string[], ownIommu = false): Classification {
  const hinted = hintKind(compatible);
  for (const c of compatible) {
    const row = DRIVERS.get(c);
    if (!row) continue;
    const [, kind, evidence, file] = row;
    if (kind === 'none') return { kind: undefined, why: `"${c}" is matched by ${file} (Linux 6.12): not a DMA master for buffers`, guess: false };
    if (evidence === 'file' || ownIommu || hinted !== undefined) return { kind, file, why: `"${c}" is matched by ${file} (Linux 6.12: a ${kind}${evidence === 'driver' ? `, as its driver's other files show${ownIommu ? '; the node has its own IOMMU stream' : ''}` : ''})`, guess: false };
    return { kind: undefined, why: `"${c}" is matched by ${file}, a part of a ${kind} driver that does no DMA of its own`, guess: false };
  }
  // A camera-like name that is a CSI-2 receiver's is no DMA master, guessed or not.
  if (hinted === 'camera' && CSI2_RECEIVERS.some((r) => compatible.join(' ').toLowerCase().includes(r))) return { kind: undefined, why: CSI2_NOTE, guess: true };
  if (hinted !== undefined) return { kind: hinted, why: `a guess from the name: no Linux 6.12 display, GPU or media driver matches "${compatible[0]}"`, guess: true };
  return { kind: undefined, why: 'no driver matches it', guess: true };
}

function hintKind(compatible: readonly string[]): DeviceKind | undefined {
  const all = compatible.join(' ').toLowerCase();
  if (all === '' || NOT_A_DEVICE.some((w) => all.includes(w))) return undefined;
  for (const [kind, hints] of KIND_HINTS) if (hints.some((h) => all.includes(h))) return kind;
  return undefined;
}

export function classify(compatible: readonly string[]): DeviceKind | undefined {
  return classification(compatible).kind;
}

/** The kernel's memparse() (lib/cmdline.c): a number (decimal or 0x hex) with an optional K/M/G/T/P/E suffix. */
export function memparse(text: string): number | undefined {
  const m = /^(0x[0-9a-f]+|\d+)([kmgtpe])?$/i.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]) * 1024 ** (m[2] ? 'kmgtpe'.indexOf(m[2].toLowerCase()) + 1 : 0);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** cma=nn[KMG][@[start[KMG][-end[KMG]]]] from kernel/dma/contiguous.c early_cma(). */
export function parseCmaArg(bootargs: string): { size: number; base: number | null; limit: number | null; text: string } | undefined {
  const arg = bootargs.split(/\s+/).find((a) => a.startsWith('cma='));
  if (!arg) return undefined;
  const [sizeText, where] = arg.slice(4).split('@', 2) as [string, string | undefined];
  const size = memparse(sizeText);
  if (size === undefined) return undefined;
  let base: number | null = null;
  let limit: number | null = null;
  if (where) {
    const [start, end] = where.split('-', 2);
    if (end !== undefined) {
      limit = memparse(end) ?? null;
      base = null; // a range: the area is placed anywhere in [start, end)
    } else if (start) base = memparse(start) ?? null;
  }
  return { size, base, limit, text: arg };
}

function heapFromReserved(tree: DeviceTree, node: DtNode, cmaOverridden: boolean): DiscoveredHeap | undefined {
  const compatible = node.strings('compatible');
  const reusable = node.has('reusable');
  const noMap = node.has('no-map');
  const where = `${tree.origin} ${node.path}`;
  const reg = tree.ranges(node, 'reg')[0];
  const sizeCells = node.cells('size', tree);
  const size = reg?.size ?? (sizeCells ? cellsToNumber(sizeCells, tree, `${node.path} size`) : undefined);
  if (size === undefined || size === 0) return undefined;
  const allocRanges = reg ? [] : tree.ranges(node, 'alloc-ranges');
  // `alignment` is #address-cells wide (reserved-memory binding) and only means something without reg.
  const alignCells = reg ? undefined : node.cells('alignment', tree);
  const alignment = alignCells && alignCells.length > 0 ? cellsToNumber(alignCells, tree, `${node.path} alignment`) : undefined;
  const limit = allocRanges.length > 0 ? Math.max(...allocRanges.map((r) => r.address + r.size)) : null;
  if (compatible.includes('shared-dma-pool') && reusable && !noMap) {
    const isDefault = node.has('linux,cma-default');
    if (isDefault && cmaOverridden) return undefined; // cma= on the command line wins (contiguous.c)
    const why = [`shared-dma-pool, reusable${isDefault ? ', linux,cma-default' : ''}`, reg ? 'reg' : `size${alignment !== undefined ? ', alignment' : ''}${limit !== null ? ', alloc-ranges' : ''}`].join('; ');
    return { name: node.name, kind: 'cma', base: reg?.address ?? null, size, limit, source: `${where} (${why}${isDefault ? '' : '; a dma-buf heap from Linux 6.17'})`, ...(isDefault ? { default: true } : {}), ...(alignment !== undefined ? { alignment } : {}) };
  }
  if (noMap && reg) {
    const pool = compatible.includes('shared-dma-pool');
    return { name: node.name, kind: 'carveout', base: reg.address, size, limit: null, source: `${where} (${pool ? 'shared-dma-pool, ' : ''}no-map, reg)`, ...(pool ? {} : { private: true }) };
  }
  return undefined;
}

/**
 * Whether DMA from `node` goes through an IOMMU: its own iommus, or that of an enclosing device
 * (e.g. a display processor inside an MDSS wrapper that owns the SMMU stream), stopping at buses.
 */
function iommuOf(tree: DeviceTree, node: DtNode): string | undefined {
  if (node.has('iommus')) return `${tree.origin} ${node.path} iommus`;
  // Only the MSM display driver maps through its parent's stream (drivers/gpu/drm/msm/msm_kms.c
  // msm_kms_init_aspace(): without iommus of its own, the MDP uses the MDSS's); elsewhere a parent's
  // IOMMU is not the child's (a Tegra host1x client without iommus does DMA untranslated).
  const parent = node.parent;
  if (parent?.has('iommus') && parent.strings('compatible').some((c) => /mdss/.test(c))) return `${tree.origin} ${parent.path} iommus (enclosing ${node.name}: msm_kms_init_aspace() uses the MDSS's)`;
  return undefined;
}

/** The device's addressable window from the first bus above it with a non-empty dma-ranges. */
/**
 * A node's DMA parent as the kernel finds it (drivers/of/address.c __of_get_dma_parent()): the
 * interconnect path named "dma-mem" when the node has one (its memory port), else its parent.
 */
function dmaParent(tree: DeviceTree, node: DtNode): DtNode | undefined {
  const index = node.strings('interconnect-names').indexOf('dma-mem');
  const cells = index >= 0 ? node.cells('interconnects', tree) : undefined;
  if (cells) {
    // Entries are a phandle and its provider's #interconnect-cells cells; take the index-th.
    for (let i = 0, entry = 0; i < cells.length; entry++) {
      const provider = tree.byPhandle(cells[i]!);
      if (!provider) break;
      if (entry === index) return provider;
      i += 1 + (provider.u32('#interconnect-cells', tree) ?? 0);
    }
  }
  return node.parent;
}

/**
 * The DMA window a device's bus gives it, as drivers/of/device.c of_dma_configure_id() and
 * drivers/of/address.c of_dma_get_range() compute it: from the device's DMA parent up, the first
 * non-empty dma-ranges; an empty one means 1:1 and the walk goes on, but past the first node a
 * missing one ends it (-ENODEV: no window; the driver's DMA mask applies).
 */
function dmaWindow(tree: DeviceTree, node: DtNode): { bits: number; source: string } | undefined {
  let first = true;
  for (let bus = dmaParent(tree, node); bus?.parent; bus = dmaParent(tree, bus)) {
    const cells = bus.cells('dma-ranges', tree);
    if (cells === undefined && !first) return undefined;
    first = false;
    if (cells === undefined || cells.length === 0) continue; // empty: 1:1, look further up
    const childAddr = bus.u32('#address-cells', tree) ?? 2;
    const sizeCells = bus.u32('#size-cells', tree) ?? 1;
    const parentAddr = bus.parent.u32('#address-cells', tree) ?? 2;
    const stride = childAddr + parentAddr + sizeCells;
    if (cells.length % stride !== 0) return undefined;
    let end = 0;
    for (let i = 0; i < cells.length; i += stride) {
      const parentBase = cellsToNumber(cells.slice(i + childAddr, i + childAddr + parentAddr), tree, `${bus.path} dma-ranges`);
      const size = cellsToNumber(cells.slice(i + childAddr + parentAddr, i + stride), tree, `${bus.path} dma-ranges`);
      end = Math.max(end, parentBase + size);
    }
    if (end <= 1) return undefined;
    // A window that is not a power of two is rounded down: conservative, the buffer stays inside.
    return { bits: Math.floor(Math.log2(end)), source: `${tree.origin} ${bus.path} dma-ranges (CPU addresses below 0x${end.toString(16)})` };
  }
  return undefined;
}

/** What the kernel makes of a cma= size that is not whole pageblocks (mm/cma.c cma_declare_contiguous_nid rounds it up). */
function roundedNote(size: number): string {
  return size % CMA_MIN_ALIGNMENT_BYTES === 0 ? '' : `, rounded up to ${cmaAreaSize(size)} bytes: the kernel gives a CMA area whole 2 MiB pageblocks`;
}

export function deriveFromTree(tree: DeviceTree, options: DeriveOptions = {}): DiscoveredPlatform {
  const heaps: DiscoveredHeap[] = [];
  const notes: string[] = [];
  // System RAM: every /memory node (device_type = "memory").
  const memory = tree.root.children.filter((n) => n.string('device_type') === 'memory' || n.baseName === 'memory');
  const ram = memory.flatMap((n) => tree.ranges(n)).reduce((sum, r) => sum + r.size, 0);
  heaps.push({ name: 'system', kind: 'system', base: null, size: ram, limit: null, source: memory.length > 0 ? `${tree.origin} ${memory.map((n) => n.path).join(', ')} reg${ram === 0 ? ' (size 0: filled in by the firmware at boot)' : ''}` : `${tree.origin} (no /memory node)` });

  const bootargs = tree.find('/chosen')?.string('bootargs') ?? '';
  const cma = parseCmaArg(bootargs);
  if (cma) heaps.push({ name: 'reserved', kind: 'cma', base: cma.base, size: cmaAreaSize(cma.size), limit: cma.limit, source: `${tree.origin} /chosen bootargs "${cma.text}"${roundedNote(cma.size)}`, default: true });

  const reserved = tree.find('/reserved-memory');
  const byNode = new Map<DtNode, DiscoveredHeap>();
  const linked = new Set<DtNode>();
  for (const node of tree.root.walk()) {
    for (const ph of node.enabled ? node.cells('memory-region', tree) ?? [] : []) {
      const target = tree.byPhandle(ph);
      if (target) linked.add(target);
    }
  }
  for (const node of reserved?.children ?? []) {
    if (!node.enabled) continue;
    const heap = heapFromReserved(tree, node, cma !== undefined);
    // Linux refuses a CMA region that is not whole pageblocks (kernel/dma/contiguous.c
    // rmem_cma_setup, "incorrect alignment of CMA region"): that area does not exist at run time.
    if (heap?.kind === 'cma' && HEAP_KINDS.cma.refusal({ base: heap.base ?? undefined, size: heap.size })) {
      notes.push(`${tree.origin} ${node.path}: a CMA region of ${heap.size} bytes${heap.base !== null ? ` at 0x${heap.base.toString(16)}` : ''} is not whole 2 MiB pageblocks; Linux refuses it at boot ("incorrect alignment of CMA region", kernel/dma/contiguous.c), so it is left out`);
      continue;
    }
    // A no-map region nobody links to is firmware's, not a pool udalloc could hand out.
    if (!heap || (heap.kind === 'carveout' && !node.strings('compatible').includes('shared-dma-pool') && !linked.has(node))) continue;
    heaps.push(heap);
    byNode.set(node, heap);
  }
  // No cma= and no default CMA node: the kernel still makes its default area (kernel/dma/contiguous.c
  // dma_contiguous_reserve()) from CONFIG_CMA_SIZE_MBYTES, below the DMA zone limit (arm64:
  // arm64_dma_phys_limit, at most 4 GiB). Its size is a kernel build option no tree records.
  if (!heaps.some((h) => h.kind === 'cma' && h.default)) {
    const why = `${tree.origin}: no cma= in /chosen bootargs and no linux,cma-default node: the kernel makes its default CMA area from CONFIG_CMA_SIZE_MBYTES (kernel/dma/contiguous.c), below 4 GiB on arm64`;
    if (options.cma !== undefined) heaps.push({ name: 'reserved', kind: 'cma', base: null, size: cmaAreaSize(options.cma), limit: 2 ** 32, source: `${why}; size ${options.cma} bytes from --cma${roundedNote(options.cma)}`, default: true });
    else notes.push(`default CMA area: its size is not in the device tree (the kernel's CONFIG_CMA_SIZE_MBYTES or cma= decides); give --cma SIZE, or run discover on the live system where /proc/meminfo shows CmaTotal`);
  }

  const devices: DiscoveredDevice[] = [];
  const names = new Set<string>();
  const classified = new Set<DtNode>();
  const sharedBy = new Map<string, DtNode>();
  for (const node of tree.root.walk()) {
    if (!node.parent || !node.enabled) continue;
    const compatible = node.strings('compatible');
    const classified0 = classification(compatible, node.has('iommus'));
    const known = classified0.guess && classified0.kind !== undefined && NOT_A_MASTER_NAMES.has(node.baseName) ? { kind: undefined, why: `its node name "${node.baseName}" is the generic name of a function that does no DMA for buffers (Devicetree Specification 2.2.2)`, guess: true } : classified0;
    const kind = known.kind;
    const all = compatible.join(' ').toLowerCase();
    if (!kind) {
      // Said when a name would have suggested a device: a driver, or the CSI-2 rule, shows it is none.
      if (hintKind(compatible) !== undefined) {
        const what = CSI2_RECEIVERS.some((r) => all.includes(r)) ? CSI2_NOTE : 'not a DMA master for buffers';
        notes.push(`skipped ${node.path} (${compatible[0]}): ${what}${known.guess ? '' : ` (${known.why})`}`);
      }
      continue;
    }
    // A node without registers does no DMA: a virtual node that binds the pieces (sun4i's display-engine);
    // unless it has an IOMMU stream of its own: a driver's master node over its hardware cores (MediaTek's jpgdec-master).
    if (!node.has('reg') && !node.has('iommus')) {
      notes.push(`skipped ${node.path} (${compatible[0]}): no registers: a virtual node binding other devices, not a DMA master (${known.why})`);
      continue;
    }
    // One DMA device for several nodes: the first one listed stands for them all.
    const shared = ONE_DMA_DEVICE.map((rule) => ({ rule, key: rule.key(compatible, known.file) })).find((r) => r.key !== undefined);
    if (shared) {
      const first = sharedBy.get(shared.key!);
      if (first) {
        notes.push(`skipped ${node.path} (${compatible[0]}): no DMA device of its own, ${first.path}'s stands for it: ${shared.rule.why}`);
        continue;
      }
      sharedBy.set(shared.key!, node);
    }
    // Sub-functions of a device already listed (venus-decoder inside venus) are the same device.
    let inside = false;
    for (let up: DtNode | undefined = node.parent; up && !inside; up = up.parent) inside = classified.has(up);
    if (inside) continue;
    classified.add(node);
    const where = `${tree.origin} ${node.path}`;
    const ownMmu = OWN_MMU.find(([dir]) => known.file?.startsWith(dir));
    const iommuSource = iommuOf(tree, node) ?? (ownMmu ? `${where} compatible "${compatible[0]}": the ${kind === 'gpu' ? 'GPU' : 'device'} has its own MMU (${ownMmu[1]}), so it maps scattered pages` : undefined);
    const iommu = iommuSource !== undefined;
    const window = dmaWindow(tree, node);
    const regions = (node.cells('memory-region', tree) ?? []).map((ph) => tree.byPhandle(ph)).filter((n): n is DtNode => n !== undefined);
    const heapNames = regions.map((r) => byNode.get(r)?.name ?? r.name);
    let name = node.name;
    if (names.has(name)) name = `${node.parent.name}-${node.name}`;
    names.add(name);
    devices.push({
      name,
      kind,
      compatible: compatible[0]!,
      iommu,
      dmaBits: window?.bits ?? null,
      heaps: regions.length > 0 ? heapNames : null,
      source: where,
      sources: {
        kind: `${where} compatible "${compatible.join('", "')}": ${known.why}`,
        iommu: iommuSource ?? `${where} has no iommus property`,
        dmaBits: window?.source ?? `${where}: no dma-ranges above it (the driver's DMA mask applies)`,
        heaps: regions.length > 0 ? `${where} memory-region -> ${regions.map((r) => r.path).join(', ')}` : `${where} has no memory-region`,
      },
    });
  }
  return { origin: tree.origin, heaps, devices, notes };
}
