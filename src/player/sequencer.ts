import type { Clip, ReelEventDetails } from '../internal/events.js';
import { spokenDuration } from '../internal/durations.js';
import { ReelError } from '../transport/errors.js';
import type { ReelTransport } from '../transport/types.js';
import type { EngineEvents, EngineOptions, PlaybackEngine } from './engine.js';
import { Gestures } from './gestures.js';
import { LiveClips } from './live-clip.js';
import { mseSupported } from './hls-engine.js';
import { PlayerControls } from './player-controls.js';
import type { ReelPlayer } from './reel-player.js';
import type { ReelState } from './reel-state.js';
import { PlaybackFailure, withFailureStrings } from './playback-failure.js';
import type { UpFrontPlayerStrings } from './strings.js';
import { StitchEngine } from './stitch-engine.js';
import { SwapEngine } from './swap-engine.js';
import { Timers } from './timers.js';
import { bufferedAhead, Watchdog, type Stall } from './watchdog.js';

/** A clip is watched once playback is this close to its end. */
const WATCHED_SLACK = 0.3;

/** What the sequencer needs of `<reel-player>` beyond its public side. */
export interface SequencerHooks {
  /** The texts, in the element's language. */
  text(): UpFrontPlayerStrings;
  /** Fills a text's `{placeholders}` (in the element's language). */
  format(template: string, values: Record<string, string | number>): string;
  /** The locale numbers and durations follow (the element's language). */
  locale(): string;
  fail(error: ReelError): void;
  /** Starts the reel over on a new engine (at `reel.resume`, when set). */
  restart(): void;
  /** Fires one of the element's events. */
  emit<K extends 'reel-clip-change' | 'reel-clip-watched' | 'reel-ended'>(
    name: K,
    detail: ReelEventDetails[K],
  ): void;
}

/**
 * `<reel-player>`'s playback, loaded with the engines and the controls as the element
 * connects: makes the engine for the list, starts where the reel should, turns what the
 * engine reports (time, lengths, a clip that fails, the end) into the reel's state and
 * events, and keeps the stall watchdog. The element renders that state (`ReelState`) and
 * forwards the person's requests.
 */
export class Sequencer {
  private readonly timers = new Timers();
  private readonly watchdog: Watchdog;
  /** Taps, swipes and press and hold on the picture (the element forwards its events). */
  readonly gestures: Gestures;
  /** The progress, the row of buttons, the unmute button and the keyboard shortcuts. */
  readonly controls: PlayerControls;
  /** A failed playback, shown with Retry; the page's policy, watched. */
  private readonly failure: PlaybackFailure;
  /** Clips still recorded, and whether playback caught up with one (live-clip.ts). */
  private live = new LiveClips();

  constructor(
    private readonly host: ReelPlayer,
    private readonly reel: ReelState,
    private readonly hooks: SequencerHooks,
  ) {
    this.watchdog = new Watchdog(
      this.timers,
      () => ({
        time: reel.engine?.video.currentTime ?? 0,
        active: !!reel.engine && !reel.paused && !reel.ended && !reel.held,
        // At a live clip's edge the clock waits for the next segment: no stall.
        remaining: this.live.has(reel.index)
          ? Infinity
          : (reel.durations[reel.index] ?? Infinity) - reel.offset,
        ahead: bufferedAhead(reel.engine?.video),
      }),
      (stall) => {
        this.onStall(stall);
        this.changed();
      },
    );
    this.gestures = new Gestures(reel, {
      next: () => host.next(),
      back: () => host.back(),
      play: () => void host.play(),
      changed: () => this.changed(),
    });
    const text = () => withFailureStrings(hooks.text());
    this.failure = new PlaybackFailure(host, reel, {
      text,
      format: hooks.format,
      retry: (index) => this.retry(index),
      stop: () => this.pause(),
      changed: () => this.changed(),
    });
    if (host.isConnected) this.failure.watch();
    this.controls = new PlayerControls(host, reel, {
      text,
      format: hooks.format,
      locale: hooks.locale,
      failure: () => this.failure.render(),
      live: () => this.liveNow(),
    });
  }

  private changed(): void {
    this.host.requestUpdate();
  }

