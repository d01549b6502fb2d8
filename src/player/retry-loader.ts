import type {
  HlsConfig,
  Loader,
  LoaderCallbacks,
  LoaderConfiguration,
  LoaderContext,
  LoaderStats,
  NullableNetworkDetails,
} from 'hls.js';
import { retryAfterMs } from '../transport/http/api-client.js';
import { memoryPlaylistLoader } from './memory-loader.js';

type LoaderClass = new (config: HlsConfig) => Loader<LoaderContext>;

/** "Later" answers: the server (or the bucket behind it) is away for now, or asks us to slow down. */
const LATER = new Set([429, 503]);
/** The longest one wait, whatever Retry-After says, and the wait when it says nothing. */
const MAX_WAIT_MS = 10_000;
const DEFAULT_WAIT_MS = 1_000;
/** The shortest (`Retry-After: 0` must not make it ask in a loop). */
const MIN_WAIT_MS = 250;
/** How long one request keeps asking before hls.js hears of the failure (its own retries follow). */
const GIVE_UP_MS = 60_000;

/**
 * hls.js's loader, asking again by itself when a playlist or segment is answered `503` or
 * `429`: after the `Retry-After` the answer names (at most 10 s; 1 s when it names none,
 * jittered up to a quarter more so viewers do not come back in step), for up to 60 s, before
 * hls.js hears of the failure. hls.js's own retries ignore Retry-After and, with the engine's
 * limits, give a clip up within about 15 s; a bucket away for 30 s (docs/scaling.md) is waited
 * out instead, and playback goes on by itself. A new inner loader per try: hls.js's are
 * single-use.
 */
export function retryLaterLoader(Base: LoaderClass): LoaderClass {
  return class RetryLaterLoader implements Loader<LoaderContext> {
    context: LoaderContext | null = null;
    private inner?: Loader<LoaderContext>;
    private timer?: ReturnType<typeof setTimeout>;
    private stopped = false;

    constructor(private readonly config: HlsConfig) {}

    get stats(): LoaderStats {
      return this.current().stats;
    }

    load(
      context: LoaderContext,
      config: LoaderConfiguration,
      callbacks: LoaderCallbacks<LoaderContext>,
    ): void {
      this.context = context;
      this.stopped = false;
      const giveUpAt = Date.now() + GIVE_UP_MS;
      const attempt = () => {
        this.inner?.destroy();
        this.inner = new Base(this.config);
        this.inner.load(context, config, {
          ...callbacks,
          onError: (error, ctx, details, stats) => {
            const wait = LATER.has(error.code) ? waitMs(details) : undefined;
            if (wait === undefined || this.stopped || Date.now() + wait > giveUpAt) {
              callbacks.onError(error, ctx, details, stats);
              return;
            }
            this.timer = setTimeout(attempt, wait);
          },
        });
      };
      attempt();
    }

    getResponseHeader(name: string): string | null {
      return this.inner?.getResponseHeader?.(name) ?? null;
    }

    getCacheAge(): number | null {
      return this.inner?.getCacheAge?.() ?? null;
    }

    abort(): void {
      this.stopped = true;
      clearTimeout(this.timer);
      this.inner?.abort();
    }

    /** As hls.js's own: tells no one (hls.js destroys a loader from its onAbort). */
    destroy(): void {
      this.stopped = true;
      clearTimeout(this.timer);
      this.inner?.destroy();
      this.inner = undefined;
      this.context = null;
    }

    private current(): Loader<LoaderContext> {
      this.inner ??= new Base(this.config);
      return this.inner;
    }
  };
}

/** The wait a "later" answer asks for, bounded and jittered. */
function waitMs(details: NullableNetworkDetails): number {
  const header =
    details instanceof XMLHttpRequest
      ? details.getResponseHeader('Retry-After')
      : details instanceof Response
        ? details.headers.get('Retry-After')
        : null;
  return boundedWait(header);
}

/**
 * `fetch`, waiting out "later" answers as the loader above does (a clip's playlist fetched
 * for the stitched reel); past 60 s the last answer is returned. An abort ends the wait.
 */
export async function fetchWaitingLater(url: string, init: RequestInit): Promise<Response> {
  const giveUpAt = Date.now() + GIVE_UP_MS;
  for (;;) {
    const response = await fetch(url, init);
    const wait = LATER.has(response.status) && boundedWait(response.headers.get('Retry-After'));
    if (!wait || Date.now() + wait > giveUpAt) return response;
    await response.body?.cancel();
    init.signal?.throwIfAborted();
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, wait);
      init.signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(init.signal!.reason);
        },
        { once: true },
      );
    });
  }
}

function boundedWait(header: string | null): number {
  const asked = Math.min(
    Math.max(retryAfterMs(header) ?? DEFAULT_WAIT_MS, MIN_WAIT_MS),
    MAX_WAIT_MS,
  );
  return asked * (1 + Math.random() / 4);
}

/**
 * The fragment and playlist loaders of the engine's hls.js: both wait out "later" answers;
 * playlists held in memory (the stitched reel) are answered from there.
 */
export function retryingLoaders(
  DefaultLoader: LoaderClass,
  playlists?: (url: string) => string | Promise<string> | undefined,
) {
  const network = retryLaterLoader(DefaultLoader);
  return {
    fLoader: network,
    pLoader: playlists ? memoryPlaylistLoader(playlists, network) : network,
  } as Pick<HlsConfig, 'fLoader' | 'pLoader'>;
}
