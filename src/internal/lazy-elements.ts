/**
 * The recorder and the player load on demand (Shoelace's autoloader, mux-player's lazy
 * engine): what a person has not opened yet costs only its placeholder. Each loader
 * imports its element's module once (which defines the element); a failed load is tried
 * again next time.
 */
type Loader = () => Promise<unknown>;

function once(load: Loader): Loader {
  let loading: Promise<unknown> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
}

/**
 * Each element loads its core (the recorder's take lifecycle, the player's engines) itself
 * when it first needs it; fetched here beside the element, it costs no second round trip.
 * Only a hint: a core that fails here is loaded again by the element.
 */
const prefetch = (core: () => Promise<unknown>) => void core().catch(() => undefined);

/** Defines `<reel-recorder>` (and loads what it needs before the camera starts). */
export const loadRecorder = once(() => {
  prefetch(() => import('../recorder/recorder-session.js'));
  return import('../recorder/index.js');
});
/** Defines `<reel-player>` and `<reel-clip>` (and fetches the engines a reel plays with). */
export const loadPlayer = once(() => {
  prefetch(() => import('../player/sequencer.js'));
  return import('../player/index.js');
});

const LOADERS: Record<string, Loader> = {
  'reel-recorder': loadRecorder,
  'reel-player': loadPlayer,
  'reel-clip': loadPlayer,
};

/**
 * Loads an element's module as soon as one of its tags is in the document (now, or added
 * later, by markup or script), until every one is defined. Shadow roots are not watched:
 * a site that renders these tags inside its own components imports their entry instead.
 */
export function defineOnUse(): void {
  if (typeof document === 'undefined' || typeof MutationObserver === 'undefined') return;
  const waiting = new Set(Object.keys(LOADERS).filter((tag) => !customElements.get(tag)));
  const look = (root: Element | Document) => {
    for (const tag of waiting) {
      if ((root instanceof Element && root.localName === tag) || root.querySelector(tag)) {
        waiting.delete(tag);
        LOADERS[tag]().catch(() => {
          // Seen again (or on the next tag added), it is tried again.
          waiting.add(tag);
          observer.observe(document, { childList: true, subtree: true });
        });
      }
    }
    if (waiting.size === 0) observer.disconnect();
  };
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) if (node instanceof Element) look(node);
    }
  });
  observer.observe(document, { childList: true, subtree: true });
  look(document);
}
