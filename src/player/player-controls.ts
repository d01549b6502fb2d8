import { html, nothing, type TemplateResult } from 'lit';
import type { Clip } from '../internal/events.js';
import type { PlayerStrings } from './strings.js';

/** What `<reel-player>`'s controls show; the element passes it at each render. */
export interface ControlsState {
  s: PlayerStrings;
  /** Fills a text's `{placeholders}` (in the element's language). */
  format(template: string, values: Record<string, string | number>): string;
  total: number;
  showPlay: boolean;
  muted: boolean;
  needsUnmute: boolean;
  rate: number;
}

/** What the controls ask of the element. */
export interface ControlsActions {
  back(): void;
  next(): void;
  togglePlay(): void;
  toggleMute(): void;
  cycleRate(): void;
  unmute(): void;
}

/** Where the reel is, for its per-clip progress segments. */
export interface ProgressState {
  list: readonly Clip[];
  durations: readonly number[];
  index: number;
  offset: number;
  ended: boolean;
  failed: ReadonlySet<number>;
}

/** One segment per clip: full when played, filling while it plays. */
export function renderProgress(state: ControlsState, at: ProgressState): TemplateResult {
  const { s, total } = state;
  // Media stay left to right in any language (they follow time, as players everywhere do).
  return html`<div part="progress" class="progress" dir="ltr">
    ${at.list.map((clip, i) => {
      const duration = at.durations[i];
      const value =
        i < at.index || (i === at.index && at.ended)
          ? 100
          : i === at.index && duration > 0
            ? Math.min(100, Math.round((at.offset / duration) * 100))
            : 0;
      const parts = [
        'segment',
        clip.watched ? 'segment-watched' : '',
        at.failed.has(i) ? 'segment-failed' : '',
        i === at.index ? 'segment-current' : '',
      ].join(' ');
      return html`<div
        part=${parts}
        class="segment"
        role="progressbar"
        aria-label=${state.format(s.clipProgress, { n: i + 1, total })}
        aria-valuemin="0"
        aria-valuemax="100"
        aria-valuenow=${value}
        ?data-failed=${at.failed.has(i)}
      >
        <div part="segment-fill" class="fill" style="width: ${value}%"></div>
      </div>`;
    })}
  </div>`;
}

/** The large button over the picture: unmute (autoplay had to mute), or play when paused. */
export function renderOverlay(
  state: ControlsState,
  actions: ControlsActions,
): TemplateResult | typeof nothing {
  const { s } = state;
  if (state.needsUnmute)
    return html`<button
      part="overlay-button unmute-button"
      class="overlay"
      @click=${actions.unmute}
    >
      ${iconMuted} <span>${s.tapToUnmute}</span>
    </button>`;
  if (state.showPlay)
    return html`<button
      part="overlay-button"
      class="overlay"
      aria-label=${s.play}
      @click=${actions.togglePlay}
    >
      ${iconPlay}
    </button>`;
  return nothing;
}

/** The row of buttons: back, play / pause, mute, speed, next. */
export function renderControls(state: ControlsState, actions: ControlsActions): TemplateResult {
  const { s, total, showPlay, muted, rate } = state;
  const rateText = state.format(s.rate, { rate });
  return html`<div part="controls" class="controls" dir="ltr">
    <button
      part="button back-button"
      aria-label=${s.back}
      ?disabled=${total === 0}
      @click=${actions.back}
    >
      ${iconBack}
    </button>
    <button
      part="button play-button"
      aria-label=${showPlay ? s.play : s.pause}
      ?disabled=${total === 0}
      @click=${actions.togglePlay}
    >
      ${showPlay ? iconPlay : iconPause}
    </button>
    <button
      part="button mute-button"
      aria-label=${muted ? s.unmute : s.mute}
      aria-pressed=${muted ? 'true' : 'false'}
      @click=${actions.toggleMute}
    >
      ${muted ? iconMuted : iconSound}
    </button>
    <button
      part="button rate-button"
      aria-label=${state.format(s.speed, { rate: rateText })}
      @click=${actions.cycleRate}
    >
      <span part="icon">${rateText}</span>
    </button>
    <button
      part="button next-button"
      aria-label=${s.next}
      ?disabled=${total === 0}
      @click=${actions.next}
    >
      ${iconNext}
    </button>
  </div>`;
}

const icon = (path: string) =>
  html`<svg part="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
    <path d=${path}></path>
  </svg>`;
const iconPlay = icon('M8 5v14l11-7z');
const iconPause = icon('M6 5h4v14H6zm8 0h4v14h-4z');
const iconBack = icon('M6 6h2v12H6zm3.5 6 8.5 6V6z');
const iconNext = icon('M16 6h2v12h-2zM6 18l8.5-6L6 6z');
const iconSound = icon('M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4z');
const iconMuted = icon(
  'M16.5 12A4.5 4.5 0 0 0 14 8v2.2l2.5 2.5v-.7zM19 12c0 .9-.2 1.8-.5 2.6l1.5 1.5A8.8 8.8 0 0 0 21 12a9 9 0 0 0-7-8.8v2.1A7 7 0 0 1 19 12zM4.3 3 3 4.3 7.7 9H3v6h4l5 5v-6.7l4.3 4.3c-.7.5-1.4.9-2.3 1.2v2.1a9 9 0 0 0 3.7-1.8l2 2 1.3-1.3-9-9L4.3 3zM12 4 9.9 6.1 12 8.2V4z',
);
