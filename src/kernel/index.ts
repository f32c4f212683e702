export * from './backend.js';
export { KernelError, isKernelError, ERRNO, type Errno } from './errno.js';
export * from './sim/index.js';
export { DmaHeapBackend } from './dma-heap/backend.js';
export { DEFAULT_CMA_NAMES } from '../constraints/heap-kinds/index.js';
export { UdmabufBackend, UDMABUF_HEAP } from './udmabuf/backend.js';
export { IonBackend, ION_HEAP_TYPE } from './ion/backend.js';
export { loadNative, type NativeAddon } from './native/addon.js';
