// Builds small flattened device trees for tests, to the Devicetree Specification's layout.

export type Prop = string | number[] | Uint8Array | true;
export interface NodeSpec {
  readonly props?: Record<string, Prop>;
  readonly children?: Record<string, NodeSpec>;
}

function propBytes(value: Prop): Uint8Array {
  if (value === true) return new Uint8Array(0);
  if (typeof value === 'string') return new TextEncoder().encode(`${value}\0`);
  if (value instanceof Uint8Array) return value;
  const out = new Uint8Array(value.length * 4);
  const view = new DataView(out.buffer);
  value.forEach((v, i) => view.setUint32(i * 4, v));
  return out;
}

/** A string list property ("a\0b\0"). */
export const strings = (...xs: string[]): Uint8Array => new TextEncoder().encode(xs.map((x) => `${x}\0`).join(''));

export function buildDtb(root: NodeSpec, reservations: Array<[bigint, bigint]> = []): Uint8Array {
  const struct: number[] = [];
  const strs: string[] = [];
  const strOff = (name: string) => {
    let off = 0;
    for (const s of strs) {
      if (s === name) return off;
      off += s.length + 1;
    }
    strs.push(name);
    return off;
  };
  const pushBytes = (bytes: Uint8Array) => {
    const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
    padded.set(bytes);
    const view = new DataView(padded.buffer);
    for (let i = 0; i < padded.length; i += 4) struct.push(view.getUint32(i));
  };
  const emit = (name: string, node: NodeSpec) => {
    struct.push(1);
    pushBytes(new TextEncoder().encode(`${name}\0`));
    for (const [k, v] of Object.entries(node.props ?? {})) {
      const bytes = propBytes(v);
      struct.push(3, bytes.length, strOff(k));
      pushBytes(bytes);
    }
    for (const [k, v] of Object.entries(node.children ?? {})) emit(k, v);
    struct.push(2);
  };
  emit('', root);
  struct.push(9);
  const strings = new TextEncoder().encode(strs.map((s) => `${s}\0`).join(''));
  const header = 40;
  const rsvOff = 40; // 8-aligned
  const rsvSize = (reservations.length + 1) * 16;
  const structOff = rsvOff + rsvSize;
  const structSize = struct.length * 4;
  const stringsOff = structOff + structSize;
  const total = stringsOff + strings.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  [0xd00dfeed, total, structOff, stringsOff, rsvOff, 17, 16, 0, strings.length, structSize].forEach((v, i) => view.setUint32(i * 4, v));
  reservations.forEach(([a, s], i) => {
    view.setBigUint64(rsvOff + i * 16, a);
    view.setBigUint64(rsvOff + i * 16 + 8, s);
  });
  struct.forEach((v, i) => view.setUint32(structOff + i * 4, v));
  out.set(strings, stringsOff);
  void header;
  return out;
}
