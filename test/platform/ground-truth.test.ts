// Discovery scored against the hand-established ground truth of test/platform/ground-truth/ (19
// boards, nine vendors): every master found with its kind, nothing spurious, IOMMU, DMA limit and
// heaps all right. The figures are printed (`npm run ground-truth` prints them alone).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groundTruth, report, scoreBoard, totals } from './ground-truth.js';

describe('discovery against the ground truth', () => {
  const boards = groundTruth();

  it('the set covers at least 15 boards from Broadcom, Rockchip, NXP, Allwinner, Amlogic, Qualcomm, MediaTek, TI and NVIDIA, every fact with its source', () => {
    assert.ok(boards.length >= 15, `${boards.length} boards`);
    const vendors = new Set(boards.map((b) => b.dtb.split('/')[0]));
    for (const v of ['broadcom', 'rockchip', 'freescale', 'allwinner', 'amlogic', 'qcom', 'mediatek', 'ti', 'nvidia']) assert.ok(vendors.has(v), `no ${v} board`);
    for (const b of boards) {
      for (const m of b.masters) {
        const cited = m as unknown as Record<string, unknown>;
        for (const why of ['kindWhy', 'iommuWhy', 'dmaLimitWhy', 'heapsWhy']) assert.ok(typeof cited[why] === 'string' && (cited[why] as string).length > 10, `${b.dtb} ${m.path}: ${why}`);
        assert.match(String(cited['kindWhy']), /drivers\//, `${b.dtb} ${m.path}: the kind cites a driver`);
      }
    }
  });

  it('devices with the right kind >= 98% and no spurious master; IOMMU, DMA limit and heaps 100%', (t) => {
    const scores = boards.map(scoreBoard);
    const text = report(scores);
    t.diagnostic(text);
    const s = totals(scores);
    assert.ok(s.found / s.masters >= 0.98, text);
    assert.strictEqual(s.spurious, 0, text);
    assert.strictEqual(s.iommuRight, s.matched, text);
    assert.strictEqual(s.dmaRight, s.matched, text);
    assert.strictEqual(s.heapsRight, s.heaps, text);
  });

  it('the cases that were wrong: Pi 4 writeback, H6 mixer and Cedrus behind the IOMMU, the Amlogic VPU a display, Tegra210 DCs, GPU and VI, one Hantro per compatible, one etnaviv device', () => {
    const byPath = new Map<string, (typeof boards)[number]['masters'][number]>(boards.flatMap((b) => b.masters.map((m) => [`${b.dtb} ${m.path}`, m] as [string, typeof m])));
    const has = (key: string, kind: string, iommu: boolean) => {
      const m = byPath.get(key);
      assert.ok(m, `${key} is in the ground truth`);
      assert.deepStrictEqual([m.kind, m.iommu], [kind, iommu], key);
    };
    has('broadcom/bcm2711-rpi-4-b.dtb /soc/txp@7e004000', 'writeback', false);
    has('allwinner/sun50i-h6-pine-h64.dtb /soc/bus@1000000/mixer@100000', 'display', true);
    has('amlogic/meson-g12b-odroid-n2.dtb /soc/vpu@ff900000', 'display', false);
    has('nvidia/tegra210-p3450-0000.dtb /host1x@50000000/vi@54080000', 'camera', false);
    // ... and the scores above hold for each of them: a board with any miss would fail there.
    for (const b of boards.filter((x) => /pine-h64|odroid-n2|p3450|rpi-4|rock-5b|imx8mp-evk/.test(x.dtb))) {
      const s = scoreBoard(b);
      assert.deepStrictEqual([s.missed, s.wrongKind, s.spurious, s.iommuWrong], [[], [], [], []], b.dtb);
    }
  });
});
