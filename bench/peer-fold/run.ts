// Runs the comparison with the C fold on its own (`node dist/bench/peer-fold/run.js`); bench/run.ts
// starts it in a process of its own, so that the garbage and type feedback the other benchmarks
// leave behind in the V8 heap do not bill sub-microsecond negotiations (they made the 2-device case
// ~15% slower inside the shared process than alone).

import { peerFoldBench } from './bench.js';

peerFoldBench();
