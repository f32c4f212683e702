export { SimKernel, type SimOptions } from './kernel.js';
export { FaultInjector, type FaultRule, type FaultPoint } from './faults.js';
export { seededRandom } from '../../util/random.js';
export { CmaArea, CmaPool, DEFAULT_CMA_ALIGNMENT } from './cma.js';
export { GenPool } from './genpool.js';
export { SystemPool, SystemContigPool, systemHeapChunks, SYSTEM_HEAP_ORDERS } from './system.js';
export { BuddyAllocator, MAX_PAGE_ORDER } from './buddy.js';
export { Bitmap } from './bitmap.js';
export { PLACEMENT_POLICIES, type PlacementPolicy } from './pool.js';
