import type { Timers } from './timers.js';

export interface WatchdogProbe {
  /** The media clock (`currentTime` of the video on screen). */
  time: number;
  /** Whether playback is meant to be moving (playing, not ended, not held by the user). */
  active: boolean;
  /** Seconds left in the current clip (Infinity when unknown). */
  remaining: number;
}

/**
 * Moves on when playback stalls near the end of a clip: a join a decoder cannot get over, or a
 * last segment that never finishes. It watches the media clock, not events: if the clock has
 * not moved for `stallMs` while playing within `nearEnd` seconds of a clip's end, `onStall` runs.
 */
export class Watchdog {
  private lastTime = NaN;
  private lastMove = 0;
  private timer?: number;

  constructor(
    private readonly timers: Timers,
    private readonly probe: () => WatchdogProbe,
    private readonly onStall: () => void,
    private readonly options: { interval?: number; stallMs?: number; nearEnd?: number } = {},
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
    const { time, active, remaining } = this.probe();
    const now = performance.now();
    if (!active || time !== this.lastTime) {
      this.lastTime = time;
      this.lastMove = now;
      return;
    }
    if (
      now - this.lastMove >= (this.options.stallMs ?? 1500) &&
      remaining <= (this.options.nearEnd ?? 0.5)
    ) {
      this.lastMove = now;
      this.onStall();
    }
  }
}
