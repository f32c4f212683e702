// The service: `udalloc serve` (server), connect() (its Node client), the usage scan and the policy.
export { connect, ServiceAllocator, ServicePlan, ServiceError, type ConnectOptions, type ServiceBuffers } from './client.js';
export { AllocatorService, MAX_BUFFERS_PER_CALL, type ServeOptions } from './server.js';
export { BUS_NAME, OBJECT_PATH, INTERFACE, ERRORS, INTROSPECTION_XML, DETAILS_PREFIX } from './interface.js';
export { parsePolicy, loadPolicy, type Policy } from './policy.js';
export { scanUsage, type Usage, type BufferUsage, type ProcessUsage } from './usage.js';
