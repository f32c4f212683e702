// Discovery on real board device trees from Debian's arm64 kernel package (scripts/fetch-dtbs.sh).
// Every expected value below was checked by hand in `dtc -I dtb -O dts` output of the same file.

import assert from 'node:assert/strict';
import { each } from '../helpers.js';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { parseDtb } from '../../src/platform/fdt.js';
import { deriveFromTree, type DiscoveredPlatform } from '../../src/platform/derive.js';
import { DTB_CACHE, dtbPath } from './dtbs.js';

const discover = (file: string): DiscoveredPlatform => deriveFromTree(parseDtb(readFileSync(dtbPath(file)), file));
const MiB = 2 ** 20;

function allDtbs(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? allDtbs(p) : e.endsWith('.dtb') ? [p] : [];
  });
}

describe('real device trees', () => {
  it('all of Debian\'s arm64 .dtb files parse and derive without a single error', () => {
    dtbPath('broadcom/bcm2711-rpi-4-b.dtb');
    const files = allDtbs(DTB_CACHE);
    assert.ok(files.length >= 500, `only ${files.length} dtbs in ${DTB_CACHE}`);
    let devices = 0;
    for (const f of files) devices += deriveFromTree(parseDtb(readFileSync(f), relative(DTB_CACHE, f))).devices.length;
    assert.ok(devices > 500, `${devices} devices found`);
  });

  it('node and property counts agree with dtc on a sample of boards', () => {
    const sample = allDtbs(DTB_CACHE).filter((_, i) => i % 25 === 0);
    for (const f of sample) {
      const dts = execFileSync('dtc', ['-I', 'dtb', '-O', 'dts', '-q', f], { encoding: 'utf8', maxBuffer: 64 * MiB });
      const dtcNodes = dts.split('\n').filter((l) => /^\s*[^\s].* \{$/.test(l) && !l.trimStart().startsWith('/dts-v1/')).length;
      const tree = parseDtb(readFileSync(f), f);
      const nodes = [...tree.root.walk()].length;
      assert.strictEqual(nodes, dtcNodes, `${f}: nodes`);
    }
  });

  it('Raspberry Pi 4: 64 MiB default CMA pool limited by alloc-ranges to the first GiB; HVS has no IOMMU and a 30-bit window', () => {
    const p = discover('broadcom/bcm2711-rpi-4-b.dtb');
    const cma = p.heaps.find((h) => h.kind === 'cma')!;
    assert.deepStrictEqual([cma.name, cma.size, cma.base, cma.limit, cma.default], ['linux,cma', 64 * MiB, null, 1024 * MiB, true]);
    assert.match(cma.source, /\/reserved-memory\/linux,cma \(shared-dma-pool, reusable, linux,cma-default; size, alloc-ranges/);
    const hvs = p.devices.find((d) => d.compatible === 'brcm,bcm2711-hvs')!;
    assert.deepStrictEqual([hvs.kind, hvs.iommu, hvs.dmaBits], ['display', false, 30]);
    assert.strictEqual(hvs.sources.iommu, 'broadcom/bcm2711-rpi-4-b.dtb /soc/hvs@7e400000 has no iommus property');
    assert.strictEqual(hvs.sources.dmaBits, 'broadcom/bcm2711-rpi-4-b.dtb /soc dma-ranges (CPU addresses below 0x40000000)');
    // memory@0's reg is all zero: the firmware fills it at boot.
    assert.match(p.heaps[0]!.source, /memory@0 reg \(size 0: filled in by the firmware at boot\)/);
  });

  it('RK3399 (RockPro64): both VOPs, the VPU and the decoder sit behind IOMMUs; the Mali GPU has its own MMU', () => {
    const p = discover('rockchip/rk3399-rockpro64.dtb');
    const by = (c: string) => p.devices.find((d) => d.compatible === c)!;
    assert.deepStrictEqual(['rockchip,rk3399-vop-big', 'rockchip,rk3399-vop-lit', 'rockchip,rk3399-vpu', 'rockchip,rk3399-vdec', 'rockchip,rk3399-mali'].map((c) => [by(c).kind, by(c).iommu]), [
      ['display', true],
      ['display', true],
      ['codec', true],
      ['codec', true],
      ['gpu', true],
    ]);
    assert.match(by('rockchip,rk3399-mali').sources.iommu, /the GPU has its own MMU \(drivers\/gpu\/drm\/panfrost\/panfrost_mmu\.c\)/);
    // The ISPs are disabled on this board (status = "disabled") and not listed.
    assert.ok(!p.devices.some((d) => d.compatible === 'rockchip,rk3399-cif-isp'));
  });

  it('SC7180 IDP: no-map carveouts linked by memory-region; the DPU uses the MDSS IOMMU; 36-bit soc window', () => {
    const p = discover('qcom/sc7180-idp.dtb');
    const venus = p.devices.find((d) => d.compatible === 'qcom,sc7180-venus')!;
    assert.deepStrictEqual([venus.kind, venus.iommu, venus.dmaBits, venus.heaps], ['codec', true, 36, ['memory@8f600000']]);
    const fw = p.heaps.find((h) => h.name === 'memory@8f600000')!;
    assert.deepStrictEqual([fw.kind, fw.base, fw.size], ['carveout', 0x8f600000, 5 * MiB]);
    const dpu = p.devices.find((d) => d.compatible === 'qcom,sc7180-dpu')!;
    assert.deepStrictEqual([dpu.kind, dpu.iommu], ['display', true]);
    assert.match(dpu.sources.iommu, /\/soc@0\/display-subsystem@ae00000 iommus \(enclosing display-controller@ae01000: msm_kms_init_aspace\(\) uses the MDSS's\)/);
    // The venus-decoder/encoder sub-nodes are part of venus, not devices of their own.
    assert.ok(!p.devices.some((d) => d.compatible.startsWith('venus-')));
  });

  // Classified by the driver that binds each node (src/platform/driver-table.ts, from the 6.12 source).
  each([
    ['broadcom/bcm2711-rpi-4-b.dtb', 'writeback', 'brcm,bcm2835-txp', false],
    ['allwinner/sun50i-h6-pine-h64.dtb', 'display', 'allwinner,sun50i-h6-de3-mixer-0', true],
    ['allwinner/sun50i-h6-pine-h64.dtb', 'codec', 'allwinner,sun50i-h6-video-engine', true],
    ['allwinner/sun50i-a64-pine64-plus.dtb', 'codec', 'allwinner,sun50i-a64-video-engine', false],
    ['amlogic/meson-g12b-odroid-n2.dtb', 'display', 'amlogic,meson-g12a-vpu', false],
    ['amlogic/meson-sm1-odroid-c4.dtb', 'display', 'amlogic,meson-g12a-vpu', false],
    ['nvidia/tegra210-p3450-0000.dtb', 'display', 'nvidia,tegra210-dc', true],
    ['nvidia/tegra210-p3450-0000.dtb', 'gpu', 'nvidia,gm20b', true],
    // VI has no iommus of its own; host1x's stream is not its (vb2-dma-contig on the VI device).
    ['nvidia/tegra210-p3450-0000.dtb', 'camera', 'nvidia,tegra210-vi', false],
  ], '%s: %s %s found, IOMMU %s', (file: string, kind: string, compatible: string, iommu: boolean) => {
    const d = discover(file).devices.find((x) => x.compatible === compatible);
    assert.ok(d, `${compatible} not found`);
    assert.deepStrictEqual([d.kind, d.iommu], [kind, iommu]);
    assert.match(d.sources.kind, /is matched by drivers\//);
  });

  each([
    ['allwinner/sun50i-h6-pine-h64.dtb', 'allwinner,sun50i-h6-display-engine'],
    ['allwinner/sun50i-h6-pine-h64.dtb', 'allwinner,sun50i-h6-de3'],
    ['nvidia/tegra210-p3450-0000.dtb', 'nvidia,tegra210-csi'],
    ['broadcom/bcm2711-rpi-4-b.dtb', 'brcm,bcm2711-pixelvalve0'],
  ], '%s: %s is no DMA master and is not listed', (file: string, compatible: string) => {
    assert.ok(!discover(file).devices.some((x) => x.compatible === compatible));
  });

  it('Odroid N2 (Amlogic G12B): 256 MiB default CMA pool, placed dynamically with 4 MiB alignment', () => {
    const cma = discover('amlogic/meson-g12b-odroid-n2.dtb').heaps.find((h) => h.kind === 'cma')!;
    // linux,cma { size = <0x0 0x10000000>; alignment = <0x0 0x400000>; reusable; linux,cma-default; }
    assert.deepStrictEqual([cma.name, cma.size, cma.base, cma.default, cma.alignment], ['linux,cma', 256 * MiB, null, true, 4 * MiB]);
    assert.match(cma.source, /size, alignment\)/);
  });

  it('i.MX8M Mini with an IMX219 camera: the capture block (imx7-csi) is the camera, the CSI-2 receiver is skipped and said so; the GPU maps through its own MMU', () => {
    const p = discover('freescale/imx8mm-venice-gw73xx-0x-imx219.dtb');
    assert.deepStrictEqual(p.devices.filter((d) => d.kind === 'camera').map((d) => [d.compatible, d.iommu, d.dmaBits]), [['fsl,imx8mm-csi', false, 32]]);
    assert.ok(p.notes!.some((n) => /^skipped \/soc@0\/bus@32c00000\/mipi-csi@32e30000 \(fsl,imx8mm-mipi-csi2\): a MIPI CSI-2 receiver/.test(n)), p.notes!.join('\n'));
    assert.ok(p.devices.filter((d) => d.kind === 'gpu').every((d) => d.iommu && /own MMU/.test(d.sources.iommu)));
  });

  it('i.MX8M Mini EVK: no CMA node and no cma=: the default area is said to exist, its size taken from --cma or said to be unknown', () => {
    const tree = parseDtb(readFileSync(dtbPath('freescale/imx8mm-evk.dtb')), 'imx8mm-evk.dtb');
    const unknown = deriveFromTree(tree);
    assert.ok(!unknown.heaps.some((h) => h.kind === 'cma'));
    assert.ok(unknown.notes!.some((n) => /default CMA area: its size is not in the device tree .* give --cma SIZE/.test(n)));
    const given = deriveFromTree(tree, { cma: 64 * MiB }).heaps.find((h) => h.kind === 'cma')!;
    assert.deepStrictEqual([given.name, given.size, given.base, given.limit, given.default], ['reserved', 64 * MiB, null, 2 ** 32, true]);
    assert.match(given.source, /CONFIG_CMA_SIZE_MBYTES \(kernel\/dma\/contiguous\.c\).*from --cma/);
  });

  it('i.MX8M Plus EVK (the 6.12 tree): 6 GiB of RAM in two memory ranges; the LCDIFs without an IOMMU; the Hantro VPUs; the Vivante cores map through their own MMU', () => {
    const p = discover('freescale/imx8mp-evk.dtb');
    assert.strictEqual(p.heaps[0]!.size, 6 * 1024 * MiB);
    assert.deepStrictEqual(p.devices.filter((d) => d.kind === 'display').map((d) => [d.compatible, d.iommu]), [['fsl,imx8mp-lcdif', false], ['fsl,imx8mp-lcdif', false]]);
    // The codecs, and the DW100 dewarp engine (a memory-to-memory converter, drivers/media/platform/nxp/dw100/).
    assert.deepStrictEqual(p.devices.filter((d) => d.kind === 'codec').map((d) => d.compatible), ['nxp,imx8mp-dw100', 'nxp,imx8mm-vpu-g1', 'nxp,imx8mq-vpu-g2']);
    // 3D, 2D and the NPU are all Vivante cores that etnaviv drives through one device configured
    // from the first (drivers/gpu/drm/etnaviv/etnaviv_drv.c etnaviv_pdev_probe()): one GPU, the 3D core.
    assert.deepStrictEqual(p.devices.filter((d) => d.kind === 'gpu').map((d) => [d.source.split(' ')[1], d.iommu]), [['/soc@0/gpu@38000000', true]]);
    assert.ok((p.notes ?? []).some((n) => /^skipped \/soc@0\/npu@38500000 \(vivante,gc\): no DMA device of its own, \/soc@0\/gpu@38000000's stands for it: etnaviv/.test(n)), JSON.stringify(p.notes));
  });
});
