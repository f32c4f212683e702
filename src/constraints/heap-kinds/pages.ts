// Shared by the kinds whose buffers are page-granular and unaligned beyond a page (the system
// heap, carveouts, secure pools): N buffers take N x their size.

import { PAGE_SIZE } from '../model.js';

export const byPages = {
  stride: (_heap: unknown, bytes: number) => ({ first: 0, step: bytes }),
  // Nothing is aligned beyond a page: buffers of any sizes lie end to end.
  extent: (_heap: unknown, sizes: readonly number[]) => sizes.reduce((sum, s) => sum + s, 0),
  bootSize: (bytes: number) => Math.ceil(bytes / PAGE_SIZE) * PAGE_SIZE,
  maxAlign: () => PAGE_SIZE,
  maxBuffer: (size: number) => size,
  refusal: () => undefined,
};
