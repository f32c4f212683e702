// npm run bench:kernel: boots the test kernel and runs test-kernel/bench.ts and bench-discovery.ts in the guest.

import { fileURLToPath } from 'node:url';
import { bootGuest, buildInitramfs } from '../test/kernel/qemu-harness.js';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));
const run = await bootGuest(buildInitramfs(PROJECT, 'node dist/test-kernel/bench.js && node dist/test-kernel/bench-discovery.js'));
const out = run.output.slice(Math.max(0, run.output.indexOf('UDALLOC-GUEST-START')));
process.stdout.write(`${out}\n`);
process.exitCode = run.exitCode === 0 ? 0 : 1;
