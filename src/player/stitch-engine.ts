import type { Clip } from '../internal/events.js';
import { ReelError } from '../transport/errors.js';
import { nudgeVideo, resetVideo, type EngineOptions, type PlaybackEngine } from './engine.js';
import { HlsEngine, loadHls } from './hls-engine.js';
import { nextLivePlaylist } from './live-clip.js';
import { STITCHED_URL_BASE } from './memory-loader.js';
import {
  fetchMediaPlaylist,
  partAt,
  stitch,
  type MediaPlaylist,
  type StitchedPart,
} from './stitcher.js';

/**
 * Plays the whole reel through one hls.js instance on a stitched playlist (every clip's
 * segments in one VOD playlist, a discontinuity between clips), so a join is no different
 * from a segment boundary. Clips whose playlist does not load are left out of the stitch.
 */
export class StitchEngine implements PlaybackEngine {
  readonly kind = 'stitch';
  readonly video: HTMLVideoElement;
  private clips: readonly Clip[] = [];
  private readonly playlists = new Map<number, MediaPlaylist>();
  private readonly failed = new Set<number>();
  private parts: StitchedPart[] = [];
  /** Clips in the playlist hls.js has now (appended ones wait for a reload). */
  private loadedParts: StitchedPart[] = [];
  /**
   * The stitched playlist hls.js has now, and the URL it knows it by (never fetched); `live`
   * while it ends in a clip still recorded, `served` once hls.js has had this URL's first answer.
   */
  private stitched?: { url: string; text: string; live: boolean; served?: boolean };
  /** The reel has been live: its playlist stays an EVENT one (hls.js keeps the type it saw). */
  private event = false;
  private reloads = 0;
  private readonly hls: HlsEngine;
  private readonly abort = new AbortController();
  private destroyed = false;
  private finished = false;

  constructor(private readonly options: EngineOptions) {
    this.video = options.videos[0];
    this.hls = new HlsEngine(this.video, {
      request: options.request,
      playlists: (url) => this.playlistFor(url),
      onError: (error) => options.events.error(error),
      onFatal: (error, at, reported) => this.onFatal(error, at, reported),
    });
    this.video.toggleAttribute('data-active', true);
    this.video.addEventListener('timeupdate', this.onTime);
    this.video.addEventListener('seeked', this.onTime);
    this.video.addEventListener('ended', this.onEnded);
  }

  async load(clips: readonly Clip[], index: number, offset: number): Promise<void> {
    this.clips = clips;
    // hls.js loads while the playlists do: the first frame comes sooner.
    loadHls().catch(() => undefined);
    await this.fetchPlaylists(0, clips.length);
    if (this.destroyed) return;
    const part = this.parts.find((p) => p.index >= index);
    if (!part) {
      this.finish();
      return;
    }
    const poster = clips[part.index].poster;
    if (poster) this.video.poster = poster;
    const at = part.index === index ? Math.min(offset, Math.max(0, part.duration - 0.5)) : 0;
    this.options.events.time(part.index, at);
    await this.reload(part.start + at);
  }

  async append(clips: readonly Clip[]): Promise<void> {
    const from = this.clips.length;
    this.clips = clips;
    await this.fetchPlaylists(from, clips.length);
    if (this.destroyed || this.parts.length === this.loadedParts.length) return;
    // The reel had run out: carry on with the first new clip.
    if (this.finished) this.seek(this.parts[this.loadedParts.length].index);
  }

  seek(index: number, offset = 0): void {
    const loaded = this.loadedParts.find((p) => p.index >= index && !this.failed.has(p.index));
    const part = loaded ?? this.parts.find((p) => p.index >= index && !this.failed.has(p.index));
    if (!part) {
      this.finish();
      return;
    }
    this.finished = false;
    const at = part.start + (part.index === index ? offset : 0);
    this.options.events.time(part.index, at - part.start);
    if (!loaded) {
      // An appended clip: the stitched playlist grows (hls.js reloads it) and plays on.
      const playing = !this.video.paused || this.video.ended;
      void this.reload(at).then(() => {
        if (playing && !this.destroyed) this.video.play().catch(() => undefined);
      });
      return;
    }
    this.video.currentTime = at;
  }

  nudge(): void {
    nudgeVideo(this.video);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.abort.abort();
    this.video.removeEventListener('timeupdate', this.onTime);
    this.video.removeEventListener('seeked', this.onTime);
    this.video.removeEventListener('ended', this.onEnded);
    this.hls.destroy();
    resetVideo(this.video);
    this.video.removeAttribute('data-active');
    this.stitched = undefined;
  }

