import { html, nothing, type TemplateResult } from 'lit';
import { clock } from '../internal/clock.js';
import type { RecorderSession } from './recorder-session.js';
import type { RecorderText as T, RecorderView } from './recorder-view.js';

/**
 * The review of a take with the recorder's own controls (play/pause, a scrubber, the time)
 * instead of the browser's: Chromium's MediaRecorder writes WebM/Matroska without a length
 * (`duration` is Infinity), so native controls read 0:00 and cannot seek. The scrubber's
 * length is the one the recorder measured; the video's own once it knows a finite one.
 * Escape asks before the take is thrown away (`confirmDiscard`).
 */
export function renderReview(
  view: RecorderView,
  t: T,
  session: RecorderSession,
): TemplateResult | typeof nothing {
  if (view.state !== 'reviewing' || !view.reviewUrl) return nothing;
  const review = session.review;
  const length = review.length(view.elapsed);
  const at = Math.min(review.time, length);
  const time = (seconds: number) => clock(seconds, t.locale);
  const spoken = t('reviewTime', { time: time(at), length: time(length) });
  return html`<div part="review-box" class="review-box">
      <video
        part="review"
        class="review"
        src=${view.reviewUrl}
        aria-label=${t('review')}
        playsinline
        @loadedmetadata=${review.loaded}
        @durationchange=${review.durationChanged}
        @timeupdate=${review.timeChanged}
        @play=${review.playingChanged}
        @pause=${review.playingChanged}
        @ended=${review.playingChanged}
        @click=${review.toggle}
      ></video>
      <div part="review-controls" class="review-controls">
        <button
          part="button review-play-button"
          class="review-play"
          type="button"
          aria-label=${t(review.playing ? 'pause' : 'play')}
          @click=${review.toggle}
        >
          <span aria-hidden="true">${review.playing ? '❚❚' : '▶'}</span>
        </button>
        <input
          part="scrubber"
          class="scrubber"
          type="range"
          min="0"
          max=${length}
          step="0.05"
          .value=${String(at)}
          aria-label=${t('seek')}
          aria-valuetext=${spoken}
          @input=${review.seek}
        />
        <span part="review-time" class="review-time" aria-hidden="true"
          >${time(at)} / ${time(length)}</span
        >
      </div>
    </div>
    ${view.confirmDiscard ? renderDiscardConfirm(t, session) : nothing}`;
}

function renderDiscardConfirm(t: T, session: RecorderSession): TemplateResult {
  return html`<div
    part="discard-confirm"
    class="discard-confirm"
    role="alertdialog"
    aria-labelledby="discard-question"
  >
    <span id="discard-question">${t('discardQuestion')}</span>
    <button
      part="button discard-button"
      class="discard"
      type="button"
      @click=${() => session.discardReviewed()}
    >
      ${t('discard')}
    </button>
    <button
      part="button keep-button"
      class="keep"
      type="button"
      @click=${() => session.keepReviewed()}
    >
      ${t('keep')}
    </button>
  </div>`;
}

/** The review video's state for the own controls: where it is, whether it plays, its length. */
export class ReviewState {
  time = 0;
  playing = false;
  /** The video's own length once it knows a finite one. */
  private known?: number;
  /** Chromium learns a length-less WebM's length by seeking far past its end once. */
  private probing = false;

  constructor(private readonly changed: () => void) {}

  reset(): void {
    this.time = 0;
    this.playing = false;
    this.known = undefined;
    this.probing = false;
  }

  /** The scrubber's length: the video's, else the one the recorder measured. */
  length(measured: number): number {
    return Math.max(0.1, this.known ?? measured);
  }

  readonly loaded = (event: Event): void => {
    const video = event.target as HTMLVideoElement;
    if (Number.isFinite(video.duration)) {
      this.known = video.duration;
      this.changed();
      return;
    }
    this.probing = true;
    video.currentTime = 1e101;
  };

  readonly durationChanged = (event: Event): void => {
    const video = event.target as HTMLVideoElement;
    if (!Number.isFinite(video.duration)) return;
    this.known = video.duration;
    if (this.probing) {
      this.probing = false;
      video.currentTime = 0;
    }
    this.changed();
  };

  readonly timeChanged = (event: Event): void => {
    if (this.probing) return;
    this.time = (event.target as HTMLVideoElement).currentTime;
    this.changed();
  };

  readonly playingChanged = (event: Event): void => {
    const video = event.target as HTMLVideoElement;
    this.playing = !video.paused && !video.ended;
    this.changed();
  };

  readonly toggle = (event: Event): void => {
    const video = (event.currentTarget as HTMLElement)
      .closest('.review-box')
      ?.querySelector<HTMLVideoElement>('video');
    if (!video) return;
    if (video.paused || video.ended) void video.play().catch(() => undefined);
    else video.pause();
  };

  readonly seek = (event: Event): void => {
    const input = event.target as HTMLInputElement;
    const video = input.closest('.review-box')?.querySelector<HTMLVideoElement>('video');
    if (!video) return;
    this.probing = false;
    video.currentTime = Number(input.value);
    this.time = Number(input.value);
    this.changed();
  };
}
