import type Hls from 'hls.js';
import type { ErrorData, FragLoadedData } from 'hls.js';
import { ReelError } from '../transport/errors.js';
import { retryingLoaders } from './retry-loader.js';
import type { MediaRequest } from './stitcher.js';
import { Timers } from './timers.js';

type HlsClass = typeof Hls;

let loading: Promise<HlsClass> | undefined;

/** hls.js (the light build), imported the first time an HLS clip must play through MSE. */
export function loadHls(): Promise<HlsClass> {
  loading ??= import('hls.js/light').then((module) => module.default as HlsClass);
  return loading;
}

/**
 * The Media Source Extensions hls.js plays through here: `MediaSource` where the browser has
 * it (Chromium, Firefox, desktop Safari, WebKitGTK), else `ManagedMediaSource` (iPhone Safari
 * 17.1+ has only that). hls.js makes the same choice with `preferManagedMediaSource: false`.
 */
export function mediaSourceClass(): typeof MediaSource | undefined {
  return (
    globalThis.MediaSource ??
    (globalThis as { ManagedMediaSource?: typeof MediaSource }).ManagedMediaSource
  );
}

/** True where that MSE can play H.264/AAC, i.e. where hls.js and the stitched reel work. */
export function mseSupported(): boolean {
  const source = mediaSourceClass();
  return (
    typeof source?.isTypeSupported === 'function' &&
    source.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"')
  );
}

/** True where the `<video>` element plays HLS itself (Safari, iOS). */
export function nativeHlsSupported(video: HTMLVideoElement): boolean {
  return video.canPlayType('application/vnd.apple.mpegurl') !== '';
}

export interface HlsEngineOptions {
  /** Auth for every request hls.js makes (from the transport's `mediaRequest`). */
  request?: MediaRequest;
  /**
   * Playlists held in memory, by URL (the stitched reel): never fetched (memory-loader.ts);
   * a promise while the reel ends in a live clip (answered when it grows).
   */
  playlists?: (url: string) => string | Promise<string> | undefined;
  /** Called once per failure (not once per retry). */
  onError(error: ReelError): void;
  /**
   * Playback cannot go on where it is: a segment that will not load after the retries, or a
   * media error that recovery did not cure. `at` is the start time of the failed fragment,
   * when there is one, so the owner can skip the clip it belongs to.
   */
  onFatal(error: ReelError, at: number | undefined, reported: boolean): void;
}

const MAX_NETWORK_RETRIES = 3;
const MAX_SEGMENT_FAILURES = 4;
/** Seconds hls.js buffers ahead once playback is under way (and hls.js's own ceiling). */
const BUFFER_S = 20;
const MAX_BUFFER_S = 600;
/**
 * Seconds it buffers ahead until the first frames have played. WebKit's media pipeline can
 * stall for good before its first frame (`readyState` 1 with seconds buffered, `play()` never
 * settling) when later clips' init segments are appended that early; with this little ahead,
 * nothing past the first clip's first segments is.
 */
const START_BUFFER_S = 2;

/**
 * A reel that ends in a clip still recorded (docs/player.md, "Live clips"): played from where
 * the reel is, as any clip — never sped up to catch up, never moved on to the live edge —
 * and its playlist reloaded by the stitch engine (which blocks for the next segment), with
 * no partial segments to ask for. Pinned rather than left to hls.js's defaults (its
 * `liveMaxLatencyDurationCount` stays Infinity, its default: set, hls.js wants the sync count too).
 */
const LIVE_CONFIG = {
  lowLatencyMode: false,
  maxLiveSyncPlaybackRate: 1,
  liveDurationInfinity: false,
} as const;

/**
 * Owns one hls.js instance: loads the library, creates the instance on a `<video>`, registers
 * and unregisters its listeners, retries fatal network errors with backoff, recovers a fatal
 * media error once, and destroys everything on `destroy()`.
 */
export class HlsEngine {
  /** hls.js instances alive on the page (a test hook: 0 once every player has gone). */
  static live = 0;
  private hls?: Hls;
  private destroyed = false;
  private readonly timers = new Timers();
  private networkRetries = 0;
  private mediaRecoveries = 0;
  private failing = false;
  private failedSegment?: number | 'initSegment';
  private segmentFailures = 0;
  /** Where the clock stood when `playing` last fired, while the buffer is still short. */
  private playingFrom?: number;

  constructor(
    readonly video: HTMLVideoElement,
    private readonly options: HlsEngineOptions,
  ) {}

  /** Loads `url` (a playlist URL, or one `playlists` holds) and starts buffering at `startPosition`. */
  async load(url: string, startPosition = 0): Promise<void> {
    const HlsCtor = await loadHls();
    if (this.destroyed) return;
    if (!this.hls) {
      this.hls = new HlsCtor({
        startPosition,
        backBufferLength: 30,
        maxBufferLength: START_BUFFER_S,
        maxMaxBufferLength: START_BUFFER_S,
        // MediaSource where there is one, ManagedMediaSource only where not (mseSupported).
        preferManagedMediaSource: false,
        // No transmux worker: the ESM build has none inline, and one from a URL would need
        // `worker-src` and a Trusted Types policy of the host's (docs/player.md).
        enableWorker: false,
        xhrSetup: this.options.request ? this.xhrSetup : undefined,
        ...LIVE_CONFIG,
        // 503 + Retry-After (the bucket away) waited out, not failed (retry-loader.ts).
        ...retryingLoaders(HlsCtor.DefaultConfig.loader, this.options.playlists),
      });
      HlsEngine.live++;
      this.registerListeners();
      this.hls.attachMedia(this.video);
    } else {
      this.hls.config.startPosition = startPosition;
    }
    this.networkRetries = 0;
    this.failing = false;
    this.bufferLittleUntilPlaying();
    this.hls.loadSource(url);
  }

