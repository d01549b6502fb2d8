import type { Clip } from '../internal/events.js';
import { ReelError } from '../transport/errors.js';
import { nudgeVideo, resetVideo, type EngineOptions, type PlaybackEngine } from './engine.js';
import { HlsEngine, mseSupported, nativeHlsSupported } from './hls-engine.js';

interface Slot {
  video: HTMLVideoElement;
  /** The clip this `<video>` holds, or -1. */
  index: number;
  /** hls.js for an HLS clip where the browser has MSE but no native HLS. */
  hls?: HlsEngine;
  /** Seconds to seek to once the clip's metadata is in. */
  pendingOffset?: number;
}

/**
 * The fallback: two `<video>` elements, the one on screen plays while the other preloads the
 * next clip; on `ended` they swap. For plain files (`type: 'file'`) and for native HLS where
 * there is no MSE — anywhere stitching cannot work. Joins show a short gap (docs/player.md).
 */
export class SwapEngine implements PlaybackEngine {
  readonly kind = 'swap';
  private clips: readonly Clip[] = [];
  private readonly slots: [Slot, Slot];
  private active = 0;
  private readonly failed = new Set<number>();
  private destroyed = false;
  private finished = false;

  constructor(private readonly options: EngineOptions) {
    this.slots = [
      { video: options.videos[0], index: -1 },
      { video: options.videos[1], index: -1 },
    ];
    for (const slot of this.slots) {
      slot.video.addEventListener('timeupdate', this.onTime);
      slot.video.addEventListener('ended', this.onEnded);
      slot.video.addEventListener('loadedmetadata', this.onMetadata);
      slot.video.addEventListener('error', this.onVideoError);
    }
  }

  get video(): HTMLVideoElement {
    return this.slots[this.active].video;
  }

  async load(clips: readonly Clip[], index: number, offset: number): Promise<void> {
    this.clips = clips;
    const first = this.playableFrom(index);
    if (first < 0) {
      this.finish();
      return;
    }
    this.show(this.active);
    this.assign(this.slots[this.active], first, first === index ? offset : 0);
    this.options.events.time(first, first === index ? offset : 0);
    this.preloadAfter(first);
  }

  async append(clips: readonly Clip[]): Promise<void> {
    const before = this.clips.length;
    this.clips = clips;
    const current = this.slots[this.active].index;
    if (this.finished) {
      this.seek(before);
    } else if (
      this.slots[1 - this.active].index < 0 ||
      this.slots[1 - this.active].index < current
    ) {
      this.preloadAfter(current);
    }
  }

  seek(index: number, offset = 0): void {
    const target = this.playableFrom(index);
    if (target < 0) {
      this.finish();
      return;
    }
    const from = this.slots[this.active];
    const playing = !from.video.paused || from.video.ended;
    const other = this.slots[1 - this.active];
    this.finished = false;
    if (other.index === target) {
      from.video.pause();
      this.active = 1 - this.active;
      this.show(this.active);
      if (other.video.readyState >= 1) other.video.currentTime = target === index ? offset : 0;
      else other.pendingOffset = target === index ? offset : 0;
    } else if (from.index === target) {
      from.video.currentTime = target === index ? offset : 0;
    } else {
      this.assign(from, target, target === index ? offset : 0);
    }
    this.options.events.time(target, target === index ? offset : 0);
    if (playing) this.video.play().catch(() => undefined);
    this.preloadAfter(target);
  }

