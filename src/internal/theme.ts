import { css } from 'lit';

/**
 * The shared palette: every element reads these `--reel-*` properties, so a site themes
 * all of reelchat at once, or one element at a time. Dark follows `prefers-color-scheme`.
 */
export const themeStyles = css`
  :host {
    --_fg: var(--reel-color-text, #16181d);
    --_bg: var(--reel-color-surface, #ffffff);
    --_muted: var(--reel-color-muted, #5b6270);
    --_accent: var(--reel-color-accent, #2557d6);
    --_on-accent: var(--reel-color-on-accent, #ffffff);
    --_danger: var(--reel-color-danger, #c62828);
    --_border: var(--reel-color-border, #d5d9e0);
    --_radius: var(--reel-radius, 12px);
    --_font: var(--reel-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    --_focus: var(--reel-focus-ring, 0 0 0 3px color-mix(in srgb, var(--_accent) 45%, transparent));
    font-family: var(--_font);
    color: var(--_fg);
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_fg: var(--reel-color-text, #eef0f4);
      --_bg: var(--reel-color-surface, #16181d);
      --_muted: var(--reel-color-muted, #a4abb8);
      --_accent: var(--reel-color-accent, #7aa2ff);
      --_on-accent: var(--reel-color-on-accent, #0b1020);
      --_danger: var(--reel-color-danger, #ff8a80);
      --_border: var(--reel-color-border, #353a45);
    }
  }
  :host([hidden]) {
    display: none !important;
  }
  button {
    font: inherit;
  }
  button:focus-visible,
  [tabindex]:focus-visible {
    outline: none;
    box-shadow: var(--_focus);
  }
  @media (prefers-reduced-motion: reduce) {
    * {
      transition: none !important;
      animation: none !important;
    }
  }
`;
