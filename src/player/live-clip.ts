import { ReelError } from '../transport/errors.js';
import { fetchMediaPlaylist, type MediaPlaylist, type MediaRequest } from './stitcher.js';

/** Seconds from the recording's edge within which playback has caught up with it. */
const EDGE_S = 1.5;
/** After a failed look (no answer), the next one waits this long: no tight loop offline. */
const RETRY_MS = 1000;

/**
 * A live clip's playlist once it has one more segment (or has ended): a blocking reload
 * (`_HLS_msn`, docs/protocol.md "Live"), which the server answers when the segment is written
 * or after its bound, unchanged. Resolves with the error when the clip is gone (4xx: unsent,
 * refused); on a network failure, with the playlist as it was, a second later.
 */
export async function nextLivePlaylist(
  playlist: MediaPlaylist,
  options: { request?: MediaRequest; signal?: AbortSignal },
): Promise<MediaPlaylist | ReelError> {
  const url = new URL(playlist.url);
  url.searchParams.set('_HLS_msn', String(playlist.segments.length));
  try {
    // A growing playlist is never taken from the browser's cache.
    const next = await fetchMediaPlaylist(url.href, { ...options, cache: 'no-store' });
    // Known by its own URL, without the directive, for the next look.
    return { ...next, url: playlist.url };
  } catch (error) {
    const status = error instanceof ReelError ? error.status : undefined;
    if (status !== undefined && status >= 400 && status < 500) return error as ReelError;
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    return playlist;
  }
}

/**
 * Which clips of the reel are still recorded, and whether playback has caught up with the
 * one it plays (then the player says "{name} is still recording" — announced once per clip).
 */
export class LiveClips {
  private readonly live = new Set<number>();
  private readonly announced = new Set<number>();
  /** Playing a live clip, within EDGE_S of what has been recorded so far. */
  atEdge = false;

  set(index: number, live: boolean): void {
    if (live) this.live.add(index);
    else this.live.delete(index);
    if (!live) this.atEdge = false;
  }

  has(index: number): boolean {
    return this.live.has(index);
  }

  /** Playback moved: true the first time it reaches clip `index`'s edge (announce it). */
  update(index: number, offset: number, duration: number): boolean {
    this.atEdge = this.live.has(index) && !(duration - offset > EDGE_S);
    if (!this.atEdge || this.announced.has(index)) return false;
    this.announced.add(index);
    return true;
  }
}
