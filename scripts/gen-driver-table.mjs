#!/usr/bin/env node
// Generates src/platform/driver-table.ts: the device-tree compatible strings the Linux 6.12
// display, GPU, media and staging-media drivers match (their of_device_id tables), with what each
// driver is, read from what its code calls:
//   writeback  drm_writeback_connector_init()             (writes frames to memory: a DMA master)
//   display    drm_universal_plane_init() and kin         (its planes fetch buffers; CRTCs and encoders do not)
//   gpu        drm_sched_init() / a *_gpu_init()          (renders into buffers)
//   camera     a video capture device (V4L2_CAP_VIDEO_CAPTURE), m2m nodes or not (captures into buffers)
//   codec      v4l2_m2m_init() / V4L2_CAP_VIDEO_M2M       (memory-to-memory: decoders, encoders, converters)
//   none       a V4L2 sub-device only (CSI-2 receivers), a bridge, a panel, a PHY, a bus
// Evidence is looked for in the file that holds the table, then its directory, then the driver's
// top directory; bridges, panels and buses are never DMA masters. Usage:
//   node scripts/gen-driver-table.mjs [/usr/src/linux-source-6.12.tar.xz]
// It unpacks the directories it reads into a temporary directory and removes it afterwards.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const TARBALL = process.argv[2] ?? '/usr/src/linux-source-6.12.tar.xz';
const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'platform', 'driver-table.ts');
const DIRS = ['drivers/gpu/drm', 'drivers/media', 'drivers/staging/media', 'drivers/bus'];

