import type { Clip } from '../internal/events.js';
import type { ReelError } from '../transport/errors.js';
import type { MediaRequest } from './stitcher.js';

/** What an engine tells the element. State flows up through these; the element decides. */
export interface EngineEvents {
  /** Where playback is: clip `index`, `offset` seconds into it. */
  time(index: number, offset: number): void;
  /** A clip's length became known. */
  duration(index: number, seconds: number): void;
  /** The last playable clip played to its end. */
  ended(): void;
  /**
   * Clip `index` cannot be played and is left out; playback goes on with the next one.
   * `reported` when `error` already went out through `error()` (one report per failure).
   */
  clipFailed(index: number, error: ReelError, reported?: boolean): void;
  /** Any other failure worth reporting (one call per failure). */
  error(error: ReelError): void;
  /** Clip `index` is still recorded (`live`), or no longer: it ended (docs/protocol.md, Live). */
  live?(index: number, live: boolean): void;
}

export interface EngineOptions {
  /** The two `<video>` elements the element renders; a stitch engine uses the first only. */
  videos: [HTMLVideoElement, HTMLVideoElement];
  events: EngineEvents;
  request?: MediaRequest;
}

/**
 * A way of playing a list of clips back to back: `StitchEngine` (one hls.js instance on a
 * stitched playlist, gapless) or `SwapEngine` (two `<video>` elements, the fallback).
 */
export interface PlaybackEngine {
  readonly kind: 'stitch' | 'swap';
  /** The `<video>` on screen now. */
  readonly video: HTMLVideoElement;
  /** Prepares `clips` and positions playback at clip `index`, `offset` seconds in (paused). */
  load(clips: readonly Clip[], index: number, offset: number): Promise<void>;
  /** The list grew at its end (`clips` is the whole new list). */
  append(clips: readonly Clip[]): Promise<void>;
  /** Moves to clip `index` (or the next playable one), keeping play / pause as it was. */
  seek(index: number, offset?: number): void;
  /** Moves the clock a hair on, which gets a stalled media pipeline going again. */
  nudge(): void;
  destroy(): void;
}

/** Empties a `<video>` so it holds no media, no decoder and no network connection. */
export function resetVideo(video: HTMLVideoElement): void {
  video.pause();
  video.removeAttribute('src');
  video.removeAttribute('poster');
  video.load();
}

/** Seconds a stalled `<video>` is moved on by: enough for a seek, too little to see. */
const NUDGE_S = 0.01;

export function nudgeVideo(video: HTMLVideoElement): void {
  video.currentTime = video.currentTime + NUDGE_S;
}
