import type * as ChatSessionCode from './chat-session.js';
import type * as Panels from './panels.js';
import type * as UnsendConfirm from './unsend-confirm.js';

/**
 * Parts of `<reel-chat>` that its first render does not need load on demand, the way the
 * recorder and the player do (`src/internal/lazy-elements.ts`): one `import()` each, made
 * once; a failed load is tried again next time. The session as the element connects (beside
 * its transport, which loads then too); the recorder's and the reel's panels and the unsend
 * confirm (with their styles) once the person asks for them.
 */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
}

export type { ChatSessionCode, Panels, UnsendConfirm };

/** The conversation's state and transitions (`chat-session.ts`), once loaded. */
export let chatSessionCode: typeof ChatSessionCode | undefined;
/** Loads `chat-session.ts` (history, live events, sending, what was watched). */
export const loadChatSession = once(() =>
  import('./chat-session.js').then((code) => (chatSessionCode = code)),
);

/** The recorder's and the reel's panels (`panels.ts`). */
export const loadPanels = once(() => import('./panels.js'));
/** The "Unsend this message?" confirm (`unsend-confirm.ts`). */
export const loadUnsendConfirm = once(() => import('./unsend-confirm.js'));
