import { html, nothing, type TemplateResult } from 'lit';
import type { Clip } from '../internal/events.js';
import { styleProps } from '../internal/style-props.js';
import type { Video } from '../transport/types.js';
import { linkify } from './linkify.js';
import { renderLiveVideo } from './live-parts.js';
import type { ChatStrings } from './strings.js';
import type { Entry } from './timeline.js';
import { renderUnsend, type UnsendContext } from './unsend-parts.js';

/** What the message parts need from the element: its strings, names and request handlers. */
export interface MessageContext {
  t(key: keyof ChatStrings, values?: Record<string, string | number>): string;
  /** A duration as a clock (`0:42`) and in words ("42 seconds"), in the element's language. */
  clock(seconds: number): string;
  spoken(seconds: number): string;
  locale(): string;
  me?: string;
  nameOf(author: string): string;
  video(id: string): Video | undefined;
  /** The player's clip list for a video the person started playing, else undefined. */
  playing(video: Video, entry: Entry): Clip[] | undefined;
  play(id: string): void;
  /** The pointer or focus is on a play button: the player can start loading. */
  prefetchPlayer(): void;
  retry(clientId: string): void;
  /** Gives up on a take of the outbox on its way (its upload stops; it leaves the list). */
  cancelTake?(clientId: string): void;
  /** Someone else watched this person's clip. */
  seen(videoId: string): boolean;
  /** Unsend on this person's stored messages, where the backend has it. */
  unsend?: UnsendContext;
}

const PLAYER_PARTS =
  'base:player-base,progress:player-progress,stage:player-stage,video:player-video,controls:player-controls,button:player-button';

/** One row of the list: a bubble with the text or the video, its time and sending state. */
export function renderEntry(ctx: MessageContext, entry: Entry): TemplateResult {
  const own = entry.author === ctx.me;
  const side = own ? 'own' : 'other';
  const time = new Date(entry.createdAt);
  return html`<div part="message message-${side}" class="message ${side}" data-id=${entry.key}>
    <div
      part="bubble bubble-${side}"
      class="bubble ${entry.status} ${entry.deleted ? 'deleted' : ''}"
    >
      ${
        own
          ? nothing
          : html`<span part="author" class="author"
              >${entry.authorName || ctx.nameOf(entry.author)}</span
            >`
      }
      ${
        entry.deleted
          ? html`<p part="deleted" class="deleted-text">${ctx.t('messageDeleted')}</p>`
          : entry.video
            ? renderVideo(ctx, entry.video, entry)
            : renderText(entry.text ?? '')
      }
    </div>
    <div part="meta" class="meta">
      <time datetime=${entry.createdAt}
        >${time.toLocaleTimeString(ctx.locale(), { hour: '2-digit', minute: '2-digit' })}</time
      >
      ${renderStatus(ctx, entry)}
      ${
        own && entry.video && ctx.seen(entry.video)
          ? html`<span part="seen" class="seen">${ctx.t('seen')}</span>`
          : nothing
      }
      ${own && ctx.unsend ? renderUnsend(ctx.unsend, entry) : nothing}
    </div>
  </div>`;
}

function renderStatus(ctx: MessageContext, entry: Entry): TemplateResult | typeof nothing {
  if (entry.status === 'pending') {
    return html`<span part="status" class="status">${ctx.t('pending')}</span>`;
  }
  if (entry.status !== 'failed') return nothing;
  // A refusal (not a lost connection, which is retried by itself) says why.
  const text =
    entry.retryable || !entry.error
      ? ctx.t('failed')
      : ctx.t('failedReason', { reason: entry.error });
  return html`<span part="status" class="status failed" title=${entry.error ?? ''}>${text}</span>
    <button part="retry" class="retry" type="button" @click=${() => ctx.retry(entry.clientId)}>
      ${ctx.t('retry')}
    </button>`;
}

/** A message's text: only ever text, with http(s) URLs as links. */
export function renderText(text: string): TemplateResult {
  const parts = linkify(text).map((part) =>
    part.kind === 'link'
      ? html`<a part="link" href=${part.href} target="_blank" rel="noopener noreferrer"
          >${part.text}</a
        >`
      : part.text,
  );
  // No whitespace around the parts: the text keeps its own line breaks (pre-wrap).
  return html`<p part="text" class="text">${parts}</p>`;
}

function poster(video: Video): TemplateResult | typeof nothing {
  return video.poster
    ? html`<img part="poster" class="poster" src=${video.poster} alt="" />`
    : nothing;
}

/** A video message: its state, or its poster and play button, or its player once played. */
export function renderVideo(ctx: MessageContext, id: string, entry: Entry): TemplateResult {
  const video = ctx.video(id);
  const ratio = video?.width && video?.height ? `${video.width} / ${video.height}` : '';
  let body: TemplateResult;
  const playable = video?.state === 'ready' || video?.state === 'live';
  const clips = playable ? ctx.playing(video, entry) : undefined;
  if (!video) {
    body = html`<span part="video-state" class="video-state">${ctx.t('videoLoading')}</span>`;
  } else if (clips) {
    body = html`<reel-player
      part="player"
      class="player"
      exportparts=${PLAYER_PARTS}
      autoplay
      .clips=${clips}
    ></reel-player>`;
  } else if (video.state === 'live') {
    body = renderLiveVideo(ctx, video, entry);
  } else if (video.state === 'ready') {
    // A player (and its code and media) only once asked for: a long history stays light.
    const label = video.duration
      ? ctx.t('playVideoDuration', { duration: ctx.spoken(video.duration) })
      : ctx.t('playVideo');
    body = html`${poster(video)}<button
        part="play-button"
        class="play"
        type="button"
        aria-label=${label}
        @pointerenter=${ctx.prefetchPlayer}
        @focus=${ctx.prefetchPlayer}
        @click=${() => ctx.play(video.id)}
      >
        <span aria-hidden="true">▶</span>
      </button>`;
  } else {
    const text =
      video.state === 'processing'
        ? ctx.t('videoProcessing')
        : video.reason
          ? ctx.t('videoFailed', { reason: video.reason })
          : ctx.t('videoFailedNoReason');
    body = html`${poster(video)}
      <span part="video-state" class="video-state ${video.state}">${text}</span>`;
  }
  return html`<div
    part="video"
    class="video ${video?.state ?? 'loading'}"
    data-video=${id}
    tabindex="-1"
    ${styleProps({ 'aspect-ratio': ratio })}
    role="group"
    aria-label=${ctx.t('videoMessage')}
  >
    ${body}
    ${
      video?.duration
        ? html`<span
            part="duration"
            class="duration"
            aria-label=${ctx.t('duration', { duration: ctx.spoken(video.duration) })}
            >${ctx.clock(video.duration)}</span
          >`
        : nothing
    }
  </div>`;
}
