import { HTMLElementBase } from '../internal/define.js';

/**
 * One clip of a `<reel-player>`, declared in markup. The player reads its attributes and
 * follows their changes; the element itself shows nothing.
 *
 * @tagname reel-clip
 * @summary A clip for `<reel-player>`: `src`, `poster`, `type`, `owner`, `owner-name`, `duration`, `watched`, `clip-id`.
 *
 * @attr {string} src - The clip's media: an HLS playlist URL, or a plain video file with `type="file"`.
 * @attr {string} poster - A picture shown before the clip plays.
 * @attr {'hls' | 'file'} type - `hls` (default) or `file`, a plain video the browser plays itself.
 * @attr {string} owner - Whose clip it is (a user id).
 * @attr {string} owner-name - The owner's display name.
 * @attr {number} duration - The clip's length in seconds, if known.
 * @attr {boolean} watched - Present when the clip has been watched.
 * @attr {string} clip-id - The clip's id (events name it); defaults to the element's `id`, then `src`.
 */
export class ReelClip extends HTMLElementBase {
  connectedCallback(): void {
    if (!this.hasAttribute('hidden')) this.hidden = true;
  }

  /** The clip's media: an HLS playlist URL, or a plain video file with `type="file"`. */
  get src(): string {
    return this.getAttribute('src') ?? '';
  }

  set src(value: string) {
    this.setAttribute('src', value);
  }

  /** Whether the clip has been watched; the player starts at the first clip that has not. */
  get watched(): boolean {
    return this.hasAttribute('watched');
  }

  set watched(value: boolean) {
    this.toggleAttribute('watched', value);
  }
}