  /** The current clip's live state, as the controls show it. */
  private liveNow(): { edge: string } | undefined {
    const { reel } = this;
    if (!this.live.has(reel.index) || reel.ended) return undefined;
    const clip = reel.list[reel.index];
    const name = clip?.ownerName ?? clip?.owner ?? '';
    const edge =
      this.live.atEdge && name ? withFailureStrings(this.hooks.text()).stillRecording : '';
    return { edge: edge && this.hooks.format(edge, { name }) };
  }

  /** Ends the engine (the element bumps `generation` first, so its late events are ignored). */
  teardown(): void {
    this.live = new LiveClips();
    this.reel.engine?.destroy();
    this.reel.engine = undefined;
    this.watchdog.stop();
    this.timers.clearAll();
    this.gestures.reset();
    this.failure.stop();
    this.failure.reset();
  }

  /** Retry: the reel again from clip `index`, playing. */
  private retry(index: number): void {
    const clip = this.reel.list[index];
    if (clip) this.reel.resume = { id: clip.id, offset: 0, playing: true };
    this.reel.wantPlay = true;
    this.hooks.restart();
  }

  /** Plays the reel's list on `videos`: a new engine, at the start point, playing if it should. */
  async start(
    videos: [HTMLVideoElement, HTMLVideoElement],
    transport?: ReelTransport,
  ): Promise<void> {
    const { reel } = this;
    this.failure.reset();
    this.failure.watch();
    const { index, offset, playing } = this.startPoint();
    const engine = createEngine(reel.list, {
      videos,
      events: this.engineEvents(),
      request: transport?.mediaRequest ? (url: string) => transport.mediaRequest!(url) : undefined,
    });
    reel.engine = engine;
    const generation = reel.generation;
    const ended = reel.endAfterLoad;
    reel.endAfterLoad = false;
    if (ended) reel.index = reel.list.length - 1;
    await engine.load(reel.list, ended ? reel.list.length - 1 : index, offset);
    if (generation !== reel.generation) return;
    if (ended) {
      // As at the end of the reel: play starts it over.
      reel.ended = true;
      reel.note = this.hooks.text().ended;
      reel.announcement = this.hooks.text().ended;
      this.hooks.emit('reel-ended', { count: reel.list.length - reel.failed.size });
      this.changed();
      return;
    }
    if (this.host.autoplay || playing || reel.wantPlay) void this.play();
  }

  /**
   * The source list changed (not only its `watched` marks) while an engine plays the reel:
   * append when it only `grew`; when clips left it (unsent) keep the reel's place — the clip
   * playing goes on, or if it was the one that left, the next one starts; with none after
   * it, the reel has ended. Anything else starts over (`restart`).
   */
  listChanged(next: readonly Clip[], grew: boolean, restart: () => void): void {
    const { reel } = this;
    const previous = reel.list;
    reel.list = next.map((clip) => ({ ...clip }));
    if (grew) {
      this.append(next.slice(previous.length));
      return;
    }
    if (isLeftOut(next, previous)) {
      const ids = new Set(reel.list.map((clip) => clip.id));
      const current = previous[Math.max(0, reel.index)];
      const playing = !reel.paused || reel.wantPlay;
      if (current && ids.has(current.id)) {
        reel.resume = { id: current.id, offset: reel.offset, playing };
      } else {
        const after = previous.slice(Math.max(0, reel.index) + 1).find((clip) => ids.has(clip.id));
        if (after) reel.resume = { id: after.id, offset: 0, playing };
        else reel.endAfterLoad = reel.list.length > 0;
      }
    }
    restart();
  }

  /** The list grew at its end: the engine plays on into the new clips. */
  private append(added: readonly Clip[]): void {
    const { reel } = this;
    reel.durations = [...reel.durations, ...added.map((c) => c.duration ?? NaN)];
    if (reel.ended) reel.note = '';
    void reel.engine?.append(reel.list);
    this.changed();
  }

  /** Plays (or resumes); after the end, starts the reel over. */
  async play(): Promise<void> {
    this.reel.wantPlay = true;
    const engine = this.reel.engine;
    if (!engine) return;
    if (this.reel.ended) {
      this.reel.ended = false;
      engine.seek(0);
      this.changed();
    }
    const video = engine.video;
    try {
      await video.play();
    } catch (error) {
      if (engine !== this.reel.engine) return;
      if (error instanceof DOMException && error.name === 'NotAllowedError' && !this.host.muted) {
        // The browser allows autoplay only without sound: play muted, offer to unmute.
        this.host.muted = true;
        video.muted = true;
        this.reel.needsUnmute = true;
        this.changed();
        await video.play().catch(() => undefined);
      } else if (!(error instanceof DOMException && error.name === 'AbortError')) {
        this.hooks.fail(ReelError.from(error, 'media'));
      }
    }
  }

