/**
 * Registers a custom element once; a second copy of the library on the page keeps the first.
 * Only in a browser: on a server (Node, where lit puts a stand-in `customElements` on
 * globalThis) an import defines nothing, so server-side rendering imports the library safely.
 */
export function defineElement(name: string, constructor: CustomElementConstructor): void {
  if (typeof document === 'undefined' || typeof customElements === 'undefined') return;
  if (!customElements.get(name)) customElements.define(name, constructor);
}

/**
 * `HTMLElement` in a browser; on a server (no DOM) an empty stand-in, so a module declaring an
 * element class that extends it (not a LitElement, which lit shims itself) still imports.
 */
export const HTMLElementBase: typeof HTMLElement =
  globalThis.HTMLElement ?? (class {} as unknown as typeof HTMLElement);
