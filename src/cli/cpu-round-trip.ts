// alloc's check of CPU access: the buffer written through one mapping and read back through another,
// with DMA_BUF_IOCTL_SYNC around each, for local buffers and ones from the service alike.

import type { DmaBuffer } from '../allocator/buffer.js';

/** Writes a pattern through a CPU view and reads it back through another, with sync around each. */
export function cpuRoundTrip(b: DmaBuffer, access: string): string {
  if (access === 'read') {
    using view = b.map('read');
    return view.bytes.every((x) => x === 0) ? 'read: zero-filled' : 'read: NOT zero-filled';
  }
  {
    using view = b.map('write');
    const bytes = view.bytes;
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i / 4096) & 0xff;
  }
  // A write-only buffer is only written: reading it back is a use the request did not ask for.
  if (access === 'write') return 'write: ok';
  using view = b.map('read');
  const bytes = view.bytes;
  for (let i = 0; i < bytes.length; i += 4096) if (bytes[i] !== ((i / 4096) & 0xff)) return `write+read back: MISMATCH at byte ${i}`;
  return 'write+read back: ok';
}
