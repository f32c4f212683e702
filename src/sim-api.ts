// 'udalloc/sim': the simulated kernel (Linux's heap algorithms: CMA first fit with order
// alignment, gen_pool carveouts, the buddy allocator), workload traces, replays and pool sizing.

export { SimKernel, type SimOptions } from './kernel/sim/kernel.js';
export type { FaultRule } from './kernel/sim/faults.js';
export { parseTrace, loadTrace, traceFromEvents, formatTrace, type Trace, type TraceEvent, type RawEvent, type AllocEvent, type FreeEvent } from './sim/trace.js';
export { replay, type ReplayOptions, type ReplayReport, type HeapReport, type HeapSample, type Failure } from './sim/replay.js';
export { sizePools, type SizingResult, type PoolSize, type SizingOptions } from './sim/sizing.js';
export { SCENARIOS, generateScenario, findScenario, type Scenario } from './sim/scenarios.js';
export { TraceRecorder, type RecorderOptions } from './sim/record.js';
export { reportHtml } from './sim/report-html.js';
export { allocatesOnEmptyHeaps } from './kernel/sim/fix-check.js';
