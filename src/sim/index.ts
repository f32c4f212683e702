export { parseTrace, loadTrace, traceFromEvents, formatTrace, type Trace, type TraceEvent, type RawEvent, type AllocEvent, type FreeEvent } from './trace.js';
export { replay, type ReplayOptions, type ReplayReport, type HeapReport, type HeapSample, type Failure } from './replay.js';
export { sizePools, type SizingResult, type PoolSize, type SizingOptions } from './sizing.js';
export { SCENARIOS, generateScenario, findScenario, dpbFrames, type Scenario } from './scenarios.js';
export { TraceRecorder, type RecorderOptions } from './record.js';
export { reportHtml } from './report-html.js';
