import { REEL_ERROR_CODES } from '../error-codes.js';
import { ReelError, type ReelErrorCode } from '../errors.js';
import type { GetToken, TokenRequest } from '../types.js';
import { TokenCache } from './token-cache.js';

const STATUS_CODES: Record<number, ReelErrorCode> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  413: 'too-large',
  431: 'too-large',
  429: 'quota-exceeded',
};

/**
 * Answers that mean "the same request may succeed later": the server (or a proxy before it)
 * timed out, is busy, is restarting, or asks this client to slow down.
 */
const TRY_AGAIN = new Set([408, 425, 429, 502, 503, 504]);

export function isTryAgain(status: number): boolean {
  return TRY_AGAIN.has(status);
}

/**
 * The longest wait a request sits out by itself. A backend that asks for longer (an hourly
 * quota) is answered at once with the refusal, its `retryAfter` telling the caller when.
 */
export const MAX_RETRY_WAIT_MS = 30_000;

/** Waits between the attempts of a JSON request, where the server names none. */
const JSON_RETRY_DELAYS = [1000, 2000, 4000, 8000];

/**
 * A `Retry-After` value in ms: delay-seconds or an HTTP date. `undefined` when absent or
 * unreadable (a cross-origin response hides it unless the server exposes it).
 */
export function retryAfterMs(
  value: string | null | undefined,
  now = Date.now(),
): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names its weekday and month; anything else (`-3`, `1.5`) is not a Retry-After.
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * A refusal as a ReelError: the code and message of the server's `{error: {code, message}}`
 * when it sent one, else from the status. The body's `error` object is the cause (a 409 on
 * an upload names the existing upload there). `retryAfter` is the `Retry-After` header's
 * value, or else a `retryAfter` (seconds) in the error body.
 */
export function errorFromStatus(
  status: number,
  body: string,
  fallbackMessage: string,
  retryAfterHeader?: string | null,
): ReelError {
  let detail: { code?: string; message?: string; retryAfter?: unknown } = {};
  try {
    detail = (JSON.parse(body) as { error?: typeof detail }).error ?? {};
  } catch {
    // Not JSON: the status says it.
  }
  const code = (REEL_ERROR_CODES as readonly string[]).includes(detail.code ?? '')
    ? (detail.code as ReelErrorCode)
    : (STATUS_CODES[status] ?? (status >= 500 ? 'internal' : 'bad-request'));
  const retryAfter =
    retryAfterMs(retryAfterHeader) ??
    (typeof detail.retryAfter === 'number' && detail.retryAfter >= 0
      ? detail.retryAfter * 1000
      : undefined);
  return new ReelError(code, detail.message ?? fallbackMessage, {
    status,
    cause: detail,
    retryAfter,
  });
}

export async function errorFromResponse(response: Response): Promise<ReelError> {
  const body = await response.text().catch(() => '');
  return errorFromStatus(
    response.status,
    body,
    `${response.status} ${response.statusText}`.trim(),
    response.headers.get('Retry-After'),
  );
}

/**
 * How long to wait before trying a refused request again, or `undefined` to give up: only
 * for answers that mean "try again", a few times, and the waits together never past
 * MAX_RETRY_WAIT_MS (a person watching a message "sending…" hears why within half a minute).
 */
export function retryWait(error: ReelError, attempt: number, waited = 0): number | undefined {
  if (error.status === undefined || !isTryAgain(error.status)) return undefined;
  if (attempt >= JSON_RETRY_DELAYS.length) return undefined;
  const delay = error.retryAfter ?? JSON_RETRY_DELAYS[attempt];
  return waited + delay > MAX_RETRY_WAIT_MS ? undefined : delay;
}

/** Resolves after `ms`, or rejects with `aborted` as soon as one of the signals fires. */
function wait(ms: number, signals: (AbortSignal | undefined)[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const live = signals.filter((signal): signal is AbortSignal => signal !== undefined);
    const done = () => {
      clearTimeout(timer);
      for (const signal of live) signal.removeEventListener('abort', abort);
    };
    const abort = () => {
      done();
      reject(new ReelError('aborted', 'The request was cancelled.'));
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, ms);
    for (const signal of live) signal.addEventListener('abort', abort, { once: true });
    if (live.some((signal) => signal.aborted)) abort();
  });
}

/** Headers past this size are refused by many servers and proxies (Node: 16 KB, nginx: 8 KB). */
const LARGE_TOKEN_BYTES = 8 * 1024;

/**
 * Bearer-token JSON requests against the reference protocol, for one conversation and purpose
 * (`scoped()` gives a client for another, sharing the tokens). The token is asked for when
 * first needed, again when it expires or after a 401, so a site's short-lived tokens refresh.
 * A request the server asks to repeat later (429 with `Retry-After`, 503, a timeout) is
 * repeated after that wait, a few times; every JSON request of the protocol may be
 * (sending a message is idempotent by its clientId).
 */
