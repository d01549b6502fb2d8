import { html, nothing, type TemplateResult } from 'lit';
import { validateId } from '../transport/validate.js';
import type { ChatSession } from './chat-session.js';
import type { ChatStrings } from './strings.js';

type T = (key: keyof ChatStrings, values?: Record<string, string | number>) => string;

export interface Header {
  t: T;
  buddy?: string;
  buddyLabel: string;
  unwatched: number;
  /** The buddy has shared clips (or their reel is open): only then is there anything to play. */
  hasClips: boolean;
  enabled: boolean;
  openReel(): void;
  /** The pointer or focus is on the play-all button: the player can start loading. */
  prefetchPlayer(): void;
}

/**
 * The bar at the top: the buddy's name, "Play all of {buddy}'s clips" with its badge (only
 * once the buddy shared a clip: a button that opens an empty reel is a dead end), the host's slot.
 */
export function renderHeader(h: Header): TemplateResult {
  const count = h.unwatched;
  return html`<header part="header" class="header">
    <span part="title" class="title">${h.buddy ? h.buddyLabel : h.t('labelNoBuddy')}</span>
    ${
      h.buddy && h.hasClips
        ? html`<button
            part="play-all"
            class="play-all"
            type="button"
            ?disabled=${!h.enabled}
            @pointerenter=${h.prefetchPlayer}
            @focus=${h.prefetchPlayer}
            @click=${h.openReel}
          >
            <span aria-hidden="true" class="icon">▶</span>
            <span>${h.t('playAll', { buddy: h.buddyLabel })}</span>
            ${
              count > 0
                ? html`<span part="badge" class="badge">${h.t('newClips', { count })}</span>`
                : nothing
            }
          </button>`
        : nothing
    }
    <slot name="header-end"></slot>
  </header>`;
}

/** What is wrong with the element's configuration (shown and reported), if anything. */
export function configProblem(
  config: { transport?: unknown; conversation?: string; buddy?: string; user?: string },
  t: T,
): string | undefined {
  if (!config.transport) return t('missingTransport');
  if (!config.conversation) return t('missingConversation');
  for (const name of ['conversation', 'buddy', 'user'] as const) {
    const value = config[name];
    if (value === undefined || value === '') continue;
    try {
      validateId(value, name);
    } catch {
      return t('invalidId', { name, value });
    }
  }
  return undefined;
}

/** The top of the list: loading, the "Load older messages" button, or the beginning. */
export function renderHistoryTop(
  t: T,
  session: ChatSession | undefined,
  loadOlder: () => void,
): TemplateResult {
  let content: unknown = nothing;
  if (session?.loading === 'initial') content = html`<span>${t('loading')}</span>`;
  else if (session?.loading === 'older') content = html`<span>${t('loadingOlder')}</span>`;
  else if (session?.hasOlder) {
    content = html`<button part="load-older" class="load-older" type="button" @click=${loadOlder}>
      ${t('loadOlder')}
    </button>`;
  } else if (
    session &&
    session.timeline.size === 0 &&
    !session.upload &&
    !session.outgoing.takes.size
  ) {
    content = html`<slot name="empty">${t('empty')}</slot>`;
  } else if (session) content = html`<span>${t('beginning')}</span>`;
  return html`<div part="history" class="history">${content}</div>`;
}

/** A problem with the configuration or with loading, with "Try again" when it can. */
export function renderProblem(
  t: T,
  problem: { message: string; retry?: () => void } | undefined,
): TemplateResult | typeof nothing {
  if (!problem) return nothing;
  return html`<div part="error" class="error" role="alert">
    <span>${problem.message}</span>
    ${
      problem.retry
        ? html`<button type="button" @click=${problem.retry}>${t('tryAgain')}</button>`
        : nothing
    }
  </div>`;
}
