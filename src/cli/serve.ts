// udalloc serve: the allocator as a D-Bus service (src/service/server.ts) for programs in any
// language, on the system bus in production (packaging/) or on any bus address.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { InputError } from '../errors.js';
import { AllocatorService, openServiceAllocator } from '../service/server.js';
import { loadPolicy } from '../service/policy.js';
import { BUS_NAME, INTROSPECTION_XML } from '../service/interface.js';
import { backendHelp, backendOption, platformFromOption, platformHelp } from './platform-option.js';

const HELP = `usage: udalloc serve [--bus ADDRESS] [--policy FILE] [--platform P] [--backend B] [--name NAME]
       udalloc serve --introspect

Serves ${BUS_NAME} on D-Bus: clients in any language negotiate, explain and allocate with the
request text "udalloc negotiate --request" takes and receive the buffers as Unix fds (dma-bufs; on
the simulated kernel, sealed memfds of the planned size). Each buffer is charged to the caller the
bus names (uid, pid) while any process holds it; the policy sets quotas and who reaches which heaps.

  --bus ADDRESS         system (default), session, or an address such as unix:path=/run/udalloc/bus
  --policy FILE         quotas per user/group and heap kind, heap reach, CMA reserve (YAML);
                        default: no quotas, carveouts closed
${platformHelp}
${backendHelp}
  --name NAME           the well-known name to own (default ${BUS_NAME})
  --introspect          print the D-Bus introspection XML and exit
  --quiet               no log lines on stderr`;

export const serveOptions = {
  bus: { type: 'string' },
  policy: { type: 'string' },
  platform: { type: 'string' },
  backend: { type: 'string' },
  name: { type: 'string' },
  introspect: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A process's parent and command line from /proc, or undefined when it is gone. */
function processInfo(pid: number): { ppid: number; command: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return { ppid, command: readFileSync(`/proc/${pid}/cmdline`, 'utf8') };
  } catch {
    return undefined;
  }
}

const NPM = /(^|[/\0\s])(npm|npx)(-cli\.js)?([\0\s]|$)|npm-exec/;

/**
 * `npx udalloc serve ... &` then `kill $!` signals npm, which exits without passing the signal on:
 * the server would live on under init, holding the bus name. npm runs the program directly or
 * through `sh -c` (npm 11), so the npm that started it is the parent or the grandparent. When that
 * npm is no longer an ancestor (it exited and the process was handed on), the server stops as on
 * SIGTERM. A server started any other way (systemd, a shell, nohup) is left alone.
 */
function whenStarterGone(stop: () => void): void {
  const ancestors = (): number[] => {
    const out: number[] = [];
    for (let pid = process.ppid; pid > 1 && out.length < 3; pid = processInfo(pid)?.ppid ?? 0) out.push(pid);
    return out;
  };
  const starter = ancestors().find((pid) => NPM.test(processInfo(pid)?.command ?? ''));
  if (starter === undefined) return;
  const timer = setInterval(() => {
    if (ancestors().includes(starter)) return;
    clearInterval(timer);
    stop();
  }, 250);
  timer.unref();
}

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: serveOptions, strict: true, allowPositionals: false });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.introspect) {
    process.stdout.write(INTROSPECTION_XML);
    return 0;
  }
  if (values.name !== undefined && !/^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)+$/.test(values.name)) throw new InputError(`--name ${JSON.stringify(values.name)}: not a D-Bus well-known name (two or more dot-separated elements, e.g. ${BUS_NAME})`, 'name', values.name);
  const policy = loadPolicy(values.policy);
  const allocator = openServiceAllocator(platformFromOption(values.platform), backendOption(values.backend));
  const log = values.quiet ? undefined : (line: string) => process.stderr.write(`udalloc serve: ${line}\n`);
  log?.(allocator.backendReason);
  let service: AllocatorService;
  try {
    // A bus daemon started at the same moment (README's private-bus recipe) is waited for, briefly.
    service = await AllocatorService.start({ bus: values.bus, allocator, policy, name: values.name, log, waitForBusMs: 3000 });
  } catch (err) {
    allocator.close();
    // No bus at the address, or the name taken: the user's setting to fix, one line.
    throw new InputError(`--bus ${values.bus ?? 'system'}: ${err instanceof Error ? err.message : String(err)}`, 'bus', values.bus ?? 'system');
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    service.bus.once('end', stop);
    whenStarterGone(stop);
  });
  log?.('stopping');
  await service.stop();
  allocator.close();
  return 0;
}
