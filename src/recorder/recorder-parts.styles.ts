import { css } from 'lit';

/**
 * `<reel-recorder>`'s styles for what it shows once the camera is on (the live preview,
 * the timer, the device choices, the review, sending): loaded with the take lifecycle and
 * added to the element's shadow root after its own (`reel-recorder.styles.ts`).
 *
 * Record and Stop are white on the danger red of the light theme in both themes: the dark
 * theme's danger (a light red, for text on dark) under white fails contrast (axe).
 */
export default css`
  :host {
    --_record: var(--reel-recorder-record-color, var(--reel-color-danger, #c62828));
  }
  /* The take's shape (take-shape.ts): the attribute's, else portrait on an upright screen. */
  :host([shape='portrait']) {
    --_ratio: var(--reel-recorder-aspect-ratio, 9 / 16);
  }
  @media (orientation: portrait) {
    :host(:not([shape='landscape'], [shape='square'])) {
      --_ratio: var(--reel-recorder-aspect-ratio, 9 / 16);
    }
  }
  :host([shape='square']) {
    --_ratio: 1;
  }
  /* A square take is a round "video note": the picture fills the circle; the timer and the
     review's controls stay whole over its corners. */
  :host([shape='square']) .stage {
    background: none;
  }
  :host([shape='square']) video {
    border-radius: 50%;
    object-fit: cover;
  }
  video {
    position: absolute;
    inset: 0;
    width: 100%;
    height: 100%;
    object-fit: contain;
    background: var(--_stage-bg);
  }
  /* The preview is a mirror, as people expect of a front camera; the recording is not. */
  .preview.mirrored {
    transform: scaleX(-1);
  }
  .base[data-state='recording'] .status,
  .base[data-state='previewing'] .status {
    align-self: end;
    margin: 0 0 0.75rem;
    font-size: 0.875em;
  }
  /* The review's video has its own controls at the bottom: the text goes below the video. */
  .base[data-state='reviewing'] .status {
    grid-area: 2 / 1;
    margin: 0;
    padding: 0;
    font-size: 0.875em;
    color: var(--_fg);
    background: none;
  }
  .base[data-state='recording'] .status {
    /* The timer says it; the status stays for screen readers. */
    clip-path: inset(50%);
    width: 1px;
    height: 1px;
    overflow: hidden;
    padding: 0;
  }
  .timer {
    position: absolute;
    inset-block-start: 0.75rem;
    inset-inline-start: 0.75rem;
    display: flex;
    align-items: center;
    gap: 0.5rem;
    padding: 0.25rem 0.625rem;
    border-radius: 999px;
    color: #fff;
    background: rgb(0 0 0 / 55%);
    font-variant-numeric: tabular-nums;
  }
  .indicator {
    width: 0.625rem;
    height: 0.625rem;
    border-radius: 50%;
    background: var(--_record);
    animation: pulse 1s ease-in-out infinite alternate;
  }
  .countdown {
    opacity: 0.85;
  }
  .countdown.ending {
    color: #ffb4a8;
    font-weight: 600;
    opacity: 1;
  }
  @keyframes pulse {
    to {
      opacity: 0.3;
    }
  }
  .progress {
    width: 100%;
    accent-color: var(--_accent);
  }
  .devices {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem 1rem;
    align-items: end;
    font-size: 0.875em;
    color: var(--_muted);
  }
  .devices:empty {
    display: none;
  }
  .devices label {
    display: grid;
    gap: 0.25rem;
  }
  select {
    font: inherit;
    color: var(--_fg);
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) / 2);
    padding: 0.375rem 0.5rem;
    max-width: 18rem;
  }
  select:focus-visible {
    outline: none;
    box-shadow: var(--_focus);
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  .primary.record,
  .primary.stop {
    color: #fff;
    background: var(--_record);
  }
  .primary.stop::before,
  .primary.record::before {
    content: '';
    display: inline-block;
    width: 0.7em;
    height: 0.7em;
    margin-inline-end: 0.5em;
    background: currentColor;
    border-radius: 50%;
  }
  .primary.stop::before {
    width: 0.625em;
    height: 0.625em;
    border-radius: 2px;
  }
  /* The review: the take with the recorder's own controls over its foot. */
  .review-box {
    position: absolute;
    inset: 0;
  }
  .review-controls {
    position: absolute;
    inset-inline: 0;
    inset-block-end: 0;
    display: flex;
    align-items: center;
    gap: 0.5rem;
    padding: 0.5rem 0.75rem;
    color: #fff;
    background: linear-gradient(transparent, rgb(0 0 0 / 65%));
    font-variant-numeric: tabular-nums;
    font-size: 0.875em;
  }
  .review-play {
    flex: none;
    inline-size: 2.75rem;
    min-width: 0;
    padding: 0;
    border-radius: 50%;
    color: #fff;
    background: rgb(0 0 0 / 45%);
    border-color: rgb(255 255 255 / 60%);
  }
  .scrubber {
    flex: 1;
    min-inline-size: 0;
    accent-color: var(--_accent);
  }
  .scrubber:focus-visible {
    outline: none;
    box-shadow: var(--_focus);
  }
  /* Over the top of the picture (it is rendered in the stage, beside the review). */
  .discard-confirm {
    position: absolute;
    inset-block-start: 0.5rem;
    inset-inline: 0.5rem;
    z-index: 1;
    color: var(--_fg);
    background: var(--_bg);
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5rem;
    padding: 0.5rem 0.75rem;
    border: 1px solid var(--_danger);
    border-radius: calc(var(--_radius) / 2);
  }
  .discard-confirm span {
    flex: 1;
  }
  .discard {
    color: #fff;
    background: var(--_danger);
  }
`;
