// udalloc's public API: what an application, a board bring-up script or a service client needs.
// Each name is chosen; internals (the solver's tables, the kernel's allocators, the service's
// plumbing) are not reachable from here. The simulated kernel, replays and pool sizing are at
// 'udalloc/sim' (src/sim-api.ts).

// Open a platform on a kernel, negotiate, allocate, map.
export { open, openSync, Allocator, type OpenOptions, type AllocateOptions, type AllocatedBuffers, type AllocatorStats, type HeapUsage, type LiveBuffer, type PlanOptions } from './allocator/allocator.js';
export { DmaBuffer, CpuView, type PlaneView, type BufferLayout } from './allocator/buffer.js';
export { Plan, type PlanChoice } from './allocator/plan.js';
export { HeapHandle, type HeapDescription } from './allocator/heap-handle.js';
export type { BackendChoice } from './allocator/backend-select.js';

// Errors.
export { InputError } from './errors.js';
export { ConflictError, AllocationError, ClosedError, type FailedAttempt } from './allocator/errors.js';
export { KernelError, type Errno } from './kernel/errno.js';
export { ServiceError } from './service/client.js';

// Platforms and requests.
export { loadPlatform, parsePlatform, parseRequest, makeRequest, type RequestFields } from './constraints/load.js';
export { selectPlatform, shippedBoards } from './platform/select.js';
export { FORMATS, findFormat, type FormatInfo } from './constraints/formats.js';
export { MODIFIERS, findModifier, shortModifierName, type ModifierInfo } from './constraints/modifiers.js';
export type { Platform, Device, Heap, HeapKind, Request, FormatRule, CpuAccess, DeviceAccess, ProtectedNeed } from './constraints/model.js';

// The solver without a kernel, and its answers as JSON.
export { negotiate, type Negotiation, type Conflict, type Fix, type NegotiateOptions } from './solver/negotiate.js';
export { prepare, PreparedPlatform } from './solver/prepared.js';
export type { Change, CopyRequest } from './solver/apply.js';
export type { Atom } from './solver/atoms.js';
export type { Placement } from './solver/solve.js';
export type { PlaneLayout } from './solver/layout.js';
export { explainChoices, type ChoiceExplanation, type FormatVerdict, type ModifierVerdict, type HeapVerdict, type Verdict } from './solver/explain-choices.js';
export { planJson, layoutJson, atomJson, fixJson, conflictJson, negotiationJson, type LayoutJson, type Asked } from './solver/json.js';

// Whole pipelines: every buffer ring of a graph of devices, planned and placed together.
export { parsePipeline, loadPipeline, type PipelineSpec, type EdgeSpec } from './pipeline/description.js';
export { planPipeline, type PipelinePlan, type PipelineResult, type PipelineConflict, type PipelineFix, type PlacedRing, type Ring, type ConversionStep } from './pipeline/planner.js';
export { allocatePipeline, ringPlan, type AllocatedRing } from './pipeline/allocate.js';

// Discovery.
export { parseDtb, readDtbFile } from './platform/fdt.js';
export { readDeviceTreeDir } from './platform/sysfs-tree.js';
export { deriveFromTree, type DiscoveredPlatform, type DiscoveredHeap, type DiscoveredDevice, type DeviceKind } from './platform/derive.js';
export { discoverLive, type LiveDiscovery } from './platform/live.js';
export { profileYaml } from './platform/profile-writer.js';

// Real kernel backends (open({ backend }) picks one by name too).
export type { KernelBackend } from './kernel/backend.js';
export { DmaHeapBackend } from './kernel/dma-heap/backend.js';
export { UdmabufBackend } from './kernel/udmabuf/backend.js';
export { IonBackend } from './kernel/ion/backend.js';

// The allocation service's client, and who holds which dma-buf.
export { connect, ServiceAllocator, ServicePlan, type ConnectOptions, type ServiceBuffers } from './service/client.js';
export { scanUsage, type Usage, type BufferUsage, type ProcessUsage } from './service/usage.js';
