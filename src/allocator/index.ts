export { open, openSync, Allocator, type OpenOptions, type AllocateOptions, type AllocatedBuffers, type AllocatorStats, type HeapUsage, type LiveBuffer, type PlanOptions } from './allocator.js';
export { DmaBuffer, CpuView, type PlaneView, type BufferLayout } from './buffer.js';
export { Plan, type PlanChoice } from './plan.js';
export { HeapHandle, type HeapDescription } from './heap-handle.js';
export { ConflictError, AllocationError, ClosedError, type FailedAttempt } from './errors.js';
export { selectBackend, DMA_HEAP_DIR, type BackendChoice, type SelectedBackend } from './backend-select.js';