  pause(): void {
    this.reel.wantPlay = false;
    if (!this.reel.engine) return;
    this.reel.engine.video.pause();
    this.reel.paused = true;
    this.watchdog.stop();
    this.changed();
  }

  /** Goes to the start of clip `index`, playing if the reel was playing. */
  goTo(index: number, direction = 1): void {
    const engine = this.reel.engine;
    if (!engine || !Number.isInteger(index) || index < 0) return;
    let target = index;
    while (this.reel.failed.has(target) && target >= 0 && target < this.reel.list.length)
      target += direction;
    if (target < 0) target = index + 1;
    const wasEnded = this.reel.ended;
    this.reel.navigating = true;
    try {
      engine.seek(target);
    } finally {
      this.reel.navigating = false;
    }
    if (wasEnded && !this.reel.ended && this.reel.wantPlay) void this.play();
    this.changed();
  }

  onMediaEvent(event: Event): void {
    if (event.currentTarget !== this.reel.engine?.video) return;
    const video = event.currentTarget as HTMLVideoElement;
    switch (event.type) {
      case 'play':
      case 'playing':
        this.reel.paused = false;
        this.reel.ended = false;
        if (this.reel.note === this.hooks.text().ended) this.reel.note = '';
        this.watchdog.start();
        break;
      case 'pause':
        // The swap engine pauses the old video as it changes clips: that is no pause.
        if (video.ended) return;
        this.reel.paused = true;
        if (!this.reel.held) this.watchdog.stop();
        break;
    }
    this.changed();
  }

  private startPoint(): { index: number; offset: number; playing: boolean } {
    const resume = this.reel.resume;
    this.reel.resume = undefined;
    if (resume) {
      const index = this.reel.list.findIndex((clip) => clip.id === resume.id);
      if (index >= 0) return { index, offset: resume.offset, playing: resume.playing };
    }
    if (this.reel.startAt === 'unwatched') {
      const index = this.reel.list.findIndex((clip) => !clip.watched);
      return { index: Math.max(0, index), offset: 0, playing: false };
    }
    if (this.reel.startAt >= this.reel.list.length) {
      this.hooks.fail(
        new ReelError(
          'bad-request',
          `start="${this.reel.startAt}" is past the last clip (${this.reel.list.length}).`,
        ),
      );
      return { index: 0, offset: 0, playing: false };
    }
    return { index: this.reel.startAt, offset: 0, playing: false };
  }

  private engineEvents(): EngineEvents {
    const generation = this.reel.generation;
    const live = () => generation === this.reel.generation;
    // Each event changes what the element shows: it renders again after.
    const then = (change: () => void) => {
      if (!live()) return;
      change();
      this.changed();
    };
    return {
      time: (index, offset) => then(() => this.onTime(index, offset)),
      duration: (index, seconds) =>
        then(() => {
          if (this.reel.durations[index] === seconds) return;
          const durations = [...this.reel.durations];
          durations[index] = seconds;
          this.reel.durations = durations;
        }),
      ended: () => then(() => this.onEnded()),
      clipFailed: (index, error, reported) => then(() => this.onClipFailed(index, error, reported)),
      error: (error) => live() && this.hooks.fail(error),
      live: (index, isLive) => then(() => this.live.set(index, isLive)),
    };
  }

  private onTime(index: number, offset: number): void {
    if (index !== this.reel.index) {
      const previous = this.reel.index;
      if (previous >= 0 && index === previous + 1 && !this.reel.navigating)
        this.markWatched(previous);
      this.reel.index = index;
      this.reel.offset = offset;
      this.reel.ended = false;
      const clip = this.reel.list[index];
      if (clip) {
        this.announce(index);
        this.hooks.emit('reel-clip-change', { index, clip });
      }
    } else {
      this.reel.offset = offset;
    }
    const duration = this.reel.durations[index];
    // Caught up with a take still recorded: said once; not watched until it has ended.
    if (this.live.update(index, offset, duration)) {
      const edge = this.liveNow()?.edge;
      if (edge) this.reel.announcement = edge;
    }
    if (
      duration > 0 &&
      offset >= duration - WATCHED_SLACK &&
      !this.reel.navigating &&
      !this.live.has(index)
    )
      this.markWatched(index);
  }

