// Runs inside the QEMU guest for the sizing check (test/kernel/qemu.test.ts): replays a trace
// through the real dma-buf heaps, each request in its preferred heap with no fallback (as `udalloc
// size` plans), and prints the failures as one JSON line for the host to compare with the simulator.
// usage: node dist/test-kernel/replay-trace.js PLATFORM TRACE

import { loadPlatform } from '../src/constraints/load.js';
import { DmaHeapBackend } from '../src/kernel/dma-heap/backend.js';
import { replay } from '../src/sim/replay.js';
import { loadTrace } from '../src/sim/trace.js';

const [platformFile, traceFile] = process.argv.slice(2);
const platform = loadPlatform(platformFile!);
const trace = loadTrace(traceFile!, platform);
const backend = new DmaHeapBackend();
const report = replay(platform, trace, { backend, planUnbounded: true, fallback: false, samples: 1 });
const area = platform.heaps.find((h) => h.kind === 'cma')!.name;
process.stdout.write(`UDALLOC-REPLAY ${JSON.stringify({ events: report.events, failures: report.failures.map((f) => ({ line: f.line, heap: f.heap, reason: f.reason })), cma: report.heaps.find((h) => h.name === area) })}\n`);
