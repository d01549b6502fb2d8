import { ReelError } from '../errors.js';
import type { GetToken, TokenRequest } from '../types.js';

/** A token this close to its `exp` is asked for again before use (covers clock skew and the trip). */
const EXPIRY_MARGIN_MS = 15_000;

interface Entry {
  token: Promise<string>;
  /** When the token stops being valid (ms since the epoch), if it says (a JWT's `exp`). */
  expires?: number;
  /** The token once it arrived, for callers that cannot wait (media request options). */
  settled?: string;
}

/**
 * The host's tokens, one per conversation and purpose: asked for when first needed, again
 * when one is about to expire (a JWT's `exp`) or the server refused it (401). Requests that
 * need the same token at once share one call to `getToken`.
 */
export class TokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly getToken: GetToken) {}

  get(request: TokenRequest, refresh = false): Promise<string> {
    const key = keyOf(request);
    const entry = this.entries.get(key);
    const fresh = entry && (entry.expires === undefined || entry.expires > Date.now());
    if (entry && fresh && !refresh) return entry.token;
    const token = this.ask(request);
    const next: Entry = { token };
    this.entries.set(key, next);
    token.then(
      (value) => {
        next.settled = value;
        next.expires = expiryOf(value);
      },
      // A failed ask is not kept: the next request asks again.
      () => this.entries.get(key) === next && this.entries.delete(key),
    );
    return token;
  }

  /**
   * The token last given for a request, without waiting (undefined if none has arrived); one
   * about to expire is still returned, and a fresh one asked for behind it.
   */
  cached(request: TokenRequest): string | undefined {
    const entry = this.entries.get(keyOf(request));
    if (
      entry?.settled !== undefined &&
      entry.expires !== undefined &&
      entry.expires <= Date.now()
    ) {
      void this.get(request).catch(() => undefined);
    }
    return entry?.settled;
  }

  private async ask(request: TokenRequest): Promise<string> {
    const token = await this.getToken({ ...request });
    if (typeof token !== 'string' || token === '') {
      throw new ReelError(
        'unauthorized',
        'No token: set the token attribute or a getToken callback.',
      );
    }
    if (/^\s*[{"]|^Bearer\s/i.test(token)) {
      throw new ReelError(
        'unauthorized',
        'getToken must resolve to the bare token, not JSON or a "Bearer …" header value.',
      );
    }
    return token;
  }
}

function keyOf({ conversation, purpose }: TokenRequest): string {
  return `${purpose} ${conversation ?? ''}`;
}

/** A JWT's `exp` less the margin, in ms; undefined for a token that is not a JWT or has none. */
function expiryOf(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 - EXPIRY_MARGIN_MS : undefined;
  } catch {
    return undefined;
  }
}
