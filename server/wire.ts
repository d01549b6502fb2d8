// The JSON the API answers, built from our records. The shapes are the protocol's, defined
// once in the browser library (src/transport/wire.ts) and imported here as types only: a
// field that changes on one side fails the other's typecheck.
import type { WireEvent, WireMessage, WireVideo } from '../src/transport/wire.js';
import type { MediaSigner } from './auth/media-tokens.js';
import type { MessageRecord, StoredEvent, VideoRecord } from './store/types.js';

export type {
  VideoState,
  WireError,
  WireMessagePage,
  WireSession,
  WireVideoPage,
} from '../src/transport/wire.js';

/** The reference server serves HLS only. */
export type VideoJson = WireVideo & { mediaType: 'hls' };
export type MessageJson = WireMessage;

export function messageJson(message: MessageRecord): MessageJson {
  const json: MessageJson = {
    id: message.id,
    conversation: message.conversation,
    clientId: message.clientId,
    author: message.author,
    authorName: message.authorName,
    createdAt: message.createdAt,
  };
  if (message.text !== null) json.text = message.text;
  if (message.video !== null) json.video = message.video;
  if (message.deletedAt !== null) {
    json.deleted = true;
    json.deletedAt = message.deletedAt;
  }
  return json;
}

/**
 * Who watched the video, as `viewer` may know it: its owner is told everyone, any other
 * member only whether they themselves have.
 */
export function watchedByFor(video: VideoRecord, viewer: string, watchers: string[]): string[] {
  return video.owner === viewer ? watchers : watchers.filter((user) => user === viewer);
}

/**
 * Playlist and poster URLs are relative to the server root and carry a fresh media token.
 * `watchedBy` (see watchedByFor) is given for one asker; events, shared by many, go without.
 */
export function videoJson(
  video: VideoRecord,
  signer: MediaSigner,
  watchedBy?: string[],
): VideoJson {
  const json: VideoJson = {
    id: video.id,
    owner: video.owner,
    conversation: video.conversation,
    state: video.state,
    mediaType: 'hls',
    createdAt: video.createdAt,
  };
  if (video.reason !== null) json.reason = video.reason;
  if (video.state === 'ready') {
    if (video.duration !== null) json.duration = video.duration;
    if (video.width !== null) json.width = video.width;
    if (video.height !== null) json.height = video.height;
    if (video.bytes !== null) json.bytes = video.bytes;
    if (video.sha256 !== null) json.sha256 = video.sha256;
    const t = signer.sign(video.id);
    json.playlist = `/media/${video.id}/index.m3u8?t=${t}`;
    json.poster = `/media/${video.id}/poster.jpg?t=${t}`;
    if (video.readyAt !== null) json.readyAt = video.readyAt;
  } else if (video.state === 'live') {
    // The growing EVENT playlist (docs/protocol.md, "Live"); the poster comes with ready.
    json.playlist = `/media/${video.id}/index.m3u8?t=${signer.sign(video.id)}`;
  }
  if (watchedBy !== undefined) json.watchedBy = watchedBy;
  return json;
}

/** The `data` of the event's SSE frame; its `id` is the event's place in the log. */
export function eventJson(event: StoredEvent, signer: MediaSigner): WireEvent {
  const id = String(event.seq);
  switch (event.type) {
    case 'message.created':
    case 'message.deleted':
      return { type: event.type, id, message: messageJson(event.message) };
    case 'video.updated':
      return { type: event.type, id, video: videoJson(event.video, signer) };
    case 'video.watched':
      return { type: event.type, id, watch: { ...event.watch } };
  }
}
