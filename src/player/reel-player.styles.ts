import { css } from 'lit';

// What shows before playback is in: the picture, the play button over it and the note. The
// progress, the row of buttons, the failure looks and the live region's (empty until
// playback announces a clip) come with the controls (player-controls.styles.ts).
export default css`
  :host {
    --_player-bg: var(--reel-player-background, #000);
    --_player-radius: var(--reel-player-radius, var(--_radius));
    --_control: var(--reel-player-control-color, #fff);
    display: block;
    position: relative;
    max-width: 100%;
  }

  .base {
    position: relative;
    aspect-ratio: var(--reel-player-aspect-ratio, 16 / 9);
    background: var(--_player-bg);
    border-radius: var(--_player-radius);
    overflow: hidden;
    color: var(--_control);
    user-select: none;
    -webkit-user-select: none;
    touch-action: pan-y;
  }

  .stage {
    position: absolute;
    inset: 0;
    cursor: pointer;
  }
  .video {
    position: absolute;
    inset: 0;
    width: 100%;
    height: 100%;
    object-fit: contain;
    background: var(--_player-bg);
    visibility: hidden;
  }
  .video[data-active] {
    visibility: visible;
  }

  button {
    display: inline-flex;
    align-items: center;
    justify-content: center;
    min-width: 40px;
    height: 40px;
    padding: 0 8px;
    border: 0;
    border-radius: 20px;
    background: transparent;
    color: var(--_control);
    cursor: pointer;
  }
  button:hover {
    background: rgb(255 255 255 / 15%);
  }
  svg {
    width: 24px;
    height: 24px;
    fill: currentColor;
  }

  .overlay {
    position: absolute;
    z-index: 3;
    inset: 50% auto auto 50%;
    transform: translate(-50%, -50%);
    gap: 8px;
    height: auto;
    min-height: 56px;
    padding: 12px;
    border-radius: 28px;
    background: rgb(0 0 0 / 55%);
    font-weight: 600;
  }
  .overlay:hover {
    background: rgb(0 0 0 / 70%);
  }
  .overlay svg {
    width: 32px;
    height: 32px;
  }

  .note {
    position: absolute;
    z-index: 2;
    inset: 20px 8px auto;
    margin: 0;
    padding: 6px 10px;
    border-radius: 8px;
    background: rgb(0 0 0 / 60%);
    color: #fff;
    font-size: 0.875rem;
    text-align: center;
    pointer-events: none;
  }
`;
