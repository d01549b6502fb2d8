import type { Clip } from '../internal/events.js';
import type { PlaybackEngine } from './engine.js';
import type { Failure } from './playback-failure.js';

/**
 * Where `<reel-player>`'s reel is, as a plain object: the element renders it, its sequencer
 * (loaded with the engines) moves it on, and each asks the element to render after a change.
 */
export class ReelState {
  /** The clips as the reel has them (with their `watched` state). */
  list: Clip[] = [];
  index = -1;
  offset = 0;
  durations: number[] = [];
  failed: ReadonlySet<number> = new Set();
  paused = true;
  ended = false;
  needsUnmute = false;
  note = '';
  /** Playback failed (shown with Retry, playback-failure.ts), or undefined. */
  failure?: Failure;
  announcement = '';
  engine?: PlaybackEngine;
  /** Bumped when the engine goes: what an older one still reports is ignored. */
  generation = 0;
  /** True while a seek the person asked for moves playback (that is not watching). */
  navigating = false;
  /** Press and hold: paused while held. */
  held = false;
  wantPlay = false;
  /** Where to go on when the reel starts again (it left the page, or clips left the list). */
  resume?: { id: string; offset: number; playing: boolean };
  /** The clip playing left the list and none came after it: load at the end, ended. */
  endAfterLoad = false;
  rate = 1;
  startAt: number | 'unwatched' = 'unwatched';
}
