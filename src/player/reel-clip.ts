/**
 * One clip of a `<reel-player>`, declared in markup. The player reads its attributes and
 * follows their changes; the element itself shows nothing.
 *
 * @tagname reel-clip
 * @summary A clip for `<reel-player>`: `src`, `poster`, `type`, `owner`, `owner-name`, `duration`, `watched`, `clip-id`.
 */
export class ReelClip extends HTMLElement {
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
