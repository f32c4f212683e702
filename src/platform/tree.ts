// The device tree as udalloc reads it, whichever way it came (a .dtb, or the unflattened tree
// Linux publishes under /sys/firmware/devicetree/base): nodes with raw property bytes, plus the
// typed readers the derivation needs (strings, cells with #address-cells/#size-cells, phandles).

import { InputError } from '../errors.js';

export class DtNode {
  readonly props = new Map<string, Uint8Array>();
  readonly children: DtNode[] = [];

  constructor(
    /** Full name with unit address, e.g. "display@fe400000"; "" for the root. */
    readonly name: string,
    readonly parent: DtNode | undefined,
  ) {}

  get path(): string {
    if (!this.parent) return '/';
    const up = this.parent.path;
    return `${up === '/' ? '' : up}/${this.name}`;
  }

  /** The name without the unit address ("display" for "display@fe400000"). */
  get baseName(): string {
    const at = this.name.indexOf('@');
    return at < 0 ? this.name : this.name.slice(0, at);
  }

  has(prop: string): boolean {
    return this.props.has(prop);
  }

  /** A string-list property (NUL-separated), or [] when absent. */
  strings(prop: string): string[] {
    const v = this.props.get(prop);
    if (!v || v.length === 0) return [];
    const text = new TextDecoder().decode(v[v.length - 1] === 0 ? v.subarray(0, v.length - 1) : v);
    return text.split('\0');
  }

  string(prop: string): string | undefined {
    return this.strings(prop)[0];
  }

  /** Big-endian 32-bit cells, or undefined when absent; a length not a multiple of 4 is an error. */
  cells(prop: string, tree: DeviceTree): number[] | undefined {
    const v = this.props.get(prop);
    if (v === undefined) return undefined;
    if (v.length % 4 !== 0) throw new InputError(`${tree.origin}: ${this.path} ${prop}: ${v.length} bytes is not a whole number of 32-bit cells`, prop, v.length, `${tree.origin} ${this.path}`);
    const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
    return Array.from({ length: v.length / 4 }, (_, i) => view.getUint32(i * 4));
  }

  u32(prop: string, tree: DeviceTree): number | undefined {
    return this.cells(prop, tree)?.[0];
  }

  /** Enabled unless status says otherwise ("okay"/"ok" or absent). */
  get enabled(): boolean {
    const s = this.string('status');
    return s === undefined || s === 'okay' || s === 'ok';
  }

  child(name: string): DtNode | undefined {
    return this.children.find((c) => c.name === name) ?? this.children.find((c) => c.baseName === name);
  }

  *walk(): Generator<DtNode> {
    yield this;
    for (const c of this.children) yield* c.walk();
  }
}

/** Combines `n` cells (most significant first) into one number; above 2^53 is an error. */
export function cellsToNumber(cells: readonly number[], tree: DeviceTree, where: string): number {
  let value = 0n;
  for (const c of cells) value = (value << 32n) | BigInt(c);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new InputError(`${tree.origin}: ${where}: value 0x${value.toString(16)} is above 2^53`, where, `0x${value.toString(16)}`, tree.origin);
  return Number(value);
}

export class DeviceTree {
  readonly #phandles = new Map<number, DtNode>();

  constructor(
    readonly root: DtNode,
    readonly reservations: ReadonlyArray<{ readonly address: bigint; readonly size: bigint }>,
    /** The file or directory it came from. */
    readonly origin: string,
  ) {
    for (const node of root.walk()) {
      const ph = node.props.get('phandle') ?? node.props.get('linux,phandle');
      if (ph && ph.length === 4) this.#phandles.set(new DataView(ph.buffer, ph.byteOffset, 4).getUint32(0), node);
    }
  }

  byPhandle(phandle: number): DtNode | undefined {
    return this.#phandles.get(phandle);
  }

  find(path: string): DtNode | undefined {
    let node: DtNode | undefined = this.root;
    for (const part of path.split('/').filter(Boolean)) node = node?.child(part);
    return node;
  }

  /** #address-cells and #size-cells that apply to `node`'s reg (its parent's; defaults 2 and 1). */
  cellSizes(node: DtNode): { address: number; size: number } {
    const parent = node.parent ?? node;
    const address = parent.u32('#address-cells', this) ?? 2;
    const size = parent.u32('#size-cells', this) ?? 1;
    if (address > 4 || size > 4) throw new InputError(`${this.origin}: ${parent.path}: #address-cells ${address} / #size-cells ${size} is more than 4 cells`, '#address-cells', address, this.origin);
    return { address, size };
  }

  /** reg (or another (address, size) list property) as numbers. */
  ranges(node: DtNode, prop = 'reg'): Array<{ address: number; size: number }> {
    const cells = node.cells(prop, this);
    if (!cells) return [];
    const { address, size } = this.cellSizes(node);
    const stride = address + size;
    if (stride === 0 || cells.length % stride !== 0) throw new InputError(`${this.origin}: ${node.path} ${prop}: ${cells.length} cells is not a multiple of ${stride} (#address-cells ${address} + #size-cells ${size})`, prop, cells.length, this.origin);
    const out: Array<{ address: number; size: number }> = [];
    for (let i = 0; i < cells.length; i += stride) {
      out.push({ address: cellsToNumber(cells.slice(i, i + address), this, `${node.path} ${prop}`), size: cellsToNumber(cells.slice(i + address, i + stride), this, `${node.path} ${prop}`) });
    }
    return out;
  }
}