export class ApiClient {
  private readonly tokens: TokenCache;

  constructor(
    readonly endpoint: string,
    tokens: GetToken | TokenCache,
    /** Fires when the transport closes: a request waiting to be repeated gives up. */
    private readonly closing?: AbortSignal,
    /** What this client's requests ask a token for. */
    readonly scope: TokenRequest = { purpose: 'api' },
  ) {
    this.tokens = tokens instanceof TokenCache ? tokens : new TokenCache(tokens);
  }

  /** A client for another conversation or purpose, on the same endpoint and tokens. */
  scoped(scope: TokenRequest): ApiClient {
    return new ApiClient(this.endpoint, this.tokens, this.closing, scope);
  }

  /** An absolute URL for a server-relative path or URL the server returned. */
  url(path: string): string {
    return new URL(path, this.endpoint.endsWith('/') ? this.endpoint : `${this.endpoint}/`).href;
  }

  /**
   * Whether a URL is on the endpoint: its origin, at or below its path. Only such URLs get
   * the token — a string prefix is not enough (`https://api.example.evil`, `…@evil`).
   */
  owns(url: string): boolean {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return false;
    }
    const base = new URL(this.url(''));
    return (
      target.origin === base.origin &&
      target.username === '' &&
      target.password === '' &&
      `${target.pathname}/`.startsWith(base.pathname)
    );
  }

  currentToken(refresh = false): Promise<string> {
    return this.tokens.get(this.scope, refresh);
  }

  /** The last token known for this scope, for places that cannot wait (media request options). */
  get cachedToken(): string | undefined {
    return this.tokens.cached(this.scope);
  }

  /** The last token known for another scope on the same tokens. */
  cachedTokenFor(scope: TokenRequest): string | undefined {
    return this.tokens.cached(scope);
  }

  async json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      const response = await this.fetch(path, {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      // 204 (unsend, watched): no body to read.
      if (response.status === 204) return undefined as T;
      if (response.ok) return (await response.json()) as T;
      const error = await errorFromResponse(response);
      const delay = retryWait(error, attempt, waited);
      if (delay === undefined) throw error;
      await wait(delay, [signal, this.closing]);
      waited += delay;
    }
  }

  /**
   * Why a fetch may have failed, beyond the network: a browser reports a refused origin
   * (CORS) and a proxy's 431 without CORS headers only as a failed fetch.
   */
  private unreachable(token: string): string {
    const page = globalThis.location?.origin;
    const origin = new URL(this.endpoint).origin;
    const cors =
      page && page !== origin
        ? ` If it is running, it may not allow ${page} (REELCHAT_ALLOWED_ORIGINS on the reference server).`
        : '';
    const large = token.length > LARGE_TOKEN_BYTES ? ` ${tokenTooLarge(token)}` : '';
    return `Cannot reach ${this.endpoint}.${cors}${large}`;
  }

  /**
   * fetch with the bearer token, retried once with a fresh token after a 401. A token too
   * large for the server (431) is a `too-large` error that says so.
   */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    for (const refresh of [false, true]) {
      const headers = new Headers(init.headers);
      const token = await this.currentToken(refresh);
      headers.set('Authorization', `Bearer ${token}`);
      if (init.body !== undefined) headers.set('Content-Type', 'application/json');
      let response: Response;
      try {
        response = await fetch(this.url(path), { ...init, headers });
      } catch (error) {
        if (init.signal?.aborted)
          throw new ReelError('aborted', 'The request was cancelled.', { cause: error });
        throw new ReelError('network', this.unreachable(token), { cause: error });
      }
      if (response.status === 431) throw await headerTooLarge(response, token);
      if (response.status !== 401 || refresh) return response;
    }
    throw new ReelError('internal', 'unreachable');
  }
}

/** What to do about a token too large to send: the same words for a 431 and a failed fetch. */
function tokenTooLarge(token: string): string {
  const kb = (token.length / 1024).toFixed(1);
  return (
    `The token is ${kb} KB, too large for a request header (servers and proxies often allow ` +
    '8–16 KB). Sign a token for just the conversation getToken is asked for.'
  );
}

/** A 431: the server's own explanation when it gave one (the reference server does), else ours. */
async function headerTooLarge(response: Response, token: string): Promise<ReelError> {
  const error = await errorFromResponse(response);
  const explained = error.message !== `${response.status} ${response.statusText}`.trim();
  if (explained) return error;
  return new ReelError(
    'too-large',
    `The server refused the request (431). ${tokenTooLarge(token)}`,
    {
      status: 431,
    },
  );
}
