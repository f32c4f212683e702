// README's private-bus recipe, run as README.md has it (its paths moved to a temporary directory,
// `npx udalloc` run from this build), and stopping a server started through npm the way a shell
// user would: killing the npm process must stop the server and free its bus name.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { testDir } from '../helpers.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** The README block that starts a private bus, a server and a client, as written. */
function readmeRecipe(): string {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf("cat > /tmp/bus.conf <<'END'");
  const end = readme.indexOf('\n```', start);
  assert.ok(start > 0 && end > start, 'README has the private-bus recipe');
  return readme.slice(start, end);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the service as README starts and a shell user stops it', () => {
  it("README's private-bus recipe, as written, serves: the client lists the heaps", { timeout: 60_000 }, () => {
    const dir = testDir('udalloc-readme-bus-');
    const script = `${readmeRecipe().replaceAll('/tmp/bus', join(dir, 'bus')).replaceAll('npx udalloc', `node ${CLI}`)}\nstatus=$?\nkill %2 %1 2>/dev/null\nwait\nexit $status\n`;
    writeFileSync(join(dir, 'recipe.sh'), script);
    const r = spawnSync('bash', [join(dir, 'recipe.sh')], { encoding: 'utf8', timeout: 45_000 });
    assert.strictEqual(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^heap #2 +cma +256 MiB +free +256 MiB +contiguous$/m);
  });

  for (const how of ['directly', 'through sh -c, as npm 11 runs it'] as const) {
    it(`killing the npm process that started \`udalloc serve\` (${how}) stops the server and frees its bus name`, { timeout: 60_000 }, async () => {
      const dir = testDir('udalloc-npm-kill-');
      const recipe = readmeRecipe();
      const conf = recipe.slice(recipe.indexOf('<busconfig>'), recipe.indexOf('</busconfig>') + '</busconfig>'.length).replaceAll('/tmp/bus', join(dir, 'bus'));
      writeFileSync(join(dir, 'bus.conf'), conf);
      const daemon = spawn('dbus-daemon', [`--config-file=${join(dir, 'bus.conf')}`, '--nofork'], { stdio: 'ignore' });
      try {
        const address = `unix:path=${join(dir, 'bus')}`;
        const serve = [CLI, 'serve', '--bus', address, '--platform', 'example', '--quiet'];
        // A stand-in for `npm exec`: a process named npm that starts the server (itself, or through
        // a shell that stays as the server's parent) and prints the server's pid; then it is killed.
        const start = how === 'directly'
          ? `const c = cp.spawn(process.execPath, ${JSON.stringify(serve)}, { stdio: 'ignore' }); console.log(c.pid);`
          : `const sh = cp.spawn('sh', ['-c', ${JSON.stringify(`${process.execPath} ${serve.map((a) => `'${a}'`).join(' ')}; true`)}], { stdio: 'ignore' });
             const find = () => { try { const kids = require('node:fs').readFileSync('/proc/' + sh.pid + '/task/' + sh.pid + '/children', 'utf8').trim(); if (kids) return console.log(kids.split(' ')[0]); } catch {} setTimeout(find, 50); }; find();`;
        writeFileSync(join(dir, 'npm.js'), `const cp = require('node:child_process'); ${start} setInterval(() => {}, 1000);`);
        const npm = spawn('bash', ['-c', `exec -a npm ${process.execPath} ${join(dir, 'npm.js')}`], { stdio: ['ignore', 'pipe', 'inherit'] });
        const server = Number(await new Promise<string>((resolve) => npm.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()))));
        const heaps = () => spawnSync(process.execPath, [CLI, 'heaps', '--service', address], { encoding: 'utf8' });
        assert.strictEqual(heaps().status, 0, 'the server serves');
        npm.kill('SIGKILL');
        for (let i = 0; i < 40 && alive(server); i++) await new Promise((r) => setTimeout(r, 100));
        assert.ok(!alive(server), 'the server stopped when the npm that started it was killed');
        // The name is free: a new server takes it.
        const again = spawn(process.execPath, [CLI, 'serve', '--bus', address, '--platform', 'example', '--quiet'], { stdio: 'ignore' });
        try {
          assert.strictEqual(heaps().status, 0);
        } finally {
          again.kill('SIGTERM');
        }
      } finally {
        daemon.kill('SIGTERM');
      }
    });
  }
});
