import { css } from 'lit';
import { themeStyles } from '../internal/theme.js';

export default [
  themeStyles,
  css`
    :host {
      --_bubble-radius: var(--reel-bubble-radius, var(--_radius));
      --_own: var(--reel-bubble-own, var(--_accent));
      --_own-text: var(--reel-bubble-own-text, var(--_on-accent));
      --_other: var(--reel-bubble-other, color-mix(in srgb, var(--_fg) 8%, var(--_bg)));
      --_other-text: var(--reel-bubble-other-text, var(--_fg));
      --_video-width: var(--reel-video-width, 240px);
      display: block;
      block-size: var(--reel-chat-height, 36rem);
      min-inline-size: 0;
      box-sizing: border-box;
    }
    *,
    *::before,
    *::after {
      box-sizing: border-box;
    }

    .base {
      position: relative;
      container-type: inline-size;
      block-size: 100%;
      inline-size: 100%;
      overflow: hidden;
      background: var(--_bg);
      color: var(--_fg);
      border: 1px solid var(--_border);
      border-radius: var(--_radius);
    }
    .main {
      display: flex;
      flex-direction: column;
      block-size: 100%;
      min-block-size: 0;
    }

    .header {
      display: flex;
      align-items: center;
      flex-wrap: wrap;
      gap: 0.5rem;
      padding: 0.5rem 0.75rem;
      border-block-end: 1px solid var(--_border);
    }
    .title {
      flex: 1 1 6rem;
      min-inline-size: 0;
      font-weight: 600;
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    button {
      cursor: pointer;
      color: inherit;
    }
    button:disabled {
      cursor: default;
      opacity: 0.55;
    }
    .play-all,
    .load-older,
    .retry,
    .unsend,
    .error button {
      display: inline-flex;
      align-items: center;
      gap: 0.35rem;
      max-inline-size: 100%;
      padding: 0.3rem 0.7rem;
      border: 1px solid var(--_border);
      border-radius: 999px;
      background: transparent;
      font-size: 0.875rem;
      text-align: start;
    }
    .badge {
      padding: 0 0.45rem;
      border-radius: 999px;
      background: var(--_accent);
      color: var(--_on-accent);
      font-size: 0.75rem;
      font-weight: 600;
      white-space: nowrap;
    }

    .offline:not(.on) {
      /* Empty but present, so the status is announced when it fills. */
      padding: 0;
      border: 0;
    }
    .offline,
    .error {
      padding: 0.4rem 0.75rem;
      font-size: 0.875rem;
      background: color-mix(in srgb, var(--_muted) 15%, var(--_bg));
      border-block-end: 1px solid var(--_border);
    }
    .error {
      display: flex;
      flex-wrap: wrap;
      gap: 0.5rem;
      align-items: center;
      color: var(--_danger);
      overflow-wrap: anywhere;
    }

    .list-wrap {
      position: relative;
      flex: 1 1 auto;
      min-block-size: 0;
      display: flex;
    }
    .list {
      flex: 1 1 auto;
      min-inline-size: 0;
      overflow-y: auto;
      overflow-x: hidden;
      overflow-anchor: none;
      overscroll-behavior: contain;
      padding: 0.5rem 0.75rem;
      display: flex;
      flex-direction: column;
      gap: 0.4rem;
    }
    .list:focus-visible {
      outline: none;
      box-shadow: inset var(--_focus);
    }
    .history {
      display: flex;
      justify-content: center;
      min-block-size: 2rem;
      align-items: center;
      color: var(--_muted);
      font-size: 0.8125rem;
      text-align: center;
    }

    .message {
      display: flex;
      flex-direction: column;
      align-items: flex-start;
      max-inline-size: 100%;
    }
    .message.own {
      align-items: flex-end;
    }
    .bubble {
      max-inline-size: min(85%, 36rem);
      padding: 0.45rem 0.7rem;
      border-radius: var(--_bubble-radius);
      background: var(--_other);
      color: var(--_other-text);
      overflow-wrap: anywhere;
    }
    .own .bubble {
      background: var(--_own);
      color: var(--_own-text);
    }
    .bubble.pending {
      opacity: 0.7;
    }
    .bubble.failed {
      outline: 2px solid var(--_danger);
    }
    .author {
      display: block;
      font-size: 0.75rem;
      font-weight: 600;
      margin-block-end: 0.15rem;
    }
    .text {
      margin: 0;
      white-space: pre-wrap;
    }
    .text a {
      color: inherit;
      text-decoration: underline;
    }
    .text a:focus-visible {
      outline: 2px solid currentColor;
      outline-offset: 2px;
    }
    .meta {
      display: flex;
      gap: 0.4rem;
      align-items: center;
      flex-wrap: wrap;
      padding-inline: 0.25rem;
      font-size: 0.75rem;
      color: var(--_muted);
    }
    .status.failed {
      color: var(--_danger);
      font-weight: 600;
    }
    .retry,
    .unsend {
      padding: 0.1rem 0.5rem;
      font-size: 0.75rem;
    }
    .seen {
      font-weight: 600;
    }
    /* Where there is a pointer that hovers, Unsend shows on the message it is over or in. */
    @media (hover: hover) {
      .message:not(:hover, :focus-within) .unsend {
        opacity: 0;
      }
    }
    /* An unsent message keeps its place, as an outline with a muted note. */
    .bubble.deleted,
    .own .bubble.deleted {
      background: transparent;
      color: var(--_muted);
      border: 1px dashed var(--_border);
    }
    .deleted-text {
      margin: 0;
      font-style: italic;
    }

    .video {
      position: relative;
      display: grid;
      place-items: center;
      inline-size: min(var(--_video-width), 100%);
      min-inline-size: min(10rem, 100%);
      aspect-ratio: 4 / 3;
      border-radius: calc(var(--_bubble-radius) - 4px);
      overflow: hidden;
      background: #000;
      color: #fff;
    }
    /* A video is its own frame: a thin edge, this person's a light tint of their colour. */
    .bubble:has(.video) {
      padding: 2px;
      inline-size: min(calc(var(--_video-width) + 4px), 85%);
    }
    .own .bubble:has(.video) {
      background: color-mix(in srgb, var(--_own) 30%, transparent);
    }
    .video.uploading,
    .video.loading {
      aspect-ratio: auto;
      min-block-size: 4rem;
      padding: 0.5rem;
    }
    .video > * {
      grid-area: 1 / 1;
    }
    .poster {
      inline-size: 100%;
      block-size: 100%;
      object-fit: cover;
      opacity: 0.6;
    }
    .video-state {
      z-index: 1;
      padding: 0.25rem 0.5rem;
      font-size: 0.8125rem;
      text-align: center;
    }
    .video-state.failed {
      color: #ffb4ab;
    }
    .live-badge {
      z-index: 1;
      align-self: start;
      justify-self: start;
      margin: 0.35rem;
      padding: 0.05rem 0.4rem;
      border-radius: 4px;
      background: #d93025;
      color: #fff;
      font-size: 0.75rem;
      font-weight: 600;
      text-transform: uppercase;
    }
    .video.live .live-state {
      align-self: end;
      margin-block-end: 0.25rem;
    }
    .video progress {
      align-self: end;
      inline-size: 90%;
      margin-block-end: 0.25rem;
      z-index: 1;
    }
    /* On its way: the state, the progress and (stalled or failed) Cancel, one under another. */
    .video.uploading {
      display: flex;
      flex-direction: column;
      align-items: center;
      justify-content: center;
      gap: 0.35rem;
    }
    .video.uploading progress {
      align-self: center;
      margin: 0;
    }
    .cancel-upload {
      padding: 0.15rem 0.7rem;
      border: 1px solid currentColor;
      border-radius: 999px;
      background: transparent;
      color: inherit;
      font: inherit;
      font-size: 0.8125rem;
    }
    .play {
      z-index: 1;
      inline-size: 3rem;
      block-size: 3rem;
      border-radius: 50%;
      border: 2px solid #fff;
      background: rgb(0 0 0 / 0.55);
      color: #fff;
      font-size: 1.1rem;
    }
    .play:hover {
      background: rgb(0 0 0 / 0.75);
    }
    .player {
      display: block;
      inline-size: 100%;
      block-size: 100%;
    }
    .duration {
      z-index: 1;
      align-self: end;
      justify-self: end;
      margin: 0.25rem;
      padding: 0 0.3rem;
      border-radius: 4px;
      background: rgb(0 0 0 / 0.6);
      font-size: 0.75rem;
      pointer-events: none;
    }
    /* Over a player: at the top, under its progress bar (its buttons are at the bottom). */
    .video:has(.player) .duration {
      align-self: start;
      margin-block-start: 1rem;
    }

    .pill {
      position: absolute;
      inset-block-end: 0.5rem;
      /* Centred the same way in either direction. */
      inset-inline: 0;
      margin-inline: auto;
      width: max-content;
      padding: 0.3rem 0.8rem;
      border: none;
      border-radius: 999px;
      background: var(--_accent);
      color: var(--_on-accent);
      box-shadow: 0 2px 8px rgb(0 0 0 / 0.25);
      white-space: nowrap;
      font-size: 0.875rem;
    }

    .composer {
      display: flex;
      align-items: flex-end;
      gap: 0.4rem;
      padding: 0.5rem;
      border-block-start: 1px solid var(--_border);
    }
    .field {
      flex: 1 1 auto;
      min-inline-size: 0;
      display: flex;
      flex-direction: column;
    }
    .input {
      inline-size: 100%;
      min-block-size: 2.5rem;
      max-block-size: 8rem;
      field-sizing: content;
      resize: none;
      padding: 0.5rem 0.65rem;
      border: 1px solid var(--_border);
      border-radius: calc(var(--_radius) - 2px);
      background: transparent;
      color: inherit;
      font: inherit;
    }
    .input:focus-visible {
      outline: none;
      box-shadow: var(--_focus);
    }
    .counter {
      font-size: 0.75rem;
      color: var(--_muted);
      text-align: end;
    }
    .counter:empty {
      display: none;
    }
    .counter.over {
      color: var(--_danger);
    }
    .send,
    .record {
      flex: none;
      block-size: 2.5rem;
      border-radius: calc(var(--_radius) - 2px);
      border: 1px solid transparent;
    }
    .send {
      padding: 0 0.9rem;
      background: var(--_accent);
      color: var(--_on-accent);
      font-weight: 600;
    }
    .record {
      inline-size: 2.5rem;
      display: grid;
      place-items: center;
      background: transparent;
      border-color: var(--_border);
    }
    .record-dot {
      inline-size: 0.9rem;
      block-size: 0.9rem;
      border-radius: 50%;
      background: var(--_danger);
    }

    .sr-only {
      position: absolute;
      inline-size: 1px;
      block-size: 1px;
      overflow: hidden;
      clip-path: inset(50%);
      white-space: nowrap;
    }

    @container (min-width: 40rem) {
      .list {
        padding-inline: 1.25rem;
      }
      .bubble {
        max-inline-size: min(70%, 40rem);
      }
    }
  `,
];
