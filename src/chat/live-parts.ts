import { html, nothing, type TemplateResult } from 'lit';
import type { Video } from '../transport/types.js';
import type { MessageContext } from './message-parts.js';
import type { Entry } from './timeline.js';

/**
 * A video message whose take is still recorded (`live`, docs/protocol.md "Live"), before the
 * person plays it: a Live badge and who is recording; on the buddy's, a button that watches
 * it (the inline player plays a live clip to its edge, docs/player.md "Live clips"). A live
 * video without a playlist (its live conversion stopped) says the same, with nothing to play.
 */
export function renderLiveVideo(ctx: MessageContext, video: Video, entry: Entry): TemplateResult {
  const own = entry.author === ctx.me;
  const name = entry.authorName || ctx.nameOf(entry.author);
  const text = own ? ctx.t('liveOwn') : ctx.t('liveRecording', { name });
  const watch =
    own || !video.playlist
      ? nothing
      : html`<button
          part="play-button"
          class="play"
          type="button"
          aria-label=${ctx.t('watchLive', { name })}
          @pointerenter=${ctx.prefetchPlayer}
          @focus=${ctx.prefetchPlayer}
          @click=${() => ctx.play(video.id)}
        >
          <span aria-hidden="true">▶</span>
        </button>`;
  return html`<span part="live-badge" class="live-badge">${ctx.t('liveBadge')}</span>
    ${watch}
    <span part="video-state" class="video-state live-state">${text}</span>`;
}

/**
 * The first of someone else's videos that went live since the last call (each said once,
 * not at every update), to announce in the polite live region; undefined if none.
 */
export function newlyLive(
  videos: Iterable<Video>,
  me: string | undefined,
  said: Set<string>,
): Video | undefined {
  let found: Video | undefined;
  for (const video of videos) {
    if (video.state !== 'live' || video.owner === me || said.has(video.id)) continue;
    said.add(video.id);
    found ??= video;
  }
  return found;
}
