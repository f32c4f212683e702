export { parseDtb, readDtbFile, type Reservation } from './fdt.js';
export { readDeviceTreeDir } from './sysfs-tree.js';
export { DeviceTree, DtNode } from './tree.js';
export { deriveFromTree, classify, parseCmaArg, memparse, type DiscoveredPlatform, type DiscoveredHeap, type DiscoveredDevice, type DeviceKind } from './derive.js';
export { meminfo } from '../kernel/meminfo.js';
export { discoverLive, dmaBufFdinfo, type LiveDiscovery, type FdinfoBuffer } from './live.js';
export { profileYaml } from './profile-writer.js';
export { selectPlatform, shippedBoards, platformFromDiscovery, type SelectOptions } from './select.js';
