// A private dbus-daemon for tests (Debian's dbus package): its own socket in a temporary directory,
// any user may connect (the tests call it as root and as nobody), fd passing on.

import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestBus {
  readonly address: string;
  readonly daemon: ChildProcess;
  stop(): Promise<void>;
}

export async function startBus(): Promise<TestBus> {
  const dir = mkdtempSync(join(tmpdir(), 'udalloc-bus-'));
  chmodSync(dir, 0o755);
  const config = join(dir, 'bus.conf');
  writeFileSync(
    config,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${join(dir, 'bus')}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`,
  );
  const daemon = spawn('dbus-daemon', ['--config-file', config, '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
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
