import { css } from 'lit';

/**
 * What `<reel-recorder>` shows before its camera is on: the picture area, the status and
 * the buttons. The rest (the live states, the timer, the devices, the review) is in
 * `recorder-parts.styles.ts`, added when the take lifecycle loads.
 *
 * It fits the space it gets (its container's height, the window's): `.frame` is the room for
 * the picture (its shape's height at full width, or less: a size container), `.stage` the
 * picture in that shape, as large as fits; the status, timer and buttons stay in view. The
 * status shares the frame's grid cell (over the picture) but is not inside it. (JS comments:
 * CSS ones would ship.)
 */
export default css`
  :host {
    display: flex;
    flex-direction: column;
    max-block-size: 100%;
    --_ratio: var(--reel-recorder-aspect-ratio, 16 / 9);
    --_stage-bg: var(--reel-recorder-background, #000);
    --_stage-radius: var(--reel-recorder-radius, var(--_radius));
    --_button-radius: var(--reel-button-radius, 999px);
  }
  [hidden] {
    display: none !important;
  }
  .base {
    flex: auto;
    min-block-size: 0;
    max-block-size: 100dvh;
    display: grid;
    grid-template: minmax(0, 1fr) / minmax(0, 1fr);
    gap: 0.75rem;
    color: var(--_fg);
    background: var(--_bg);
  }
  .frame {
    container-type: size;
    display: grid;
    inline-size: 100%;
    block-size: 100%;
    aspect-ratio: var(--_ratio);
  }
  .stage {
    position: relative;
    place-self: center;
    inline-size: min(100%, 100cqh * (var(--_ratio)));
    aspect-ratio: var(--_ratio);
    background: var(--_stage-bg);
    border-radius: var(--_stage-radius);
    overflow: hidden;
  }
  .frame,
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