  private onEnded(): void {
    if (this.reel.ended) return;
    if (this.reel.index >= 0) this.markWatched(this.reel.index);
    this.reel.ended = true;
    this.reel.paused = true;
    this.watchdog.stop();
    // Skipped past the last clip while it played: stop the picture too.
    const video = this.reel.engine?.video;
    if (video && !video.paused && !video.ended) video.pause();
    this.reel.note = this.hooks.text().ended;
    this.reel.announcement = this.hooks.text().ended;
    // Ended on clips that would not play: the failure panel says so, with Retry.
    if (this.failure.ended()) this.reel.note = this.reel.announcement = '';
    this.hooks.emit('reel-ended', { count: this.reel.list.length - this.reel.failed.size });
  }

  private onClipFailed(index: number, error: ReelError, reported = false): void {
    this.reel.failed = new Set([...this.reel.failed, index]);
    this.reel.note = this.hooks.format(this.hooks.text().skipped, { n: index + 1 });
    this.failure.clipFailed(error);
    if (!reported) this.hooks.fail(error);
  }

  /** Playback stopped moving although it should not (watchdog.ts): get it going, and say so. */
  private onStall(stall: Stall): void {
    const where = `${this.reel.offset.toFixed(1)} s into clip ${this.reel.index + 1}`;
    if (stall.nearEnd || stall.repeat > 0) {
      // Stuck at a join, on a last segment that never finishes, or still stuck after a nudge.
      this.hooks.fail(
        new ReelError('media', `Playback stalled ${where}; went on to the next clip.`),
      );
      if (stall.nearEnd) this.markWatched(this.reel.index);
      // Skipping a clip stuck mid-way is not watching it.
      this.reel.navigating = true;
      try {
        this.reel.engine?.seek(this.reel.index + 1);
      } finally {
        this.reel.navigating = false;
      }
      return;
    }
    // Stuck with media buffered ahead (WebKit, now and then, before its first frame): moving
    // the clock a hair gets the pipeline going.
    this.hooks.fail(new ReelError('media', `Playback stalled ${where}; nudged it on.`));
    this.reel.engine?.nudge();
  }

  private markWatched(index: number): void {
    const clip = this.reel.list[index];
    // A clip that failed (a live take withdrawn mid-way) was not watched.
    if (!clip || clip.watched || this.reel.failed.has(index)) return;
    const watched = { ...clip, watched: true };
    this.reel.list = this.reel.list.map((c, i) => (i === index ? watched : c));
    this.hooks.emit('reel-clip-watched', { index, clip: watched });
  }

  private announce(index: number): void {
    const clip = this.reel.list[index];
    const seconds = Math.round(this.reel.durations[index] || clip.duration || 0);
    const values = {
      n: index + 1,
      total: this.reel.list.length,
      owner: clip.ownerName ?? clip.owner ?? '',
      seconds,
      duration: spokenDuration(seconds, this.hooks.locale()),
    };
    this.reel.announcement = this.hooks.format(
      clip.ownerName || clip.owner ? this.hooks.text().announce : this.hooks.text().announceNoOwner,
      values,
    );
  }
}

/**
 * The engine for a list: the stitched reel on one hls.js where MSE plays H.264/AAC and every
 * clip is HLS, else two alternating `<video>` elements. (hls.js loads when an engine needs it.)
 */
function createEngine(clips: readonly Clip[], options: EngineOptions): PlaybackEngine {
  const stitchable = mseSupported() && clips.every((clip) => (clip.type ?? 'hls') === 'hls');
  return stitchable ? new StitchEngine(options) : new SwapEngine(options);
}

/** `next` is `previous` with some clips left out, the rest in the same order. */
function isLeftOut(next: readonly Clip[], previous: readonly Clip[]): boolean {
  if (next.length >= previous.length) return false;
  let at = 0;
  for (const clip of next) {
    while (at < previous.length && previous[at].id !== clip.id) at++;
    if (at === previous.length || previous[at].src !== clip.src) return false;
    at++;
  }
  return true;
}
