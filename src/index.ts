// udalloc library entry point.
export * from './constraints/index.js';
export * from './solver/index.js';
export * from './kernel/index.js';
export * from './allocator/index.js';
export * from './sim/index.js';
export * from './platform/index.js';
export { InputError } from './errors.js';
export * from './service/index.js';
