import type { ReelErrorCode } from './error-codes.js';

export type { ReelErrorCode };

/** Every failure the library reports carries one of a fixed set of codes a site can branch on. */
export class ReelError extends Error {
  override readonly name = 'ReelError';
  readonly code: ReelErrorCode;
  /** HTTP status, when the error came from a response. */
  readonly status?: number;
  /**
   * How long (ms) the backend asked to wait before trying again (`Retry-After`), when it
   * said: a `quota-exceeded` refusal that waiting clears.
   */
  readonly retryAfter?: number;

  constructor(
    code: ReelErrorCode,
    message: string,
    options: { status?: number; cause?: unknown; retryAfter?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.retryAfter = options.retryAfter;
  }

  static is(value: unknown, code?: ReelErrorCode): value is ReelError {
    return value instanceof ReelError && (code === undefined || value.code === code);
  }

  /** An AbortSignal's reason, or any thrown value, as a ReelError. */
  static from(value: unknown, fallback: ReelErrorCode = 'internal'): ReelError {
    if (value instanceof ReelError) return value;
    if (value instanceof DOMException && value.name === 'AbortError') {
      return new ReelError('aborted', 'The operation was cancelled.', { cause: value });
    }
    const message = value instanceof Error ? value.message : String(value);
    return new ReelError(fallback, message, { cause: value });
  }
}
