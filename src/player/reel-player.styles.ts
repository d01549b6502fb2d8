import { css } from 'lit';

export default css`
  :host {
    --_player-bg: var(--reel-player-background, #000);
    --_player-radius: var(--reel-player-radius, var(--_radius));
    --_progress: var(--reel-player-progress-color, #fff);
    --_track: var(--reel-player-progress-track, rgb(255 255 255 / 35%));
    --_progress-height: var(--reel-player-progress-height, 3px);
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
  .base:focus-visible {
    outline: none;
    box-shadow: var(--_focus);
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

  .progress {
    position: absolute;
    z-index: 2;
    inset: 8px 8px auto;
    display: flex;
    gap: 4px;
    pointer-events: none;
  }
  .segment {
    flex: 1;
    height: var(--_progress-height);
    border-radius: var(--_progress-height);
    background: var(--_track);
    overflow: hidden;
  }
  .segment[data-failed] {
    background: color-mix(in srgb, var(--_danger) 70%, transparent);
  }
  .fill {
    height: 100%;
    background: var(--_progress);
    transition: width 250ms linear;
  }

  .controls {
    position: absolute;
    z-index: 2;
    inset: auto 0 0;
    display: flex;
    align-items: center;
    gap: 4px;
    padding: 24px 8px 8px;
    background: linear-gradient(transparent, rgb(0 0 0 / 45%));
    pointer-events: none;
  }
  .controls button {
    pointer-events: auto;
  }
  .controls .rate-spacer {
    flex: 1;
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
  button:disabled {
    opacity: 0.4;
    cursor: default;
  }
  button[part~='mute-button'] {
    margin-inline-start: auto;
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
    padding: 12px 20px;
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
  .note[data-error] {
    border-inline-start: 3px solid var(--_danger);
  }

  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }

  @media (prefers-reduced-motion: reduce) {
    .fill {
      transition: none;
    }
  }
`;
