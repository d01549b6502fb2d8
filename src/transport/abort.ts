import { ReelError } from './errors.js';

/** Throws `aborted` when the signal has fired. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted)
    throw new ReelError('aborted', 'The operation was cancelled.', { cause: signal.reason });
}
