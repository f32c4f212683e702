export * from './backend.js';
export { KernelError, isKernelError, ERRNO, type Errno } from './errno.js';
export * from './sim/index.js';
