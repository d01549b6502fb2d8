// Every error the API answers is `{ error: { code, message } }`, where code is one of the
// browser library's ReelErrorCode names, so the http transport maps it 1:1.
import type { ServerResponse } from 'node:http';
import type { ReelErrorCode } from '../../src/transport/errors.js';
import type { WireError } from '../../src/transport/wire.js';

/** The codes the API answers with: the library's own list, so both ends agree. */
export type ErrorCode = ReelErrorCode;

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'bad-request',
  409: 'conflict',
  410: 'not-found',
  412: 'bad-request',
  413: 'too-large',
  416: 'bad-request',
  429: 'quota-exceeded',
};

export function codeForStatus(status: number): ErrorCode {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'bad-request');
}

export interface HttpErrorOptions {
  /** The code when the status alone does not say it (default: codeForStatus). */
  code?: ErrorCode;
  /** Response headers sent with the error (e.g. Retry-After). */
  headers?: Record<string, string>;
}

export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly status: number;
  readonly code: ErrorCode;
  /** Extra fields sent inside `error` (e.g. the existing upload's id on a conflict). */
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    message: string,
    extra: Record<string, unknown> = {},
    options: HttpErrorOptions = {},
  ) {
    super(message);
    this.status = status;
    this.code = options.code ?? codeForStatus(status);
    this.extra = extra;
    this.headers = options.headers ?? {};
  }

  toJSON(): WireError {
    return { error: { code: this.code, message: this.message, ...this.extra } };
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
export const unauthorized = (message = 'A valid token is required.') => new HttpError(401, message);
export const forbidden = (message = 'You are not a member of this conversation.') =>
  new HttpError(403, message);
export const notFound = (message = 'Not found.') => new HttpError(404, message);

/**
 * A per-user limit (docs/protocol.md, Limits): `429` when waiting clears it — with
 * `Retry-After` (seconds) and the same number as `retryAfter` in the body, which a
 * cross-origin page can read even where the header is not exposed — or `413` when only
 * removing something would (stored bytes).
 */
export function quotaExceeded(status: 413 | 429, message: string, retryAfterS?: number): HttpError {
  if (retryAfterS === undefined)
    return new HttpError(status, message, {}, { code: 'quota-exceeded' });
  const seconds = Math.max(1, Math.ceil(retryAfterS));
  return new HttpError(
    status,
    message,
    { retryAfter: seconds },
    { code: 'quota-exceeded', headers: { 'Retry-After': String(seconds) } },
  );
}

export function sendError(res: ServerResponse, error: HttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  sendJson(res, error.status, error.toJSON());
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('Cache-Control', 'no-store');
  res.end(text);
}
