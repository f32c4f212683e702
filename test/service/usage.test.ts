// udalloc usage on a /proc tree laid out as Linux 6.12 writes it (fdinfo of dma-bufs, maps lines of
// "/dmabuf:<name>" mappings, debugfs bufinfo): shared buffers counted once with every holder,
// proportional shares, mapped-only buffers, --pid; the real kernel is read in the QEMU suite.

import assert from 'node:assert/strict';
import { closeSync, fstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadNative } from '../../src/kernel/native/addon.js';
import { standInFor } from '../../src/service/stand-in.js';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scanUsage } from '../../src/service/usage.js';
import { testDir } from '../helpers.js';

const MiB = 2 ** 20;

function fakeProc(): string {
  const root = testDir('udalloc-proc-');
  const proc = (pid: number, comm: string, fds: Record<string, string>, maps: string) => {
    const dir = join(root, 'proc', String(pid));
    mkdirSync(join(dir, 'fdinfo'), { recursive: true });
    writeFileSync(join(dir, 'comm'), `${comm}\n`);
    writeFileSync(join(dir, 'status'), `Name:\t${comm}\nUid:\t1000\t1000\t1000\t1000\n`);
    writeFileSync(join(dir, 'maps'), maps);
    mkdirSync(join(dir, 'fd'));
    for (const [fd, text] of Object.entries(fds)) {
      writeFileSync(join(dir, 'fdinfo', fd), text);
      // What the fd's /proc link reads: "/dmabuf:<name>" for a dma-buf (dmabuffs_dname()).
      symlinkSync(text.includes('exp_name:') ? `/dmabuf:${/^name:\t(.*)$/m.exec(text)?.[1] ?? ''}` : 'socket:[77]', join(dir, 'fd', fd));
    }
  };
  // dma_buf_show_fdinfo() after the generic pos/flags/mnt_id/ino lines.
  const dmabuf = (ino: number, size: number, exp: string, name?: string) => `pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t${ino}\nsize:\t${size}\ncount:\t1\nexp_name:\t${exp}\n${name ? `name:\t${name}\n` : ''}`;
  proc(100, 'camera', { '3': dmabuf(501, 4 * MiB, 'reserved', 'preview-0'), '4': dmabuf(502, 2 * MiB, 'system'), '5': 'pos:\t0\nflags:\t02\nmnt_id:\t20\nino:\t77\n' }, '');
  // The compositor received preview-0 (another fd on the same inode) and maps it.
  proc(200, 'compositor', { '7': dmabuf(501, 4 * MiB, 'reserved', 'preview-0') }, '7f0000000000-7f0000400000 rw-s 00000000 00:0f 501                        /dmabuf:preview-0\n');
  // A player that closed its fd but kept the mapping of a buffer nobody else holds.
  proc(300, 'player', {}, '7f1000000000-7f1000100000 r--s 00000000 00:0f 777                        /dmabuf:\n');
  mkdirSync(join(root, 'sys/kernel/debug/dma_buf'), { recursive: true });
  writeFileSync(join(root, 'sys/kernel/debug/dma_buf/bufinfo'), `\nDma-buf Objects:\nsize    \tflags   \tmode    \tcount   \texp_name\tino     \tname\n00004194304\t00000002\t00080007\t00000003\treserved\t00000501\tpreview-0\n00001048576\t00000002\t00080007\t00000001\tsystem\t00000777\t<none>\n`);
  return root;
}

