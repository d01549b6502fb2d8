import { REEL_ERROR_CODES, ReelError, type ReelErrorCode } from '../errors.js';

const STATUS_CODES: Record<number, ReelErrorCode> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  413: 'too-large',
};

/**
 * A refusal as a ReelError: the code and message of the server's `{error: {code, message}}`
 * when it sent one, else from the status. The body's `error` object is the cause (a 409 on
 * an upload names the existing upload there).
 */
export function errorFromStatus(status: number, body: string, fallbackMessage: string): ReelError {
  let detail: { code?: string; message?: string } = {};
  try {
    detail = (JSON.parse(body) as { error?: typeof detail }).error ?? {};
  } catch {
    // Not JSON: the status says it.
  }
  const code = (REEL_ERROR_CODES as readonly string[]).includes(detail.code ?? '')
    ? (detail.code as ReelErrorCode)
    : (STATUS_CODES[status] ?? (status >= 500 ? 'internal' : 'bad-request'));
  return new ReelError(code, detail.message ?? fallbackMessage, { status, cause: detail });
}

export async function errorFromResponse(response: Response): Promise<ReelError> {
  const body = await response.text().catch(() => '');
  return errorFromStatus(response.status, body, `${response.status} ${response.statusText}`.trim());
}

/**
 * Bearer-token JSON requests against the reference protocol. The token is asked for
 * when first needed and again after a 401, so a site's short-lived tokens refresh.
 */
export class ApiClient {
  private token?: string;

  constructor(
    readonly endpoint: string,
    private readonly getToken: () => string | Promise<string>,
  ) {}

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

  async currentToken(refresh = false): Promise<string> {
    if (refresh || this.token === undefined) {
      const token = await this.getToken();
      if (typeof token !== 'string' || token === '') {
        throw new ReelError(
          'unauthorized',
          'No token: set the token attribute or a getToken callback.',
        );
      }
      this.token = token;
    }
    return this.token;
  }

  /** The last token known, for places that cannot wait (media request options). */
  get cachedToken(): string | undefined {
    return this.token;
  }

  async json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.fetch(path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    if (!response.ok) throw await errorFromResponse(response);
    return (await response.json()) as T;
  }

  /** fetch with the bearer token, retried once with a fresh token after a 401. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    for (const refresh of [false, true]) {
      const headers = new Headers(init.headers);
      headers.set('Authorization', `Bearer ${await this.currentToken(refresh)}`);
      if (init.body !== undefined) headers.set('Content-Type', 'application/json');
      let response: Response;
      try {
        response = await fetch(this.url(path), { ...init, headers });
      } catch (error) {
        if (init.signal?.aborted)
          throw new ReelError('aborted', 'The request was cancelled.', { cause: error });
        throw new ReelError('network', `Cannot reach ${this.endpoint}.`, { cause: error });
      }
      if (response.status !== 401 || refresh) return response;
    }
    throw new ReelError('internal', 'unreachable');
  }
}
