// The live conversions of the server: at most `max` at once and `perOwner` of one owner, so
// a client that opens many deferred uploads starts at most that many ffmpegs; the rest are
// converted from their stored bytes when complete, as before. A pool of its own rather than
// the job queue's slots: a live conversion lasts as long as its recording (minutes) and
// mostly waits for bytes, so holding a queue slot would stall finished uploads behind it.
import { stat } from 'node:fs/promises';
import {
  LiveConversion,
  type LiveFinishTimings,
  type LiveOptions,
  type LiveResult,
} from './live.js';

export interface LivePoolOptions extends LiveOptions {
  /** Live conversions at once; 0 turns the live path off. */
  max: number;
  /** Live conversions of one owner at once. */
  perOwner: number;
  /** Where the bytes of an upload are stored. */
  uploadPath(videoId: string): string;
  /** The folder a video's HLS files go into (must not exist yet). */
  outputDir(videoId: string): string;
  /** Each conversion's end, used or given up, with the times of its last steps (the log). */
  onFinished?(videoId: string, outcome: LiveOutcome): void;
  /** A shared take's playlist, each time it grows and once ended (live.ts, LiveShare). */
  onPlaylist?(videoId: string, text: string, dir: string): void;
}

export type LiveOutcome = LiveFinishTimings & { used: boolean; reason?: string };

/** What happened, for the tests and the bench. */
export interface LiveStats {
  started: number;
  /** Finished live and handed over for recording. */
  used: number;
  /** Gave up; the stored bytes are converted instead. */
  gaveUp: number;
}

export class LiveConversions {
  readonly stats: LiveStats = { started: 0, used: 0, gaveUp: 0 };
  private readonly running = new Map<
    string,
    { live: LiveConversion; owner: string; removed?: boolean }
  >();
  /** Uploads whose live conversion gave up: not tried again in this process. */
  private readonly passed = new Set<string>();
  private closed = false;

  constructor(private readonly options: LivePoolOptions) {}

  /**
   * Bytes of a deferred-length upload were stored: start its conversion, or feed it. A
   * `live` one (shared while recorded) hands out its growing playlist (onPlaylist).
   */
  written(videoId: string, owner: string, shared = false): void {
    const running = this.running.get(videoId);
    if (running) {
      running.live.grew();
      return;
    }
    if (this.closed || this.passed.has(videoId) || !this.hasRoomFor(owner)) return;
    const live = new LiveConversion(
      videoId,
      this.options.uploadPath(videoId),
      this.options.outputDir(videoId),
      this.options,
      shared
        ? { onPlaylist: (text, dir) => this.options.onPlaylist?.(videoId, text, dir) }
        : undefined,
    );
    this.stats.started++;
    const entry = { live, owner, removed: false };
    this.running.set(videoId, entry);
    void live.result.then((result) => {
      if (this.running.get(videoId) === entry) this.running.delete(videoId);
      this.options.onFinished?.(videoId, {
        used: result !== undefined,
        ...(result ? {} : { reason: live.failure }),
        ...live.timings,
      });
      if (result) return;
      this.stats.gaveUp++;
      if (entry.removed) return;
      this.passed.add(videoId);
      console.error(
        `reelchat: the live conversion of ${videoId} gave up (${live.failure}); ` +
          'the stored bytes are converted instead',
      );
    });
  }

  /**
   * The upload is complete. The live result, its folder in place, once it is
   * finished and checked — or undefined (now, or when it gives up): then convert the stored
   * bytes. Handed out once.
   */
  completed(videoId: string): Promise<LiveResult | undefined> | undefined {
    this.passed.delete(videoId);
    const entry = this.running.get(videoId);
    if (!entry) return undefined;
    return stat(this.options.uploadPath(videoId))
      .then(({ size }) => entry.live.complete(size))
      .then((result) => {
        if (result) this.stats.used++;
        return result;
      })
      .catch((error: unknown) => {
        entry.live.abort(error);
        return undefined;
      });
  }

  /** Whether a live conversion of this upload is running here. */
  isConverting(videoId: string): boolean {
    return this.running.has(videoId);
  }

  /** The upload is gone (terminated, expired): stop its conversion. */
  cancel(videoId: string): void {
    this.passed.delete(videoId);
    const entry = this.running.get(videoId);
    if (!entry) return;
    entry.removed = true;
    entry.live.abort(new Error('The upload was removed.'));
  }

  /** Stops every live conversion (their uploads are converted after the next start). */
  async close(): Promise<void> {
    this.closed = true;
    const results = [...this.running.values()].map((entry) => {
      entry.removed = true;
      entry.live.abort(new Error('Server stopping.'));
      return entry.live.result;
    });
    await Promise.all(results);
  }

  private hasRoomFor(owner: string): boolean {
    if (this.running.size >= this.options.max) return false;
    let ofOwner = 0;
    for (const entry of this.running.values()) if (entry.owner === owner) ofOwner++;
    return ofOwner < this.options.perOwner;
  }
}