  /** Restarts loading at `position` (after a seek over a clip that failed). */
  restartLoad(position: number): void {
    this.hls?.stopLoad();
    this.hls?.startLoad(position);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.timers.clearAll();
    this.stopWatchingStart();
    if (this.hls) {
      this.unregisterListeners();
      this.hls.destroy();
      this.hls = undefined;
      HlsEngine.live--;
    }
  }

  private bufferLittleUntilPlaying(): void {
    const config = this.hls!.config;
    config.maxBufferLength = START_BUFFER_S;
    config.maxMaxBufferLength = START_BUFFER_S;
    this.playingFrom = undefined;
    this.video.addEventListener('playing', this.onPlaying);
    this.video.addEventListener('timeupdate', this.onStartProgress);
  }

  private stopWatchingStart(): void {
    this.video.removeEventListener('playing', this.onPlaying);
    this.video.removeEventListener('timeupdate', this.onStartProgress);
  }

  private readonly onPlaying = (): void => {
    this.playingFrom = this.video.currentTime;
  };

  /** Frames are playing (the clock moves on from where `playing` fired): buffer normally. */
  private readonly onStartProgress = (): void => {
    const video = this.video;
    if (
      this.playingFrom === undefined ||
      video.paused ||
      video.seeking ||
      video.currentTime < this.playingFrom + 0.05
    )
      return;
    this.stopWatchingStart();
    if (!this.hls) return;
    this.hls.config.maxBufferLength = BUFFER_S;
    this.hls.config.maxMaxBufferLength = MAX_BUFFER_S;
  };

  private readonly xhrSetup = (xhr: XMLHttpRequest, url: string): void => {
    const init = this.options.request?.(url);
    if (!init) return;
    xhr.open('GET', url, true);
    new Headers(init.headers).forEach((value, name) => xhr.setRequestHeader(name, value));
    if (init.credentials === 'include') xhr.withCredentials = true;
  };

  private registerListeners(): void {
    const hls = this.hls!;
    hls.on(hlsEvents(hls).ERROR, this.onError);
    hls.on(hlsEvents(hls).FRAG_LOADED, this.onFragLoaded);
  }

  private unregisterListeners(): void {
    const hls = this.hls!;
    hls.off(hlsEvents(hls).ERROR, this.onError);
    hls.off(hlsEvents(hls).FRAG_LOADED, this.onFragLoaded);
  }

  private readonly onFragLoaded = (_event: string, _data: FragLoadedData): void => {
    this.networkRetries = 0;
    this.failedSegment = undefined;
    this.failing = false;
  };

  /**
   * hls.js treats a segment that will not load as resolved when it has no other level to try,
   * and asks for it again and again. A segment that answers 4xx, or fails this many times,
   * is given up here, so the clip it belongs to can be skipped.
   */
  private onSegmentError(data: ErrorData): void {
    const details = data.details as string;
    if (!data.frag || (details !== 'fragLoadError' && details !== 'fragLoadTimeOut')) return;
    const status = data.response?.code;
    const sn = data.frag.sn;
    this.segmentFailures = this.failedSegment === sn ? this.segmentFailures + 1 : 1;
    this.failedSegment = sn;
    if (
      (status !== undefined && status >= 400 && status < 500) ||
      this.segmentFailures > MAX_SEGMENT_FAILURES
    ) {
      this.failedSegment = undefined;
      const error = new ReelError(
        status === 404 ? 'not-found' : 'network',
        `A segment could not be loaded (${details}${status ? `, HTTP ${status}` : ''}).`,
        { status: status || undefined },
      );
      this.options.onFatal(error, data.frag.start, false);
    }
  }

  private readonly onError = (_event: string, data: ErrorData): void => {
    if (this.destroyed) return;
    if (!data.fatal) {
      this.onSegmentError(data);
      return;
    }
    const hls = this.hls!;
    const status = data.response?.code;
    const error = new ReelError(
      (data.type as string) === 'networkError'
        ? status === 404
          ? 'not-found'
          : 'network'
        : 'media',
      `Playback failed (${data.details}${status ? `, HTTP ${status}` : ''}).`,
      { status: status || undefined, cause: data.error },
    );
    const reported = this.failing;
    const at = data.frag?.start;
    const network = (data.type as string) === 'networkError';
    const permanent = status !== undefined && status >= 400 && status < 500;
    const retry = network && !permanent && this.networkRetries < MAX_NETWORK_RETRIES;
    const recover =
      !network && (data.type as string) === 'mediaError' && this.mediaRecoveries === 0;
    if (!retry && !recover) {
      this.options.onFatal(error, at, reported);
      return;
    }
    // One report per failure, however many retries it takes.
    if (!reported) this.options.onError(error);
    this.failing = true;
    if (retry) {
      const delay = 500 * 2 ** this.networkRetries++;
      this.timers.set(() => hls.startLoad(at ?? this.video.currentTime), delay);
    } else {
      this.mediaRecoveries++;
      hls.recoverMediaError();
    }
  };
}

/** The Events table from an instance (the class is loaded lazily, so it is not imported). */
function hlsEvents(hls: Hls): HlsClass['Events'] {
  return (hls.constructor as HlsClass).Events;
}
