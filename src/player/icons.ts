import { html } from 'lit';

/** A control's icon: a 24 × 24 path, hidden from assistive technology (the button is named). */
export const icon = (path: string) =>
  html`<svg part="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
    <path d=${path}></path>
  </svg>`;

/** Up front, for the play button over the picture; the controls' other icons load with them. */
export const iconPlay = icon('M8 5v14l11-7z');
