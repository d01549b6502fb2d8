/** Registers a custom element once; a second copy of the library on the page keeps the first. */
export function defineElement(name: string, constructor: CustomElementConstructor): void {
  if (!customElements.get(name)) customElements.define(name, constructor);
}
