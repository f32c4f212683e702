// Service test harness: a private dbus-daemon (Debian's dbus package) with its own socket in a
// temporary directory, any user may connect (the tests call it as root and as nobody), and the
// service started on it in this process on the simulated kernel.

import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readdirSync, readlinkSync } from 'node:fs';
import { parsePolicy } from '../../src/service/policy.js';
import { AllocatorService, openServiceAllocator } from '../../src/service/server.js';
import { testDir } from '../helpers.js';

export interface TestBus {
  readonly address: string;
  readonly daemon: ChildProcess;
  stop(): Promise<void>;
}

/** An open bus (anyone may own and call anything), or one whose default policy is the system bus's, plus the .conf files of `includeDir`. */
export async function startBus(options: { systemPolicyWith?: string } = {}): Promise<TestBus> {
  const dir = testDir('udalloc-bus-');
  chmodSync(dir, 0o755);
  const config = join(dir, 'bus.conf');
  // The system bus's defaults (Debian's /usr/share/dbus-1/system.conf): no one owns names or sends
  // method calls unless a service's policy file says so; replies and signals flow.
  const policy = options.systemPolicyWith
    ? `<policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <includedir>${options.systemPolicyWith}</includedir>`
    : `<policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>`;
  writeFileSync(
    config,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${join(dir, 'bus')}</listen>
  <auth>EXTERNAL</auth>
  ${policy}
</busconfig>
`,
  );
  const daemon = spawn('dbus-daemon', ['--config-file', config, '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // A test process that dies early must not leave its bus running.
  const reap = () => daemon.kill();
  process.once('exit', reap);
  daemon.once('exit', () => process.off('exit', reap));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    daemon.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    daemon.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    daemon.once('error', (e) => reject(new Error(`dbus-daemon did not start (apt-get install dbus): ${e.message}`)));
    daemon.once('exit', (code) => reject(new Error(`dbus-daemon exited with ${code}: ${err}`)));
  });
  return {
    address,
    daemon,
    stop: async () => {
      if (daemon.exitCode === null) {
        const exited = new Promise((r) => daemon.once('exit', r));
        daemon.kill();
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What this process's fds point at (for a message when a count is off). */
export function fdLinks(): string[] {
  return readdirSync('/proc/self/fd').map((fd) => {
    try {
      return `${fd}:${readlinkSync(`/proc/self/fd/${fd}`)}`;
    } catch {
      return `${fd}:?`;
    }
  });
}

/** This process's open fds. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

export async function startService(bus: TestBus, policy = '', graceMs = 50): Promise<AllocatorService> {
  return AllocatorService.start({ bus: bus.address, allocator: openServiceAllocator('example', 'sim'), policy: parsePolicy(policy, 'test policy'), graceMs, scanIntervalMs: 60_000 });
}