describe('udalloc usage', () => {
  it('counts a shared buffer once with all its holders, per exporter and per process, with proportional shares', () => {
    const u = scanUsage(fakeProc());
    assert.deepStrictEqual(u.buffers.map((b) => [b.inode, b.size, b.exporter, b.name ?? null, b.holders.map((h) => [h.pid, h.fds, h.mapped])]), [
      [501, 4 * MiB, 'reserved', 'preview-0', [[100, 1, false], [200, 1, true]]],
      [502, 2 * MiB, 'system', null, [[100, 1, false]]],
      [777, 1 * MiB, 'system', null, [[300, 0, true]]],
    ]);
    assert.deepStrictEqual(u.total, { buffers: 3, bytes: 7 * MiB });
    assert.deepStrictEqual(u.exporters, [{ exporter: 'reserved', buffers: 1, bytes: 4 * MiB }, { exporter: 'system', buffers: 2, bytes: 3 * MiB }]);
    assert.deepStrictEqual(u.processes.map((p) => [p.pid, p.comm, p.buffers, p.bytes, p.proportional]), [
      [100, 'camera', 2, 6 * MiB, 4 * MiB],
      [200, 'compositor', 1, 4 * MiB, 2 * MiB],
      [300, 'player', 1, 1 * MiB, 1 * MiB],
    ]);
    // The mapped-only buffer's size and exporter come from debugfs bufinfo.
    assert.strictEqual(u.buffers[2]!.sizeFrom, 'bufinfo');
  });

  it('Linux 6.17: a buffer from the default area under its legacy name and one from default_cma_region are one exporter line', () => {
    const root = fakeProc();
    // The camera's 4 MiB buffer came through the legacy name ("reserved"); add a 2 MiB one through default_cma_region.
    mkdirSync(join(root, 'dev/dma_heap'), { recursive: true });
    for (const h of ['default_cma_region', 'reserved', 'system']) writeFileSync(join(root, 'dev/dma_heap', h), '');
    const dir = join(root, 'proc/400');
    mkdirSync(join(dir, 'fdinfo'), { recursive: true });
    mkdirSync(join(dir, 'fd'));
    writeFileSync(join(dir, 'comm'), 'encoder\n');
    writeFileSync(join(dir, 'status'), 'Name:\tencoder\nUid:\t1000\t1000\t1000\t1000\n');
    writeFileSync(join(dir, 'maps'), '');
    writeFileSync(join(dir, 'fdinfo/3'), `pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t601\nsize:\t${2 * MiB}\ncount:\t1\nexp_name:\tdefault_cma_region\n`);
    symlinkSync('/dmabuf:', join(dir, 'fd/3'));
    const u = scanUsage(root);
    assert.deepStrictEqual(u.exporters, [{ exporter: 'default_cma_region', buffers: 2, bytes: 6 * MiB }, { exporter: 'system', buffers: 2, bytes: 3 * MiB }]);
  });

  it('--pid keeps the buffers that process holds; without bufinfo a mapped-only buffer is sized by its mapping', () => {
    const root = fakeProc();
    const compositor = scanUsage(root, 200);
    assert.deepStrictEqual(compositor.buffers.map((b) => b.inode), [501]);
    assert.deepStrictEqual(compositor.processes.map((p) => p.pid), [200]);
    writeFileSync(join(root, 'sys/kernel/debug/dma_buf/bufinfo'), '');
    const player = scanUsage(root, 300).buffers[0]!;
    assert.deepStrictEqual([player.size, player.sizeFrom, player.exporter], [1 * MiB, 'mappings', '?']);
  });
});

describe('udalloc usage and a service on the simulated kernel', () => {
  it('finds the memfds a service hands out in place of dma-bufs, by fd and by mapping, named after their heap', () => {
    const addon = loadNative();
    const fd = standInFor('linux,cma', 3 * MiB, 'ud:0:cma:preview-0');
    const ino = fstatSync(fd).ino;
    const find = () => scanUsage('/', process.pid).buffers.find((b) => b.exporter === 'linux,cma (simulated)' && b.inode === ino);
    const held = find();
    assert.ok(held, 'held by an fd');
    assert.deepStrictEqual([held.size, held.sizeFrom, held.holders.map((h) => [h.pid, h.fds, h.mapped])], [3 * MiB, 'stat', [[process.pid, 1, false]]]);
    const mapping = addon.mmap(fd, 3 * MiB, false);
    closeSync(fd);
    const mapped = find();
    assert.ok(mapped, 'held by a mapping only');
    assert.deepStrictEqual([mapped.size, mapped.sizeFrom, mapped.holders.map((h) => [h.pid, h.fds, h.mapped])], [3 * MiB, 'mappings', [[process.pid, 0, true]]]);
    addon.munmap(mapping);
    assert.strictEqual(find(), undefined);
  });
});
