import type { PropertyDeclaration, ReactiveElement } from 'lit';

/** A TypeScript experimentalDecorators field or accessor decorator. */
type LegacyDecorator = (proto: object, name: PropertyKey) => void;

/**
 * Lit's `@property` and `@state`, the experimentalDecorators form only (this code base's):
 * lit's own also carry the standard-decorators form, which costs each element's entry
 * ~0.3 KB gzip up front. Named as lit's, so the manifest analyzer reads them as lit's.
 * `<reel-player>` and `ConnectedElement` use lit's `static properties` instead: any
 * decorator brings TypeScript's helper, which esbuild puts in a chunk of its own (the
 * player's entry has no other use for it).
 */
export function property(options?: PropertyDeclaration): LegacyDecorator {
  return (proto, name) => {
    // An accessor's descriptor is returned, or TypeScript puts the undecorated one back.
    const accessor = Object.hasOwn(proto, name);
    (proto.constructor as typeof ReactiveElement).createProperty(name, options);
    return accessor ? Object.getOwnPropertyDescriptor(proto, name) : undefined;
  };
}

/** Internal reactive state: re-renders when it changes, no attribute. */
export function state(): LegacyDecorator {
  return property({ state: true, attribute: false });
}
