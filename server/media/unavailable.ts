// The bucket not answering (503 SlowDown, 500, a time-out, a refused or reset connection):
// a passing state, not a bug. S3ObjectStore turns such failures into StorageUnavailableError,
// so the API answers 503 with Retry-After and the worker waits and tries again instead of
// failing the video. Anything else (403, 404, a bad request) stays as it was.

/** Seconds a client is asked to wait before trying again while the bucket is unavailable. */
export const STORAGE_RETRY_AFTER_S = 2;

export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
  constructor(operation: string, cause: unknown) {
    super(`The media bucket is unavailable (${operation}): ${describe(cause)}`, { cause });
  }
}

export function isStorageUnavailable(error: unknown): error is StorageUnavailableError {
  return error instanceof StorageUnavailableError;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
]);
const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'Throttling',
  'ThrottlingException',
]);

/** Whether an error from the S3 client means the bucket is unavailable for now. */
export function isTransientStorageError(error: unknown): boolean {
  const e = error as {
    name?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  if (!e || typeof e !== 'object') return false;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (e.code && NETWORK_CODES.has(e.code)) return true;
  if (e.name && TRANSIENT_NAMES.has(e.name)) return true;
  // The SDK's handler reports a lost socket as a plain Error with one of these messages.
  return /socket hang up|ECONNRESET|ECONNREFUSED|timed? ?out/i.test(e.message ?? '');
}

/**
 * Delay (ms) before retry number `attempt` (0-based): exponential from `baseMs`, capped at
 * `capMs`, with "full jitter" (a random point of that window) so many waiting writers do
 * not come back at the same instant.
 */
export function backoffWithJitter(attempt: number, baseMs: number, capMs: number): number {
  const window = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(window / 2 + Math.random() * (window / 2));
}

function describe(cause: unknown): string {
  const e = cause as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  return `${e?.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${e?.message ?? String(cause)}`;
}