const EVIDENCE = [
  ['writeback', /\bdrmm?_writeback_connector_init(_with_encoder)?\s*\(/],
  ['display', /\b(drm_universal_plane_init|drmm_universal_plane_alloc|drm_simple_display_pipe_init)\s*\(/],
  ['gpu', /\b(drm_sched_init|\w+_gpu_init)\s*\(/],
  ['camera', /\bV4L2_CAP_VIDEO_CAPTURE(_MPLANE)?\b/],
  ['codec', /\bv4l2_m2m_init\s*\(|\bV4L2_CAP_VIDEO_M2M(_MPLANE)?\b/],
  ['none', /\b(v4l2_subdev_init|v4l2_i2c_subdev_init|v4l2_async_register_subdev|v4l2_async_register_subdev_sensor)\s*\(/],
];
/**
 * Engines that live in a display driver's directory (which has the planes) but are not the display:
 * each file is what its engine is. Host1x clients (drivers/gpu/drm/tegra/), and the VideoCore IV
 * 3D engine, which vc4_v3d.c binds while its rendering is set up in vc4_gem.c.
 */
const ENGINES = [
  [/\/tegra\/gr[23]d\.c$/, 'gpu'],
  [/\/tegra\/(vic|nvdec)\.c$/, 'codec'],
  [/\/vc4\/vc4_v3d\.c$/, 'gpu'],
];
/** Never DMA masters for buffers, wherever their code lives (Qualcomm's MDSS wraps the DPU: its IOMMU is the DPU's). */
const NOT_MASTERS = [/^drivers\/gpu\/drm\/msm\/msm_mdss\.c$/, /^drivers\/gpu\/drm\/(bridge|panel|i2c)\//, /^drivers\/bus\//, /phy/i, /^drivers\/media\/(i2c|spi|usb|pci|rc|tuners|dvb-frontends|cec|radio|firewire|mmc|test-drivers)\//];

function filesUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else if (name.endsWith('.c')) out.push(path);
  }
  return out;
}

const work = mkdtempSync(join(tmpdir(), 'udalloc-drivers-'));
try {
  execFileSync('tar', ['-xJf', TARBALL, '-C', work, '--wildcards', ...DIRS.map((d) => `*/${d}/*`)]);
  const root = join(work, readdirSync(work)[0]);
  const text = new Map();
  const files = DIRS.flatMap((d) => filesUnder(join(root, d)));
  for (const f of files) text.set(relative(root, f), readFileSync(f, 'utf8'));
  // In the table's own file a writeback connector says what the device is; in a directory that also
  // has planes it is one part of a display driver. A media driver with m2m is a codec even though
  // it also sets up vb2 queues.
  const kindIn = (paths, ownFile) => {
    const found = new Set();
    for (const p of paths) for (const [kind, re] of EVIDENCE) if (re.test(text.get(p))) found.add(kind);
    const order = ownFile ? ['writeback', 'display', 'gpu', 'camera', 'codec', 'none'] : ['display', 'gpu', 'camera', 'codec', 'writeback', 'none'];
    for (const kind of order) if (found.has(kind)) return kind;
    return undefined;
  };
  const inDir = (dir, recursive) => [...text.keys()].filter((p) => (recursive ? p.startsWith(`${dir}/`) : dirname(p) === dir));
  const topDir = (file) => file.split('/').slice(0, file.startsWith('drivers/gpu/drm/') ? 4 : file.startsWith('drivers/staging/media/') ? 4 : 5).join('/');
  const rows = new Map();
  // Tables a driver binds with first: a compatible also listed elsewhere (a host1x sub-device list,
  // a component match) is what its own driver says.
  for (const boundOnly of [true, false])
  for (const [file, src] of text) {
    // The tables a driver binds with (.of_match_table); others (DMA-range or component match lists) are not.
    const bound = new Set([...src.matchAll(/\.of_match_table\s*=\s*(?:of_match_ptr\s*\(\s*)?(\w+)/g)].map((m) => m[1]));
    for (const table of src.matchAll(/struct\s+of_device_id\s+(\w+)\s*\[\s*\]\s*=\s*\{([\s\S]*?)\n\s*\}\s*;/g)) {
      if (boundOnly ? !bound.has(table[1]) : bound.size > 0) continue;
      const compatibles = [...table[2].matchAll(/\.compatible\s*=\s*"([^"]+)"/g)].map((m) => m[1]);
      if (compatibles.length === 0) continue;
      let kind;
      let level = 'file';
      const engine = ENGINES.find(([re]) => re.test(file));
      if (NOT_MASTERS.some((re) => re.test(file))) kind = 'none';
      else if (engine) kind = engine[1];
      else {
        kind = kindIn([file], true);
        if (!kind) {
          level = 'driver';
          kind = kindIn(inDir(dirname(file), false), false) ?? kindIn(inDir(topDir(file), true), false);
        }
      }
      if (!kind) continue;
      for (const c of compatibles) if (!rows.has(c)) rows.set(c, { kind, file, level });
    }
  }
  const sorted = [...rows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const lines = sorted.map(([c, r]) => `  [${JSON.stringify(c)}, ${JSON.stringify(r.kind)}, ${JSON.stringify(r.level)}, ${JSON.stringify(r.file)}],`);
  writeFileSync(
    OUT,
    `// Generated by scripts/gen-driver-table.mjs from ${TARBALL.split('/').pop()}: do not edit by hand.
// Each row: a compatible string a Linux 6.12 driver matches, what the driver is (writeback,
// display, gpu, codec, camera, or none: not a DMA master for buffers), where that was seen (in the
// file that binds the compatible, or elsewhere in its driver: a display driver's encoders and
// timing generators share its directory but do no DMA), and the source file of its of_device_id table.

export type DriverKind = 'writeback' | 'display' | 'gpu' | 'codec' | 'camera' | 'none';

export type DriverRow = readonly [compatible: string, kind: DriverKind, evidence: 'file' | 'driver', file: string];

export const DRIVER_TABLE: readonly DriverRow[] = [
${lines.join('\n')}
];
`,
  );
  const count = (k) => sorted.filter(([, r]) => r.kind === k).length;
  process.stdout.write(`${sorted.length} compatibles: ${['writeback', 'display', 'gpu', 'codec', 'camera', 'none'].map((k) => `${k} ${count(k)}`).join(', ')}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
