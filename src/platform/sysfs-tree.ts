// The unflattened device tree Linux publishes at /sys/firmware/devicetree/base
// (drivers/of/kobj.c): one directory per node, named with its unit address, one file per property
// holding the property's raw bytes. Read into the same DeviceTree model as a .dtb.

import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { DeviceTree, DtNode } from './tree.js';
import { MAX_DEPTH, type Reservation } from './fdt.js';

/** Properties are small; anything larger is not a device tree property file. */
const MAX_PROPERTY_BYTES = 1 << 20;
const MAX_NODES = 200_000;

export function readDeviceTreeDir(dir: string): DeviceTree {
  let nodes = 0;
  const load = (path: string, node: DtNode, depth: number): void => {
    if (depth > MAX_DEPTH) throw new InputError(`${path}: nodes nested deeper than ${MAX_DEPTH}`, 'sysfs', path);
    let entries: string[];
    try {
      entries = readdirSync(path).sort();
    } catch (err) {
      throw new InputError(`${path}: cannot read the device tree directory: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'sysfs', path);
    }
    for (const entry of entries) {
      const full = join(path, entry);
      const st = lstatSync(full);
      if (st.isSymbolicLink()) continue; // never follow links out of the tree
      if (st.isDirectory()) {
        if (++nodes > MAX_NODES) throw new InputError(`${dir}: more than ${MAX_NODES} nodes`, 'sysfs', dir);
        const child = new DtNode(entry, node);
        node.children.push(child);
        load(full, child, depth + 1);
      } else if (st.isFile()) {
        if (st.size > MAX_PROPERTY_BYTES) throw new InputError(`${full}: ${st.size} bytes is too large for a property`, 'sysfs', full);
        node.props.set(entry, new Uint8Array(readFileSync(full)));
      }
    }
  };
  const root = new DtNode('', undefined);
  load(dir, root, 0);
  // The memory reservation block is not published in sysfs; /reserved-memory carries what matters.
  const reservations: Reservation[] = [];
  return new DeviceTree(root, reservations, dir);
}
