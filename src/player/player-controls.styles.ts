import { css } from 'lit';

// The controls' styles, added to the player's shadow root when they load (after its own).
// Both rows are absolutely placed over the picture: their arrival shifts nothing. The live
// region's rule is here too: it is empty until playback announces a clip. Reduced motion
// stops the fill's transition through the shared theme.
export default css`
  :host {
    --_progress: var(--reel-player-progress-color, #fff);
    --_track: var(--reel-player-progress-track, rgb(255 255 255 / 35%));
    --_progress-height: var(--reel-player-progress-height, 3px);
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

  /* Who and when, under the progress (Stories' look); the play button alone is round. */
  .caption {
    position: absolute;
    z-index: 2;
    inset: 18px 12px auto;
    margin: 0;
    overflow: hidden;
    color: #fff;
    font-size: 0.8125rem;
    white-space: nowrap;
    text-overflow: ellipsis;
    text-shadow: 0 1px 2px rgb(0 0 0 / 70%);
    pointer-events: none;
  }
  .caption .name {
    font-weight: 600;
  }
  .overlay[part~='unmute-button'] {
    padding-inline: 20px;
  }

  /* A clip still recorded: the badge under the progress, and the line once caught up. */
  .live {
    position: absolute;
    z-index: 2;
    inset: 18px 8px auto;
    margin: 0;
    display: flex;
    align-items: center;
    gap: 8px;
    color: #fff;
    font-size: 0.8125rem;
    text-shadow: 0 1px 2px rgb(0 0 0 / 60%);
    pointer-events: none;
  }
  .badge {
    padding: 1px 6px;
    border-radius: 4px;
    background: var(--_danger);
    font-weight: 600;
    text-shadow: none;
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
  button:disabled {
    opacity: 0.4;
    cursor: default;
  }
  button[part~='mute-button'] {
    margin-inline-start: auto;
  }

  .note[data-error] {
    border-inline-start: 3px solid var(--_danger);
  }

  /* Over the whole picture and the controls (which can do nothing then); Retry is the way on. */
  .failure {
    position: absolute;
    z-index: 3;
    inset: 0;
    display: flex;
    flex-direction: column;
    align-items: center;
    justify-content: center;
    gap: 10px;
    padding: 16px;
    background: rgb(0 0 0 / 72%);
    color: #fff;
    text-align: center;
  }
  .failure-message {
    max-width: 28rem;
    padding-inline-start: 10px;
    border-inline-start: 3px solid var(--_danger);
  }
  .failure p {
    margin: 0;
    font-size: 0.9375rem;
    line-height: 1.35;
  }
  .failure .failure-detail {
    font-family: ui-monospace, monospace;
    font-size: 0.8125rem;
    opacity: 0.85;
    overflow-wrap: anywhere;
  }
  .retry {
    min-height: 40px;
    padding: 0 18px;
    border: 1px solid rgb(255 255 255 / 70%);
    font-weight: 600;
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
`;
