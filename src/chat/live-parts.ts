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

type Say = (key: 'announceLive' | 'announceVideo', values: Record<string, string>) => void;

/**
 * What the polite live region says of others' videos, each once: a newly arrived video
 * message as sent or — its take still recorded — as being recorded, and a video that went
 * live later. An arrival is said when its video is known (the session fetches it after the
 * message): said at once, "sent" would be followed by "is recording" a moment later.
 */
export class VideoAnnouncer {
  /** Videos whose live state was announced. */
  private readonly saidLive = new Set<string>();
  /** The last arrival whose video was not known yet. */
  private held?: { id: string; author: string };

  constructor(private readonly say: Say) {}

  /** Someone else's video message arrived (`author`, by name); the session's videos. */
  arrived(id: string, author: string, videos: ReadonlyMap<string, Video>): void {
    const video = videos.get(id);
    this.held = video ? undefined : { id, author };
    if (!video) return;
    if (video.state !== 'live') this.say('announceVideo', { author });
    else if (!this.saidLive.has(id)) {
      this.saidLive.add(id);
      this.say('announceLive', { name: author });
    }
  }

  /** The session changed: a held arrival whose video is known now; a video newly live. */
  changed(
    videos: ReadonlyMap<string, Video>,
    me: string | undefined,
    nameOf: (user: string) => string,
  ): void {
    const held = this.held;
    if (held && videos.has(held.id)) this.arrived(held.id, held.author, videos);
    const live = newlyLive(videos.values(), me, this.saidLive);
    if (live) this.say('announceLive', { name: nameOf(live.owner) });
  }
}

/** The first of someone else's videos that went live and was not said yet; undefined if none. */
function newlyLive(
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
