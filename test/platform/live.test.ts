// Live discovery on a fake root (a temp directory laid out like /dev, /proc and /sys), on the
// device tree Linux publishes in sysfs, and on this real machine's /proc and /sys.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { discoverLive, dmaBufFdinfo } from '../../src/platform/live.js';
import { meminfo } from '../../src/kernel/meminfo.js';
import { readDeviceTreeDir } from '../../src/platform/sysfs-tree.js';
import { deriveFromTree, parseCmaArg } from '../../src/platform/derive.js';
import { parseDtb } from '../../src/platform/fdt.js';
import { profileYaml } from '../../src/platform/profile-writer.js';
import { parsePlatform } from '../../src/constraints/load.js';
import { dtbPath } from './dtbs.js';
import { platformFromOption } from '../../src/cli/platform-option.js';
import { DmaHeapBackend } from '../../src/kernel/dma-heap/backend.js';
import { testDir } from '../helpers.js';

function fakeRoot(files: Record<string, string | Uint8Array>, links: Record<string, string> = {}): string {
  const root = testDir('udalloc-root-');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    symlinkSync(target, join(root, path));
  }
  return root;
}

describe('live discovery', () => {
  it('an empty root is a machine with nothing: not an error', () => {
    const p = discoverLive(fakeRoot({}));
    assert.deepStrictEqual(p.devices, []);
    assert.deepStrictEqual(p.heaps.map((h) => [h.name, h.size]), [['system', 0]]);
    assert.match(p.notes.join('\n'), /device tree: none .*\n.*dma-buf heaps: none/);
  });

  it('an x86 machine: system and reserved heaps, an i915 card and a UVC camera, live dma-bufs', () => {
    const root = fakeRoot(
      {
        'dev/dma_heap/system': '',
        'dev/dma_heap/reserved': '',
        'proc/meminfo': 'MemTotal:       16318664 kB\nMemFree:  1 kB\nCmaTotal:          65536 kB\nCmaFree:           61440 kB\n',
        'sys/kernel/mm/cma/reserved/alloc_pages_success': '0',
        'sys/class/drm/card0/device/iommu_group/x': '',
        'sys/class/drm/card0-eDP-1/status': 'connected',
        'sys/class/video4linux/video0/name': 'Integrated Camera: Integrated C\n',
        'proc/self/fdinfo/7': 'pos:\t0\nflags:\t02\nmnt_id:\t15\nino:\t1042\nsize:\t4194304\ncount:\t1\nexp_name:\treserved\nname:\tpreview-0\n',
        'proc/self/fdinfo/8': 'pos:\t0\nflags:\t02\n',
      },
      { 'sys/class/drm/card0/device/driver': '../../bus/pci/drivers/i915', 'sys/class/video4linux/video0/device/driver': '../../usb/drivers/uvcvideo' },
    );
    const p = discoverLive(root);
    assert.deepStrictEqual(p.heaps.map((h) => [h.name, h.kind, h.size]), [['reserved', 'cma', 64 * 2 ** 20], ['system', 'system', 16318664 * 1024]]);
    assert.deepStrictEqual(p.devices.map((d) => [d.name, d.kind, d.compatible, d.iommu]), [['card0', 'display', 'i915', true], ['video0', 'camera', 'uvcvideo: Integrated Camera: Integrated C', true]]);
    assert.deepStrictEqual(dmaBufFdinfo(root), [{ fd: 7, size: 4194304, exporter: 'reserved', name: 'preview-0', inode: 1042 }]);
    assert.match(p.notes.join('\n'), /CMA: 67108864 bytes total, 62914560 free/);
  });

  it('the sysfs device tree reads like the .dtb it came from', () => {
    // Lay out the Pi 4 tree as /sys/firmware/devicetree/base would: one directory per node.
    const tree = parseDtb(readFileSync(dtbPath('broadcom/bcm2711-rpi-4-b.dtb')), 'pi4.dtb');
    const files: Record<string, Uint8Array> = {};
    for (const node of tree.root.walk()) for (const [k, v] of node.props) files[join('sys/firmware/devicetree/base', node.path, k)] = v;
    files['dev/dma_heap/system'] = new Uint8Array();
    files['dev/dma_heap/linux,cma'] = new Uint8Array();
    files['sys/firmware/devicetree/base/chosen/bootargs'] = new TextEncoder().encode('console=ttyS0 root=/dev/mmcblk0p2\0');
    const root = fakeRoot(files);
    const fromSysfs = deriveFromTree(readDeviceTreeDir(join(root, 'sys/firmware/devicetree/base')));
    const fromDtb = deriveFromTree(tree);
    // sysfs lists nodes alphabetically, the .dtb in tree order: compare as sets.
    const summary = (p: typeof fromDtb) => p.devices.map((d) => [d.name, d.iommu, d.dmaBits, d.heaps]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    assert.deepStrictEqual(summary(fromSysfs), summary(fromDtb));
    assert.deepStrictEqual(fromSysfs.heaps.map((h) => [h.name, h.size, h.limit]), fromDtb.heaps.map((h) => [h.name, h.size, h.limit]));
    const live = discoverLive(root);
    const cma = live.heaps.find((h) => h.name === 'linux,cma')!;
    assert.deepStrictEqual([cma.kind, cma.size, cma.limit], ['cma', 64 * 2 ** 20, 2 ** 30]);
    assert.match(cma.source, /dev\/dma_heap\/linux,cma; .*\/reserved-memory\/linux,cma/);
  });

  it('cma= on the command line replaces the linux,cma-default node, named "reserved" as the kernel names it', () => {
    assert.deepStrictEqual(parseCmaArg('console=ttyS0 cma=256M@0-4G quiet'), { size: 256 * 2 ** 20, base: null, limit: 4 * 2 ** 30, text: 'cma=256M@0-4G' });
    assert.deepStrictEqual(parseCmaArg('cma=0x4000000@0x30000000'), { size: 0x4000000, base: 0x30000000, limit: null, text: 'cma=0x4000000@0x30000000' });
    assert.strictEqual(parseCmaArg('console=ttyS0'), undefined);
    const tree = parseDtb(readFileSync(dtbPath('broadcom/bcm2711-rpi-4-b.dtb')), 'pi4.dtb');
    tree.find('/chosen')!.props.set('bootargs', new TextEncoder().encode('cma=128M\0'));
    const heaps = deriveFromTree(tree).heaps.filter((h) => h.kind === 'cma');
    assert.deepStrictEqual(heaps.map((h) => [h.name, h.size]), [['reserved', 128 * 2 ** 20]]);
  });

  it('CMA areas as the kernel makes them: cma= and --cma rounded up to whole 2 MiB pageblocks; a reserved-memory region that is not left out, as Linux refuses it', () => {
    const tree = parseDtb(readFileSync(dtbPath('broadcom/bcm2711-rpi-4-b.dtb')), 'pi4.dtb');
    tree.find('/chosen')!.props.set('bootargs', new TextEncoder().encode('cma=63M\0'));
    const [fromArg] = deriveFromTree(tree).heaps.filter((h) => h.kind === 'cma');
    assert.deepStrictEqual([fromArg!.size, /rounded up to 67108864 bytes/.test(fromArg!.source)], [64 * 2 ** 20, true]);
    // The same tree's own linux,cma node (64 MiB) with a size off a pageblock: no such area boots.
    const plain = parseDtb(readFileSync(dtbPath('broadcom/bcm2711-rpi-4-b.dtb')), 'pi4.dtb');
    const node = plain.find('/reserved-memory')!.children.find((n) => n.has('linux,cma-default'))!;
    node.props.set('size', Uint8Array.from([0, 0, 0, 0, 0x03, 0xf0, 0x00, 0x00].slice(8 - 4 * (node.cells('size', plain)?.length ?? 1))));
    const derived = deriveFromTree(plain, { cma: 63 * 2 ** 20 });
    assert.ok((derived.notes ?? []).some((n) => /is not whole 2 MiB pageblocks; Linux refuses it at boot/.test(n)), JSON.stringify(derived.notes));
    // With the DT's area gone, the default area comes from --cma, rounded up as the kernel does.
    assert.deepStrictEqual(derived.heaps.filter((h) => h.kind === 'cma').map((h) => [h.name, h.size]), [['reserved', 64 * 2 ** 20]]);
  });

  it('without --platform, a machine with dma-buf heaps is described by its own heaps', () => {
    const root = fakeRoot({ 'dev/dma_heap/system': '', 'dev/dma_heap/reserved': '', 'proc/meminfo': 'MemTotal: 1048576 kB\nCmaTotal: 65536 kB\nCmaFree: 65536 kB\n', 'sys/kernel/mm/cma/reserved/x': '' });
    const platform = platformFromOption(undefined, root);
    assert.deepStrictEqual(platform.heaps.map((h) => [h.name, h.kind, h.size]), [['reserved', 'cma', 64 * 2 ** 20], ['system', 'system', 2 ** 30]]);
    assert.strictEqual(platform.origin, 'discovered from this machine');
  });

  it('the dma-heap backend classifies heaps from CMA areas, default names and reusable DT nodes', () => {
    const root = fakeRoot({ 'sys/kernel/mm/cma/camera-pool/x': '', 'sys/firmware/devicetree/base/reserved-memory/video@50000000/reusable': '' });
    const backend = new DmaHeapBackend({ dir: join(root, 'dev/dma_heap'), root });
    assert.deepStrictEqual(['system', 'system-uncached', 'linux,cma', 'default_cma_region', 'camera-pool', 'video@50000000', 'mystery'].map((n) => backend.kindOf(n)), ['system', 'system', 'cma', 'cma', 'cma', 'cma', 'system']);
  });

  it('this machine: /proc/meminfo and /sys read without error', () => {
    assert.ok(meminfo('/')['MemTotal']! > 0);
    const p = discoverLive('/');
    assert.strictEqual(p.heaps[0]!.name, 'system');
    assert.ok(p.heaps[0]!.size > 0);
    assert.ok(p.notes.length >= 2);
  });

  it('a written profile loads, keeps every source as a comment, and negotiates', () => {
    const tree = parseDtb(readFileSync(dtbPath('qcom/sc7180-idp.dtb')), 'sc7180-idp.dtb');
    const yaml = profileYaml(deriveFromTree(tree), 'sc7180-idp');
    assert.match(yaml, /iommu: true {4}# sc7180-idp\.dtb \/soc@0\/display-subsystem@ae00000 iommus \(enclosing display-controller@ae01000: msm_kms_init_aspace\(\) uses the MDSS's\)/);
    assert.match(yaml, /# memory-region memory@8f600000: private memory, not where shared buffers go/);
    const platform = parsePlatform(yaml, 'written.yaml');
    assert.ok(platform.devices.length >= 3);
    assert.ok(platform.heaps.some((h) => h.name === 'memory@8f600000' && h.kind === 'carveout'));
    // Placeholder formats say what the kind of device does with buffers: scanout only reads them.
    const display = platform.devices.find((d) => d.name.startsWith('display-controller'))!;
    assert.deepStrictEqual([...display.formats.values()].map((r) => [r.format.name, r.access]), [['XRGB8888', 'read']]);
  });
});
