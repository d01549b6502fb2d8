import type {
  HlsConfig,
  Loader,
  LoaderCallbacks,
  LoaderConfiguration,
  LoaderContext,
  LoaderStats,
  PlaylistLoaderConstructor,
  PlaylistLoaderContext,
} from 'hls.js';

/** hls.js's default loader class (`Hls.DefaultConfig.loader`, XHR or fetch). */
type LoaderClass = new (config: HlsConfig) => Loader<LoaderContext>;

/**
 * The URL the stitched playlist is known by. Never fetched: the playlist loader answers it
 * from memory. `.invalid` (RFC 2606) makes sure that, were it ever asked of the network, no
 * host would answer it.
 */
export const STITCHED_URL_BASE = 'https://stitched.reelchat.invalid/reel-';

function freshStats(bytes: number): LoaderStats {
  const now = performance.now();
  return {
    aborted: false,
    loaded: bytes,
    total: bytes,
    retry: 0,
    chunkCount: 0,
    bwEstimate: 0,
    loading: { start: now, first: now, end: now },
    parsing: { start: 0, end: 0 },
    buffering: { start: 0, first: 0, end: 0 },
  };
}

/**
 * An hls.js playlist loader (`pLoader`) that answers the playlists `lookup` knows (the
 * stitched reel, built in memory) itself and hands every other URL to hls.js's own loader.
 * So the stitched playlist is never a `blob:` URL hls.js would fetch: a page whose
 * Content-Security-Policy has no `blob:` in `connect-src` plays the reel (docs/player.md).
 * A reel ending in a live clip answers its reloads later (`lookup` gives a promise: the live
 * clip's next segment, fetched with a blocking reload).
 */
export function memoryPlaylistLoader(
  lookup: (url: string) => string | Promise<string> | undefined,
  DefaultLoader: LoaderClass,
): PlaylistLoaderConstructor {
  return class MemoryPlaylistLoader implements Loader<PlaylistLoaderContext> {
    context: PlaylistLoaderContext | null = null;
    stats: LoaderStats = freshStats(0);
    private network?: Loader<LoaderContext>;
    private pending?: ReturnType<typeof setTimeout>;
    private aborted = false;

    constructor(private readonly config: HlsConfig) {}

    load(
      context: PlaylistLoaderContext,
      config: LoaderConfiguration,
      callbacks: LoaderCallbacks<PlaylistLoaderContext>,
    ): void {
      this.context = context;
      this.aborted = false;
      const text = lookup(context.url);
      if (typeof text === 'object') {
        this.stats = freshStats(0);
        void text.then((later) => {
          if (this.aborted) return;
          this.stats = freshStats(later.length);
          callbacks.onSuccess(
            { url: context.url, data: later, code: 200 },
            this.stats,
            context,
            null,
          );
        });
        return;
      }
      if (text === undefined) {
        this.network ??= new DefaultLoader(this.config);
        this.stats = this.network.stats;
        this.network.load(context, config, callbacks as unknown as LoaderCallbacks<LoaderContext>);
        return;
      }
      this.stats = freshStats(text.length);
      // Later, as a network answer would come: hls.js expects no callback during load().
      this.pending = setTimeout(() => {
        this.pending = undefined;
        callbacks.onSuccess({ url: context.url, data: text, code: 200 }, this.stats, context, null);
      });
    }

    abort(): void {
      this.aborted = true;
      if (this.pending !== undefined) {
        clearTimeout(this.pending);
        this.pending = undefined;
        this.stats.aborted = true;
      }
      this.network?.abort();
    }

    destroy(): void {
      this.abort();
      this.network?.destroy();
      this.network = undefined;
      this.context = null;
    }
  };
}
