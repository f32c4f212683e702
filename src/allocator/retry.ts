// Restarting interrupted calls, as C code loops on EINTR. Bounded so that a signal storm (or a
// fault schedule that always interrupts) surfaces as an error instead of a hang.

import { isKernelError } from '../kernel/errno.js';

export const MAX_EINTR_RETRIES = 64;

export function retryOnEintr<T>(call: () => T): T {
  for (let attempt = 0; ; attempt++) {
    try {
      return call();
    } catch (err) {
      if (!isKernelError(err, 'EINTR') || attempt >= MAX_EINTR_RETRIES) throw err;
    }
  }
}