  nudge(): void {
    nudgeVideo(this.video);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const slot of this.slots) {
      slot.video.removeEventListener('timeupdate', this.onTime);
      slot.video.removeEventListener('ended', this.onEnded);
      slot.video.removeEventListener('loadedmetadata', this.onMetadata);
      slot.video.removeEventListener('error', this.onVideoError);
      slot.hls?.destroy();
      slot.hls = undefined;
      resetVideo(slot.video);
      slot.video.removeAttribute('data-active');
    }
  }

  /** The first clip at or after `index` that has not failed, or -1. */
  private playableFrom(index: number): number {
    for (let i = Math.max(0, index); i < this.clips.length; i++) if (!this.failed.has(i)) return i;
    return -1;
  }

  private show(active: number): void {
    this.slots.forEach((slot, i) => slot.video.toggleAttribute('data-active', i === active));
  }

  private assign(slot: Slot, index: number, offset = 0): void {
    const clip = this.clips[index];
    slot.hls?.destroy();
    slot.hls = undefined;
    slot.index = index;
    slot.pendingOffset = offset > 0 ? offset : undefined;
    const { video } = slot;
    video.preload = 'auto';
    if (clip.poster) video.poster = clip.poster;
    else video.removeAttribute('poster');
    if (clip.type === 'file' || nativeHlsSupported(video)) {
      video.src = clip.src;
      return;
    }
    if (!mseSupported()) {
      this.fail(slot, new ReelError('unsupported', 'This browser cannot play HLS.'));
      return;
    }
    video.removeAttribute('src');
    const hls = new HlsEngine(video, {
      request: this.options.request,
      onError: (error) => this.options.events.error(error),
      onFatal: (error, _at, reported) => this.fail(slot, error, reported),
    });
    slot.hls = hls;
    hls
      .load(clip.src, offset)
      .catch((error: unknown) => this.fail(slot, ReelError.from(error, 'media')));
  }

  /** Puts the next playable clip after `index` into the `<video>` off screen. */
  private preloadAfter(index: number): void {
    const next = this.playableFrom(index + 1);
    const other = this.slots[1 - this.active];
    if (next < 0 || other.index === next) return;
    this.assign(other, next);
  }

  private slotOf(event: Event): Slot | undefined {
    return this.slots.find((slot) => slot.video === event.currentTarget);
  }

  private readonly onTime = (event: Event): void => {
    const slot = this.slotOf(event);
    if (slot !== this.slots[this.active] || slot.index < 0 || slot.video.ended) return;
    this.options.events.time(slot.index, slot.video.currentTime);
  };

  private readonly onMetadata = (event: Event): void => {
    const slot = this.slotOf(event);
    if (!slot || slot.index < 0) return;
    if (Number.isFinite(slot.video.duration))
      this.options.events.duration(slot.index, slot.video.duration);
    if (slot.pendingOffset !== undefined) {
      slot.video.currentTime = slot.pendingOffset;
      slot.pendingOffset = undefined;
    }
  };

  private readonly onEnded = (event: Event): void => {
    if (this.slotOf(event) === this.slots[this.active]) this.advance();
  };

  private readonly onVideoError = (event: Event): void => {
    const slot = this.slotOf(event);
    if (!slot || slot.index < 0 || !slot.video.error || slot.hls) return;
    this.fail(
      slot,
      new ReelError(
        'media',
        `Clip ${slot.index + 1} could not be played (${slot.video.error.message || slot.video.error.code}).`,
      ),
    );
  };

  /** The clip on screen ended: the preloaded one takes its place and plays. */
  private advance(): void {
    const current = this.slots[this.active].index;
    const next = this.playableFrom(current + 1);
    if (next < 0) {
      this.finish();
      return;
    }
    const other = this.slots[1 - this.active];
    if (other.index !== next) this.assign(other, next);
    this.active = 1 - this.active;
    this.show(this.active);
    other.video.play().catch(() => undefined);
    this.options.events.time(next, 0);
    this.preloadAfter(next);
  }

  private fail(slot: Slot, error: ReelError, reported = false): void {
    if (this.destroyed || slot.index < 0 || this.failed.has(slot.index)) return;
    const index = slot.index;
    this.failed.add(index);
    this.options.events.clipFailed(index, error, reported);
    if (slot === this.slots[this.active]) {
      const playing = !slot.video.paused;
      slot.hls?.destroy();
      slot.hls = undefined;
      this.seek(index + 1);
      if (playing) this.video.play().catch(() => undefined);
    } else {
      this.preloadAfter(index);
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.options.events.ended();
  }
}
