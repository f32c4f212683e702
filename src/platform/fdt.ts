// A flattened device tree (.dtb) reader written to the Devicetree Specification (v0.4, chapter 5):
// header, memory reservation block, structure block, strings block. Everything is bounds-checked
// against the blob: a truncated or hostile blob is an InputError naming the offset and the problem,
// never an exception from a typed-array read, a hang (every token advances), or a huge allocation
// (nothing is allocated beyond the blob's own size, nesting is limited).

import { InputError } from '../errors.js';
import { LIMITS, readInputWithHeader } from '../util/input-file.js';
import { DeviceTree, DtNode } from './tree.js';

export const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;
const HEADER_SIZE = 40;
/** Deeper than any real tree (Linux's own limit, FDT_MAX_DEPTH, is 64). */
export const MAX_DEPTH = 64;

export interface Reservation {
  readonly address: bigint;
  readonly size: bigint;
}

class Reader {
  readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly origin: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(offset: number, message: string): never {
    throw new InputError(`${this.origin}: offset ${offset}: ${message}`, 'dtb', offset, this.origin);
  }

  u32(offset: number, limit: number, what: string): number {
    if (offset < 0 || offset + 4 > limit) this.fail(offset, `${what} runs past the end of its block`);
    return this.view.getUint32(offset);
  }

  u64(offset: number, limit: number, what: string): bigint {
    if (offset < 0 || offset + 8 > limit) this.fail(offset, `${what} runs past the end of its block`);
    return this.view.getBigUint64(offset);
  }

  /** A NUL-terminated string starting at `offset`, which must end before `limit`. */
  cstring(offset: number, limit: number, what: string): { text: string; end: number } {
    if (offset < 0 || offset >= limit) this.fail(offset, `${what} starts outside its block`);
    const nul = this.bytes.subarray(0, limit).indexOf(0, offset);
    if (nul < 0) this.fail(offset, `${what} is not NUL-terminated within its block`);
    return { text: new TextDecoder('utf-8', { fatal: false }).decode(this.bytes.subarray(offset, nul)), end: nul + 1 };
  }
}

const align4 = (n: number) => (n + 3) & ~3;

/**
 * Reads a .dtb file: its 40-byte header first (magic, totalsize), then only the bytes the header
 * says the blob has, never more than LIMITS.dtb; anything that is not a device tree is refused
 * before the rest is read.
 */
export function readDtbFile(file: string): DeviceTree {
  const blob = readInputWithHeader(file, { what: 'device tree blob', field: 'dtb', maxBytes: LIMITS.dtb }, HEADER_SIZE, (header) => {
    const r = new Reader(header, file);
    if (header.byteLength < HEADER_SIZE) r.fail(0, `${header.byteLength} bytes is too short for a device tree header (${HEADER_SIZE})`);
    const magic = r.view.getUint32(0);
    if (magic !== FDT_MAGIC) r.fail(0, `magic 0x${magic.toString(16)} is not 0xd00dfeed: not a flattened device tree`);
    return r.view.getUint32(4);
  });
  return parseDtb(blob, file);
}

/** Parses a .dtb blob. `origin` names it in errors and in the sources of derived values. */
export function parseDtb(blob: Uint8Array, origin = 'dtb'): DeviceTree {
  const r: Reader = new Reader(blob, origin);
  if (blob.byteLength < HEADER_SIZE) r.fail(0, `${blob.byteLength} bytes is too short for a device tree header (${HEADER_SIZE})`);
  const header = (i: number) => r.view.getUint32(i * 4);
  const magic = header(0);
  if (magic !== FDT_MAGIC) r.fail(0, `magic 0x${magic.toString(16)} is not 0xd00dfeed: not a flattened device tree`);
  const totalSize = header(1);
  const offStruct = header(2);
  const offStrings = header(3);
  const offRsvmap = header(4);
  const version = header(5);
  const lastCompVersion = header(6);
  const sizeStrings = header(8);
  const sizeStruct = header(9);
  if (totalSize > blob.byteLength) r.fail(4, `totalsize ${totalSize} is larger than the blob (${blob.byteLength} bytes): truncated`);
  if (totalSize < HEADER_SIZE) r.fail(4, `totalsize ${totalSize} is smaller than the header`);
  if (version < 16 || lastCompVersion > 17) r.fail(20, `version ${version} (compatible with ${lastCompVersion}) is not supported; versions 16 and 17 are`);
  const structEnd = version >= 17 ? offStruct + sizeStruct : totalSize;
  const stringsEnd = offStrings + sizeStrings;
  if (offStruct < HEADER_SIZE || offStruct % 4 !== 0 || structEnd > totalSize || structEnd < offStruct) r.fail(8, `structure block [${offStruct}, ${structEnd}) is not inside the blob`);
  if (offStrings > totalSize || stringsEnd > totalSize) r.fail(12, `strings block [${offStrings}, ${stringsEnd}) is not inside the blob`);
  if (offRsvmap < HEADER_SIZE || offRsvmap % 8 !== 0 || offRsvmap >= totalSize) r.fail(16, `memory reservation block at ${offRsvmap} is not inside the blob`);

  const reservations: Reservation[] = [];
  for (let off = offRsvmap; ; off += 16) {
    const address = r.u64(off, totalSize, 'memory reservation entry');
    const size = r.u64(off + 8, totalSize, 'memory reservation entry');
    if (address === 0n && size === 0n) break;
    reservations.push({ address, size });
  }

  const stack: DtNode[] = [];
  let root: DtNode | undefined;
  let off = offStruct;
  for (;;) {
    const token = r.u32(off, structEnd, 'structure token');
    const at = off;
    off += 4;
    if (token === FDT_BEGIN_NODE) {
      const { text: name, end } = r.cstring(off, structEnd, 'node name');
      off = align4(end);
      if (stack.length === 0 && root !== undefined) r.fail(at, 'a second root node');
      if (stack.length >= MAX_DEPTH) r.fail(at, `nodes nested deeper than ${MAX_DEPTH}`);
      const parent = stack[stack.length - 1];
      const node = new DtNode(parent ? name : '', parent);
      if (parent) parent.children.push(node);
      else root = node;
      stack.push(node);
    } else if (token === FDT_END_NODE) {
      if (stack.length === 0) r.fail(at, 'FDT_END_NODE without an open node');
      stack.pop();
    } else if (token === FDT_PROP) {
      const len = r.u32(off, structEnd, 'property length');
      const nameOff = r.u32(off + 4, structEnd, 'property name offset');
      off += 8;
      if (off + len > structEnd) r.fail(at, `property of ${len} bytes runs past the structure block`);
      const node = stack[stack.length - 1];
      if (!node) r.fail(at, 'a property outside any node');
      const { text: name } = r.cstring(offStrings + nameOff, stringsEnd, 'property name');
      node.props.set(name, blob.slice(off, off + len));
      off = align4(off + len);
    } else if (token === FDT_NOP) {
      continue;
    } else if (token === FDT_END) {
      if (stack.length !== 0) r.fail(at, `FDT_END with ${stack.length} node(s) still open: truncated`);
      break;
    } else {
      r.fail(at, `unknown structure token 0x${token.toString(16)}`);
    }
  }
  if (!root) r.fail(offStruct, 'no root node');
  return new DeviceTree(root, reservations, origin);
}
