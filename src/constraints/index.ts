// Constraint model: formats, modifiers, profiles, requests.
export { FORMATS, findFormat, formatNames, type FormatInfo } from './formats.js';
export { MODIFIERS, findModifier, modifierNames, shortModifierName, modifierHex, type ModifierInfo } from './modifiers.js';
export { loadPlatform, parsePlatform, loadRequest, parseRequest, makeRequest, type RequestFields } from './load.js';
export { deviceEntries, checkRequestMagnitude } from './request.js';
export { parseByteCount, formatBytes } from './units.js';
export type { Platform, Device, Heap, HeapKind, Request, FormatRule, CpuAccess, DeviceAccess, ProtectedNeed } from './model.js';