  private async fetchPlaylists(from: number, to: number): Promise<void> {
    const results = await Promise.allSettled(
      this.clips.slice(from, to).map((clip) =>
        fetchMediaPlaylist(clip.src, {
          request: this.options.request,
          signal: this.abort.signal,
        }),
      ),
    );
    if (this.destroyed) return;
    results.forEach((result, k) => {
      const index = from + k;
      if (result.status === 'fulfilled') {
        this.playlists.set(index, result.value);
        this.options.events.duration(index, result.value.duration);
        if (result.value.live) this.options.events.live?.(index, true);
      } else {
        this.failed.add(index);
        this.options.events.clipFailed(index, ReelError.from(result.reason, 'network'));
      }
    });
    this.parts = stitch(this.stitchable(), this.event).parts;
  }

  private stitchable(): { index: number; playlist: MediaPlaylist }[] {
    return [...this.playlists.entries()]
      .filter(([index]) => !this.failed.has(index))
      .sort(([a], [b]) => a - b)
      .map(([index, playlist]) => ({ index, playlist }));
  }

  /** Builds the stitched playlist from every playable clip and (re)loads it at `position`. */
  private async reload(position: number): Promise<void> {
    // A new URL per reload: hls.js takes a source it has already as no change.
    this.restitch(`${STITCHED_URL_BASE}${++this.reloads}.m3u8`);
    await this.hls.load(this.stitched!.url, position);
  }

  /** The stitched playlist from every playable clip, under `url` (hls.js's, when it grows). */
  private restitch(url: string): void {
    const stitched = stitch(this.stitchable(), this.event);
    this.event ||= stitched.live;
    this.parts = stitched.parts;
    this.loadedParts = stitched.parts;
    this.stitched = { url, text: stitched.text, live: stitched.live };
  }

  /**
   * hls.js asks for the stitched playlist: its first answer at once; while the reel ends in
   * a live clip, each reload once that clip has grown by a segment (or ended, or the server's
   * bound passed: live-clip.ts).
   */
  private playlistFor(url: string): string | Promise<string> | undefined {
    const current = this.stitched;
    if (!current || url !== current.url) return undefined;
    if (!current.live || !current.served) {
      current.served = true;
      return current.text;
    }
    const live = this.stitchable().find((clip) => clip.playlist.live);
    if (!live) return current.text;
    return nextLivePlaylist(live.playlist, {
      request: this.options.request,
      signal: this.abort.signal,
    }).then((next) => {
      if (this.destroyed || this.stitched !== current) return current.text;
      if (next instanceof ReelError) {
        // Gone (unsent) or refused: it ends where it is, and is reported as failed.
        this.playlists.set(live.index, { ...live.playlist, live: false });
        this.options.events.clipFailed(live.index, next);
      } else {
        this.playlists.set(live.index, next);
        this.options.events.duration(live.index, next.duration);
      }
      const ended = !this.playlists.get(live.index)!.live;
      if (ended) this.options.events.live?.(live.index, false);
      this.restitch(url);
      this.stitched!.served = true;
      return this.stitched!.text;
    });
  }

  private readonly onTime = (): void => {
    if (this.loadedParts.length === 0 || this.video.ended) return;
    const t = this.video.currentTime;
    const part = this.loadedParts[partAt(this.loadedParts, t)];
    this.options.events.time(part.index, Math.max(0, Math.min(part.duration, t - part.start)));
  };

  private readonly onEnded = (): void => {
    const next = this.parts[this.loadedParts.length];
    if (next) {
      // Clips were appended while the reel played: go on with them.
      this.seek(next.index);
      return;
    }
    this.finish();
  };

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.options.events.ended();
  }

  /** A segment that will not load (or media that will not decode): skip the clip it is in. */
  private onFatal(error: ReelError, at: number | undefined, reported: boolean): void {
    const t = at ?? this.video.currentTime;
    const part = this.loadedParts[partAt(this.loadedParts, t)];
    if (!part) return;
    this.failed.add(part.index);
    this.options.events.clipFailed(part.index, error, reported);
    const next = this.loadedParts.find((p) => p.index > part.index);
    if (!next) {
      this.finish();
      return;
    }
    this.video.currentTime = next.start;
    this.hls.restartLoad(next.start);
    this.options.events.time(next.index, 0);
  }
}
