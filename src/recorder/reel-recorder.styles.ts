import { css } from 'lit';

/**
 * What `<reel-recorder>` shows before its camera is on: the picture area, the status and
 * the buttons. The rest (the live states, the timer, the devices, the review) is in
 * `recorder-parts.styles.ts`, added when the take lifecycle loads.
 */
export default css`
  :host {
    display: block;
    --_stage-bg: var(--reel-recorder-background, #000);
    --_stage-radius: var(--reel-recorder-radius, var(--_radius));
    --_button-radius: var(--reel-button-radius, 999px);
  }
  [hidden] {
    display: none !important;
  }
  .base {
    display: grid;
    gap: 0.75rem;
    color: var(--_fg);
    background: var(--_bg);
  }
  .stage {
    position: relative;
    aspect-ratio: var(--reel-recorder-aspect-ratio, 16 / 9);
    background: var(--_stage-bg);
    border-radius: var(--_stage-radius);
    overflow: hidden;
    display: grid;
    place-items: center;
  }
  video {
    position: absolute;
    inset: 0;
    width: 100%;
    height: 100%;
    object-fit: contain;
    background: var(--_stage-bg);
  }
  /* The status shares the stage's grid cell (over the picture) but is not inside it. */
  .stage,
  .status {
    grid-area: 1 / 1;
  }
  .status {
    z-index: 1;
    place-self: center;
    max-width: min(36ch, calc(100% - 2rem));
    margin: 1rem;
    padding: 0.5rem 0.75rem;
    border-radius: calc(var(--_radius) / 2);
    text-align: center;
    color: #fff;
    background: rgb(0 0 0 / 55%);
  }
  .status:empty {
    display: none;
  }
  .error {
    color: #fff;
    background: color-mix(in srgb, var(--_danger) 85%, #000);
  }
  .controls {
    display: flex;
    flex-wrap: wrap;
    justify-content: center;
    gap: 0.75rem;
  }
  button {
    min-height: 2.75rem;
    min-width: 6rem;
    padding: 0.5rem 1.25rem;
    border-radius: var(--_button-radius);
    border: 1px solid var(--_border);
    color: var(--_fg);
    background: var(--_bg);
    cursor: pointer;
  }
  .primary {
    border-color: transparent;
    color: var(--_on-accent);
    background: var(--_accent);
    font-weight: 600;
  }
`;
