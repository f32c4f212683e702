// The charge a buffer carries in its own name, so that a service that restarts (crashed, killed,
// upgraded) finds every buffer still held and charges it again to the user it was granted to. A
// dma-buf's name (DMA_BUF_SET_NAME) shows in /proc/<pid>/fd as "/dmabuf:<name>"
// (drivers/dma-buf/dma-buf.c dmabuffs_dname()) and in /proc/<pid>/maps; a stand-in memfd's name
// shows as "/memfd:<name> (deleted)". Only the kernel's and the service's words are read: the
// name is set by the service before the fd leaves it, and a dma-buf's name can be changed by any
// holder, so a tag only ever re-charges the uid it names for bytes that uid's buffers hold.

import { HEAP_KINDS } from '../constraints/heap-kinds/index.js';
import type { HeapKind } from '../constraints/model.js';

/** DMA_BUF_NAME_LEN (include/uapi/linux/dma-buf.h), with the terminating NUL. */
const NAME_LEN = 32;

/** "ud:<uid>:<kind>" and, room permitting, ":<the caller's own name for it>". */
export function chargeTag(uid: number, kind: HeapKind, name?: string): string {
  const tag = `ud:${uid}:${kind}`;
  if (name === undefined) return tag;
  const room = NAME_LEN - 1 - Buffer.byteLength(tag) - 1;
  return room > 0 ? `${tag}:${Buffer.from(name).subarray(0, room).toString('utf8').replace(/\uFFFD+$/, '')}` : tag;
}

/** The uid and heap kind a buffer's name or fd link carries, if it carries one. */
export function parseChargeTag(text: string): { uid: number; kind: HeapKind } | undefined {
  const m = /(?:^|[\s:/])ud:(\d{1,10}):([a-z][a-z-]*)(?=:|\s|$)/.exec(text);
  if (!m) return undefined;
  const uid = Number(m[1]);
  const kind = m[2] as HeapKind;
  return Number.isSafeInteger(uid) && Object.hasOwn(HEAP_KINDS, kind) ? { uid, kind } : undefined;
}
