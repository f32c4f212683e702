// udalloc library entry point.
export * from './constraints/index.js';
export * from './solver/index.js';
export { InputError } from './errors.js';
