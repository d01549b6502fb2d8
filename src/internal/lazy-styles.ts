import { supportsAdoptingStyleSheets, type CSSResult } from 'lit';

/** The shadow roots each lazily loaded stylesheet is in already. */
const adopted = new WeakMap<CSSResult, WeakSet<ShadowRoot>>();

/**
 * Adds the styles of a part loaded on demand (the chat's sheets and unsend confirm, the
 * recorder's live parts, the player's playback states) to one element's shadow root, once,
 * after its own: what it does not show yet costs no bytes up front. Where constructable stylesheets are missing, a `<style>` element does it
 * (with lit's nonce, as lit's own fallback).
 */
export function adoptLazyStyles(root: ShadowRoot | null, styles: CSSResult): void {
  if (!root) return;
  let roots = adopted.get(styles);
  if (!roots) adopted.set(styles, (roots = new WeakSet()));
  if (roots.has(root)) return;
  roots.add(root);
  if (supportsAdoptingStyleSheets && styles.styleSheet) {
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, styles.styleSheet];
    return;
  }
  const style = document.createElement('style');
  const nonce = (globalThis as { litNonce?: string }).litNonce;
  if (nonce !== undefined) style.setAttribute('nonce', nonce);
  style.textContent = styles.cssText;
  root.appendChild(style);
}
