// Discovery on a running Linux: what the kernel publishes under /dev, /proc and /sys. Every path
// is read under `root` (default "/"), so tests can build a fake tree; a missing path means "not
// present", never an error.

import { existsSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { listDirectory, readText } from '../util/fs.js';
import { fdinfoFields } from '../kernel/fd-info.js';
import { meminfo } from '../kernel/meminfo.js';
import { DEFAULT_CMA_NAMES } from '../constraints/heap-kinds/index.js';
import { isProtectedHeap, poolsOf } from '../kernel/dma-heap/names.js';
import { findFormat } from '../constraints/formats.js';
import { deriveFromTree, type DiscoveredDevice, type DiscoveredFormat, type DiscoveredHeap, type DiscoveredPlatform } from './derive.js';
import { loadDrmNative, loadNative, type DrmAddon, type NativeAddon } from '../kernel/native/addon.js';
import { describeDrm } from './drm.js';
import { probeDrm, probeHeaps, probeV4l2, type ProbeResult } from './probe.js';
import { DmaHeapBackend } from '../kernel/dma-heap/backend.js';
import { describeV4l2 } from './v4l2.js';
import { readDeviceTreeDir } from './sysfs-tree.js';

export interface FdinfoBuffer {
  readonly fd: number;
  readonly size: number;
  readonly exporter: string;
  readonly name: string | undefined;
  readonly inode: number | undefined;
}

/** dma-buf fds open in a process, from /proc/<pid>/fdinfo (size, exp_name, name lines). */
export function dmaBufFdinfo(root: string, pid: string | number = 'self'): FdinfoBuffer[] {
  const dir = join(root, 'proc', String(pid), 'fdinfo');
  const out: FdinfoBuffer[] = [];
  for (const fd of listDirectory(dir)) {
    const text = readText(join(dir, fd));
    if (!text || !text.includes('exp_name:')) continue;
    const fields = fdinfoFields(text);
    const field = (k: string) => fields.get(k);
    out.push({ fd: Number(fd), size: Number(field('size') ?? 0), exporter: field('exp_name') ?? '', name: field('name') || undefined, inode: field('ino') ? Number(field('ino')) : undefined });
  }
  return out;
}

export interface LiveDiscovery extends DiscoveredPlatform {
  /** What was looked at and found, one line each, for `discover` to print. */
  readonly notes: readonly string[];
  readonly buffers: readonly FdinfoBuffer[];
}

/**
 * @param ioctl ask each /dev/video node's driver (VIDIOC_QUERYCAP, ENUM_FMT, TRY_FMT, REQBUFS);
 *   only meaningful on the machine itself (a copied tree has no device nodes), so the default is
 *   root === '/'. Needs the native binding; without it, a note says what was not asked.
 */
const isDefaultCma = (name: string): boolean => DEFAULT_CMA_NAMES.includes(name);

export function discoverLive(root = '/', ioctl = root === '/', probe = false): LiveDiscovery {
  const notes: string[] = [];
  const mem = meminfo(root);
  const dtDir = join(root, 'sys/firmware/devicetree/base');
  // On a running system /proc/meminfo knows the default CMA area's size, which the tree cannot.
  const fromTree = existsSync(dtDir) ? deriveFromTree(readDeviceTreeDir(dtDir), mem['CmaTotal'] !== undefined && mem['CmaTotal'] > 0 ? { cma: mem['CmaTotal'] } : {}) : undefined;
  notes.push(fromTree ? `device tree: ${dtDir}` : `device tree: none (${dtDir} absent)`);
  notes.push(...(fromTree?.notes ?? []));
  const heapDir = join(root, 'dev/dma_heap');
  const live = listDirectory(heapDir);
  notes.push(live.length > 0 ? `dma-buf heaps: ${live.join(', ')} (${heapDir})` : `dma-buf heaps: none (${heapDir} absent or empty)`);
  const cmaAreas = listDirectory(join(root, 'sys/kernel/mm/cma'));
  if (cmaAreas.length > 0) notes.push(`CMA areas: ${cmaAreas.join(', ')} (/sys/kernel/mm/cma)`);
  if (mem['CmaTotal'] !== undefined) notes.push(`CMA: ${mem['CmaTotal']} bytes total, ${mem['CmaFree']} free (/proc/meminfo)`);
  if (existsSync(join(root, 'dev/ion'))) notes.push('ION: /dev/ion present (legacy Android heaps)');

  const treeHeaps = new Map((fromTree?.heaps ?? []).map((h) => [h.name, h]));
  const heaps: DiscoveredHeap[] = [];
  const ram = mem['MemTotal'];
  const system: DiscoveredHeap = { name: 'system', kind: 'system', base: null, size: ram ?? treeHeaps.get('system')?.size ?? 0, limit: null, source: ram !== undefined ? `${join(root, 'proc/meminfo')} MemTotal` : (treeHeaps.get('system')?.source ?? 'unknown') };
  if (live.length === 0) {
    // No heaps published: report what the device tree describes (a kernel with heaps would expose them).
    heaps.push(system, ...(fromTree?.heaps ?? []).filter((h) => h.kind !== 'system'));
  } else {
    const pools = poolsOf(live);
    // CMA areas the tree sizes: what /proc/meminfo's CmaTotal holds besides the default area.
    const sizedElsewhere = pools.filter((p) => !isDefaultCma(p.name) && treeHeaps.get(p.name)?.kind === 'cma').reduce((sum, p) => sum + treeHeaps.get(p.name)!.size, 0);
    for (const { name, aliases } of pools) {
      const dt = [name, ...aliases].map((n) => treeHeaps.get(n)).find((h) => h !== undefined);
      const path = join(heapDir, name);
      const also = aliases.length > 0 ? ` (also listed as ${aliases.map((a) => join(heapDir, a)).join(', ')}: the same area, counted once)` : '';
      if (name === 'system') heaps.push({ ...system, source: `${path}; size ${system.source}` });
      else if (isProtectedHeap(name)) heaps.push({ name, kind: 'secure', base: null, size: 0, limit: null, source: `${path}: a TEE protected heap (drivers/tee/tee_heap.c, Linux 6.18): the CPU cannot map it; no file gives its size` });
      else if (dt) heaps.push({ ...dt, name, source: `${path}${also}; ${dt.source}` });
      else if (isDefaultCma(name) || cmaAreas.includes(name)) {
        // CmaTotal is every area's: the default area's share when the others are sized by the tree.
        const total = mem['CmaTotal'];
        const known = total !== undefined && (isDefaultCma(name) || cmaAreas.length <= 1);
        heaps.push({ name, kind: 'cma', base: null, size: known ? total - sizedElsewhere : 0, limit: null, source: `${path}${also}${known ? `; size ${join(root, 'proc/meminfo')} CmaTotal${sizedElsewhere > 0 ? ' less the areas the device tree sizes' : ''}` : ''}`, ...(isDefaultCma(name) ? { default: true } : {}) });
      } else notes.push(`heap ${name}: kind unknown (not system, not a CMA area); left out`);
    }
    for (const h of fromTree?.heaps ?? []) if (h.kind === 'carveout') heaps.push({ ...h, source: `${h.source} (a device-private pool, not a /dev/dma_heap entry)` });
  }

  // A device linked to the default CMA area by its old name links to the pool under the name listed.
  const renamed = new Map(poolsOf(live).flatMap((p) => p.aliases.map((a) => [a, p.name] as const)));
  const devices: DiscoveredDevice[] = (fromTree?.devices ?? []).map((d) => (d.heaps?.some((h) => renamed.has(h)) ? { ...d, heaps: d.heaps.map((h) => renamed.get(h) ?? h) } : d));
  if (!fromTree) {
    // No device tree (x86): DRM cards and V4L2 devices from /sys/class.
    for (const card of listDirectory(join(root, 'sys/class/drm')).filter((c) => /^card\d+$/.test(c))) {
      const dev = join(root, 'sys/class/drm', card, 'device');
      const driver = linkName(join(dev, 'driver'));
      const iommu = existsSync(join(dev, 'iommu_group'));
      const device = sysDevice(card, 'display', driver ?? card, iommu, join(root, 'sys/class/drm', card), iommu ? `${dev}/iommu_group` : `${dev} has no iommu_group`);
      devices.push(...(ioctl ? withDrmFormats(device, join(root, 'dev/dri', card), notes) : [device]));
    }
    for (const v of listDirectory(join(root, 'sys/class/video4linux')).filter((c) => /^video\d+$/.test(c))) {
      const base = join(root, 'sys/class/video4linux', v);
      const name = (readText(join(base, 'name')) ?? v).trim();
      const driver = linkName(join(base, 'device/driver'));
      const usb = driver === 'uvcvideo';
      const iommu = usb || existsSync(join(base, 'device/iommu_group'));
      const device = sysDevice(v, 'camera', driver ? `${driver}: ${name}` : name, iommu, base, usb ? `${base}: a USB (uvcvideo) device: frames pass through the host controller and the CPU, so no physical constraint` : iommu ? `${base}/device/iommu_group` : `${base}/device has no iommu_group`);
      devices.push(ioctl ? withV4l2Formats(device, join(root, 'dev', v), notes) : device);
    }
  }
  const probed = probe ? probeDevices(root, devices, notes) : devices;
  return { origin: root, heaps, devices: probed, notes, buffers: dmaBufFdinfo(root) };
}

/**
 * --probe: whether each V4L2 capture node and DRM card takes scattered pages, measured by importing
 * a system-heap and a CMA buffer (probe.ts); the answer replaces what sysfs suggested.
 */
function probeDevices(root: string, devices: DiscoveredDevice[], notes: string[]): DiscoveredDevice[] {
  if (root !== '/') {
    notes.push('probe: only on the machine itself (a copied tree has no devices to import into)');
    return devices;
  }
  let backend: DmaHeapBackend;
  try {
    backend = new DmaHeapBackend();
  } catch (err) {
    notes.push(`probe: no dma-buf heaps to draw test buffers from (${(err as Error).message})`);
    return devices;
  }
  try {
    const heaps = probeHeaps(backend);
    if (typeof heaps === 'string') {
      notes.push(`probe: ${heaps}; contiguity left as sysfs says`);
      return devices;
    }
    const results = new Map<string, ProbeResult>();
    for (const d of devices) {
      let result: ProbeResult | undefined;
      if (/^video\d+$/.test(d.name) && d.kind === 'camera') result = probeV4l2(join(root, 'dev', d.name), loadNative(), heaps);
      else if (/^card\d+$/.test(d.name)) {
        try {
          result = probeDrm(join(root, 'dev/dri', d.name), loadDrmNative(), heaps);
        } catch (err) {
          result = { anyPages: undefined, evidence: `probe: ${(err as Error).message}` };
        }
      }
      if (!result) continue;
      notes.push(`${d.name}: ${result.evidence}`);
      results.set(d.name, result);
    }
    // A card's writeback connector writes through the same engine as the card reads.
    return devices.map((d) => {
      const result = results.get(d.name) ?? results.get(d.name.replace(/-writeback$/, ''));
      if (!result || result.anyPages === undefined) return d;
      return { ...d, iommu: result.anyPages, sources: { ...d.sources, iommu: result.evidence } };
    });
  } finally {
    backend.dispose();
  }
}

function linkName(path: string): string | undefined {
  try {
    return basename(readlinkSync(path));
  } catch {
    return undefined;
  }
}

/** The card with what its DRM driver answers (plane formats and modifiers), and its writeback connector as a device. */
function withDrmFormats(device: DiscoveredDevice, node: string, notes: string[]): DiscoveredDevice[] {
  let addon: DrmAddon;
  try {
    addon = loadDrmNative();
  } catch (err) {
    notes.push(`${node}: formats not asked (${(err as Error).message})`);
    return [device];
  }
  const card = describeDrm(node, addon);
  if ('error' in card) {
    notes.push(`${node}: ${card.error}`);
    return [device];
  }
  notes.push(...card.notes);
  const out: DiscoveredDevice[] = [{ ...device, compatible: card.driver, formats: card.formats }];
  if (card.writeback.length > 0) out.push({ ...device, name: `${device.name}-writeback`, compatible: `${card.driver} writeback`, formats: card.writeback, source: `${device.source} (writeback connector)` });
  return out;
}

/** The device with what its V4L2 driver answers: formats with DRM equivalents, pitch rules, dma-buf import. */
function withV4l2Formats(device: DiscoveredDevice, node: string, notes: string[]): DiscoveredDevice {
  let addon: NativeAddon;
  try {
    addon = loadNative();
  } catch (err) {
    notes.push(`${node}: formats not asked (${(err as Error).message})`);
    return device;
  }
  const v = describeV4l2(node, addon);
  if ('error' in v) {
    notes.push(`${node}: ${v.error}`);
    return device;
  }
  notes.push(...v.notes);
  const access = v.direction === 'output' ? 'read' : 'write';
  const formats: DiscoveredFormat[] = [];
  const left: string[] = [];
  for (const f of v.formats) {
    if (!f.mapping.format || !f.pitch) {
      left.push(`${f.v4l2} (${!f.mapping.format ? f.mapping.why : 'no pitch rule'})`);
      continue;
    }
    if (formats.some((x) => x.format === f.mapping.format)) continue;
    // A single-planar queue carries every plane in one buffer at offsets the driver computes itself;
    // a multi-planar one a buffer per plane, the pitches of planes 1.. derived from plane 0's too.
    const implicit = (findFormat(f.mapping.format)?.planes.length ?? 1) > 1 ? { implicitPlaneOffsets: true } : {};
    formats.push({ format: f.mapping.format, access, modifiers: ['LINEAR'], pitchAlign: f.pitch.pitchAlign, ...implicit, source: `${f.source} ${f.v4l2} (${f.mapping.why}); pitch: ${f.pitch.evidence.join('; ')}` });
  }
  if (left.length > 0) notes.push(`${node} (${v.driver}): formats without a udalloc equivalent, not in the profile: ${left.join(', ')}`);
  if (v.dmabuf === false) notes.push(`${node} (${v.driver}): its queue does not import dma-bufs (no V4L2_BUF_CAP_SUPPORTS_DMABUF): udalloc's buffers cannot be given to it`);
  const kind = v.direction === 'capture' ? 'camera' : 'codec';
  return { ...device, kind, compatible: `${v.driver}: ${v.card}`, formats };
}

function sysDevice(name: string, kind: DiscoveredDevice['kind'], compatible: string, iommu: boolean, where: string, iommuSource: string): DiscoveredDevice {
  return { name, kind, compatible, iommu, dmaBits: null, heaps: null, source: where, sources: { kind: `${where} (class ${kind === 'display' ? 'drm' : 'video4linux'})`, iommu: iommuSource, dmaBits: `${where}: the driver's DMA mask applies`, heaps: `${where}: no memory-region` } };
}
