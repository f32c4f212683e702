// Kernel errors as userspace sees them: an errno name, the operation, and the heap or fd involved.
// Numbers are Linux's (include/uapi/asm-generic/errno-base.h), kept for messages and native backends.

export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EBADF: 9,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  ENODEV: 19,
  EINVAL: 22,
  EMFILE: 24,
  ENOTTY: 25,
  EOPNOTSUPP: 95,
} as const;

export type Errno = keyof typeof ERRNO;

const DESCRIPTION: Record<Errno, string> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such heap',
  EINTR: 'interrupted system call',
  EBADF: 'bad file descriptor',
  ENOMEM: 'out of memory',
  EFAULT: 'bad address',
  EBUSY: 'device or resource busy',
  ENODEV: 'no such device',
  EINVAL: 'invalid argument',
  EMFILE: 'too many open files',
  ENOTTY: 'inappropriate ioctl for device',
  EOPNOTSUPP: 'operation not supported',
};

export interface KernelErrorContext {
  /** Heap name as the kernel knows it (diagnostics only; never shown to applications as a choice). */
  readonly heap?: string;
  readonly fd?: number;
  /** Extra explanation, e.g. which check of the kernel code refused the call. */
  readonly detail?: string;
}

/** A failed kernel call: `errno` is the name a C program would see (ENOMEM, EINVAL, ...). */
export class KernelError extends Error {
  readonly errno: Errno;
  readonly op: string;
  readonly heap: string | undefined;
  readonly fd: number | undefined;

  constructor(op: string, errno: Errno, context: KernelErrorContext = {}) {
    const where = [context.heap !== undefined ? `heap ${context.heap}` : undefined, context.fd !== undefined ? `fd ${context.fd}` : undefined].filter(Boolean).join(', ');
    super(`${op}${where ? ` (${where})` : ''}: ${errno} (${DESCRIPTION[errno]})${context.detail ? `: ${context.detail}` : ''}`);
    this.name = 'KernelError';
    this.errno = errno;
    this.op = op;
    this.heap = context.heap;
    this.fd = context.fd;
  }
}

export function isKernelError(err: unknown, ...errnos: Errno[]): err is KernelError {
  return err instanceof KernelError && (errnos.length === 0 || errnos.includes(err.errno));
}
