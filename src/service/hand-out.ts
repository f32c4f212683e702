// How the service hands a buffer to a client, chosen once when it starts: the dma-buf itself on a
// real kernel; on the simulated kernel, which has no kernel object to pass, a sealed memfd of the
// planned size in its place (stand-in.ts), while the service keeps the simulated buffer (its heap
// space) until the stand-in is gone.

import { closeSync } from 'node:fs';
import type { DmaBuffer } from '../allocator/buffer.js';
import { standInFor } from './stand-in.js';

export interface HandOut {
  /** How the reply names the fds it carries. */
  readonly wire: 'memfd' | 'dma-buf';
  /** The fd to send for a buffer, named with its charge tag (charge-tag.ts). */
  fdFor(buffer: DmaBuffer, tag: string): number;
  /** What ending the buffer's grant frees on the service's side. */
  releaseOf(buffer: DmaBuffer): () => void;
  /** The service's own copy of what it sent goes (the reply was written, or failed). */
  drop(buffer: DmaBuffer, fd: number): void;
}

const DMA_BUF: HandOut = {
  wire: 'dma-buf',
  fdFor: (buffer, tag) => {
    buffer.setName(tag);
    return buffer.fd;
  },
  // The client's fd keeps the dma-buf; the service holds nothing once it dropped its copy.
  releaseOf: () => () => {},
  drop: (buffer) => buffer.close(),
};

const STAND_IN: HandOut = {
  wire: 'memfd',
  fdFor: (buffer, tag) => standInFor(buffer.heap.describe().name, buffer.size, tag),
  releaseOf: (buffer) => () => buffer.close(),
  drop: (_buffer, fd) => closeSync(fd),
};

/** The hand-out for a kernel backend ('sim': stand-ins; any real one: the dma-buf). */
export function handOutFor(backendKind: string): HandOut {
  return backendKind === 'sim' ? STAND_IN : DMA_BUF;
}
