import type { Timers } from './timers.js';

export interface WatchdogProbe {
  /** The media clock (`currentTime` of the video on screen). */
  time: number;
  /** Whether playback is meant to be moving (playing, not ended, not held by the user). */
  active: boolean;
  /** Seconds left in the current clip (Infinity when unknown). */
  remaining: number;
  /** Seconds of media buffered ahead of `time` (see `bufferedAhead`). */
  ahead: number;
}

export interface Stall {
  /** The media clock where playback stopped moving. */
  time: number;
  /** Within `nearEnd` of the clip's end: a join or a last segment that never finishes. */
  nearEnd: boolean;
  /** 0 the first time playback stalls here, 1 if it stalls again without having got on. */
  repeat: number;
}

export interface WatchdogOptions {
  /** How often the clock is read (ms). */
  interval?: number;
  /** How long the clock must stand still to count as a stall (ms). */
  stallMs?: number;
  /** Seconds before a clip's end where a stall is a stall whatever is buffered. */
  nearEnd?: number;
  /** Seconds buffered ahead that make a still clock a stall rather than waiting for data. */
  minAhead?: number;
}

/**
 * Notices playback that has stopped although it should not: the media clock has not moved for
 * `stallMs` while playing, and either there is media buffered ahead (so the pipeline, not the
 * network, is stuck: WebKit sometimes never starts, `readyState` 1 with seconds buffered) or
 * the clip is within `nearEnd` of its end (a join a decoder cannot get over, a last segment
 * that never finishes). Waiting for data that has not arrived is left to the engine.
 * `onStall` decides what to do; it is called again if playback stays stuck.
 */
export class Watchdog {
  private lastTime = NaN;
  private lastMove = 0;
  private stalledAt = NaN;
  private repeat = 0;
  private timer?: number;

  constructor(
    private readonly timers: Timers,
    private readonly probe: () => WatchdogProbe,
    private readonly onStall: (stall: Stall) => void,
    private readonly options: WatchdogOptions = {},
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.lastTime = NaN;
    this.schedule();
  }

  stop(): void {
    this.timers.clear(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    this.timer = this.timers.set(() => {
      this.timer = undefined;
      this.check();
      this.schedule();
    }, this.options.interval ?? 250);
  }

  private check(): void {
    const { time, active, remaining, ahead } = this.probe();
    const now = performance.now();
    // Getting well past the last stall (not just a nudge's few ms) starts the count afresh.
    if (Number.isNaN(this.stalledAt) || Math.abs(time - this.stalledAt) > 0.25) this.repeat = 0;
    if (!active || time !== this.lastTime) {
      this.lastTime = time;
      this.lastMove = now;
      return;
    }
    const nearEnd = remaining <= (this.options.nearEnd ?? 0.5);
    if (
      now - this.lastMove >= (this.options.stallMs ?? 1500) &&
      (nearEnd || ahead >= (this.options.minAhead ?? 0.5))
    ) {
      this.lastMove = now;
      this.stalledAt = time;
      this.onStall({ time, nearEnd, repeat: this.repeat++ });
    }
  }
}

/** Seconds of `video` buffered from its current time onward (0 when nothing is). */
export function bufferedAhead(video: HTMLVideoElement | undefined): number {
  if (!video) return 0;
  const t = video.currentTime;
  const ranges = video.buffered;
  for (let i = 0; i < ranges.length; i++) {
    // A range that starts a hair after the clock still counts (decoders start on a keyframe).
    if (ranges.start(i) <= t + 0.1 && ranges.end(i) > t) return ranges.end(i) - t;
  }
  return 0;
}
