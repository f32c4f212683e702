// Boots the test kernel (scripts/build-test-kernel.sh) in QEMU with an initramfs holding busybox,
// this machine's node and its libraries, and the built project; the guest runs a command as init
// and reports through the serial console. Used by the real-kernel test and benchmark.

import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { testDir } from '../helpers.js';

export const KERNEL = join(process.env['UDALLOC_KERNEL_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'udalloc', 'kernel'), 'bzImage');
const BUSYBOX = '/bin/busybox';

function need(path: string, fix: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: ${fix}`);
}

/** The shared libraries a binary loads, as ldd lists them (absolute paths). */
function libraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  return [...out.matchAll(/(\/[^\s]+)/g)].map((m) => m[1]!).filter((p) => p !== binary && existsSync(p));
}

const DBUS_DAEMON = '/usr/bin/dbus-daemon';

/**
 * node_modules paths of the named packages and everything they depend on at run time (from
 * package-lock.json), leaving out the build-time helpers of native modules.
 */
function runtimeModules(projectRoot: string, names: readonly string[]): string[] {
  const lock = JSON.parse(readFileSync(join(projectRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dependencies?: Record<string, string> }> };
  const buildOnly = new Set(['node-gyp', 'nan']);
  const seen = new Set<string>();
  const visit = (name: string) => {
    const path = `node_modules/${name}`;
    if (seen.has(path) || buildOnly.has(name) || !lock.packages[path]) return;
    seen.add(path);
    for (const dep of Object.keys(lock.packages[path]!.dependencies ?? {})) visit(dep);
  };
  names.forEach(visit);
  return [...seen];
}

/** Builds a gzip'd newc initramfs; `command` runs in /udalloc as root after the mounts. */
export function buildInitramfs(projectRoot: string, command: string, files: Readonly<Record<string, string>> = {}): string {
  need(BUSYBOX, 'apt-get install busybox-static');
  const dir = testDir('udalloc-initramfs-');
  const root = join(dir, 'root');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'udalloc', 'usr/bin', 'etc']) mkdirSync(join(root, d), { recursive: true });
  // Users and groups: dbus-daemon authenticates clients by uid and looks their users up.
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  copyFileSync(BUSYBOX, join(root, 'bin/busybox'));
  const node = realpathSync(process.execPath);
  copyFileSync(node, join(root, 'bin/node'));
  // node's libraries, and those of the native modules (libdrm for the DRM one).
  const addons = ['native/build/Release/udalloc_native.node', 'native/build/Release/udalloc_drm.node'].filter((a) => existsSync(join(projectRoot, a)));
  for (const lib of new Set([node, ...addons.map((a) => join(projectRoot, a))].flatMap(libraries))) {
    mkdirSync(join(root, dirname(lib)), { recursive: true });
    copyFileSync(realpathSync(lib), join(root, lib));
  }
  // dbus-daemon and its libraries, for the service test: without them that suite cannot run,
  // which is a failure of the run, not a reason to leave the suite out.
  if (!existsSync(DBUS_DAEMON)) throw new Error(`the guest's D-Bus service suite needs ${DBUS_DAEMON} on this machine (Debian package dbus-daemon; .ci/run installs it)`);
  copyFileSync(DBUS_DAEMON, join(root, DBUS_DAEMON.slice(1)));
  for (const lib of libraries(DBUS_DAEMON)) {
    mkdirSync(join(root, dirname(lib)), { recursive: true });
    copyFileSync(realpathSync(lib), join(root, lib));
  }
  // The project: compiled code, the native binding, runtime dependencies and data files.
  // The ION shim and the legacy clients the host built (native/ion, test-kernel/ion).
  for (const part of ['dist', ...addons, 'native/build/ion', 'native/build/ion-test', 'boards', 'test-kernel', 'package.json', ...runtimeModules(projectRoot, ['zod', 'yaml', 'tinybench', 'dbus-next', 'usocket'])]) {
    if (existsSync(join(projectRoot, part))) cpSync(join(projectRoot, part), join(root, 'udalloc', part), { recursive: true });
  }
  // Data the command reads (traces written by the host test), under /udalloc.
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, 'udalloc', name), text);
  writeFileSync(
    join(root, 'init'),
    `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmp /tmp
cd /udalloc
echo UDALLOC-GUEST-START
${command}
echo "UDALLOC-GUEST-EXIT $?"
poweroff -f
echo o > /proc/sysrq-trigger
`,
    { mode: 0o755 },
  );
  const image = join(dir, 'initramfs.cpio.gz');
  execFileSync('sh', ['-c', `cd "${root}" && find . | cpio -o -H newc --quiet | gzip -1 > "${image}"`]);
  return image;
}

export interface GuestRun {
  readonly exitCode: number | undefined;
  readonly output: string;
}

/**
 * Boots the kernel with the initramfs under TCG (KVM is not available here) and waits for it.
 * Single-threaded TCG: with one host thread per vCPU (MTTCG), x86's int3-based live code patching
 * (text_poke_bp, used by static keys and static calls at boot) occasionally raced the other vCPU
 * and oopsed in the int3 handler ("Oops: int3" in sched_clock_cpu during an initcall): the kernel
 * suite's rare, unexplained failure. Round-robin vCPUs on one thread see each patch in order.
 * `cma` is the cma= argument (the default CMA area's size; 64M unless a test sizes it).
 */
export function bootGuest(initramfs: string, timeoutMs = 600_000, cma = '64M'): Promise<GuestRun> {
  need(KERNEL, 'run scripts/build-test-kernel.sh (about 10 minutes once; the result is cached)');
  // Three vivid capture instances: the first on vb2-dma-contig (it needs contiguous memory, like a
  // camera without an IOMMU), the second on vmalloc (scattered pages are fine), the third
  // multi-planar (NV12M: a dma-buf per plane) on vb2-dma-contig. vkms needs nothing.
  const vivid = 'vivid.n_devs=3 vivid.node_types=0x1,0x1,0x1 vivid.allocators=1,0,1 vivid.multiplanar=1,1,2';
  const args = ['-accel', 'tcg,thread=single', '-cpu', 'max', '-m', '1024', '-smp', '2', '-nographic', '-no-reboot', '-kernel', KERNEL, '-initrd', initramfs, '-append', `console=ttyS0 cma=${cma} ${vivid} panic=-1 quiet`];
  return new Promise((resolve, reject) => {
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    // The serial console can deliver a multi-byte character split across chunks (even byte by
    // byte): decode with the streams' StringDecoder, never chunk by chunk.
    qemu.stdout.setEncoding('utf8');
    qemu.stderr.setEncoding('utf8');
    qemu.stdout.on('data', (d: string) => (output += d));
    qemu.stderr.on('data', (d: string) => (output += d));
    const timer = setTimeout(() => qemu.kill('SIGKILL'), timeoutMs);
    qemu.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start qemu-system-x86_64 (apt-get install qemu-system-x86): ${err.message}`));
    });
    qemu.on('close', () => {
      clearTimeout(timer);
      const m = /UDALLOC-GUEST-EXIT (\d+)/.exec(output);
      resolve({ exitCode: m ? Number(m[1]) : undefined, output });
    });
  });
}
