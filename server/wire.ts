// The JSON the API answers, mirroring src/transport/types.ts (Message, Video) field for
// field — the browser's http transport passes these through unchanged. The server cannot
// import from src/ (separate build), so keep the two in step by hand.
import type { MediaSigner } from './auth/media-tokens.js';
import type { MessageRecord, VideoRecord } from './store/types.js';

export type VideoState = 'processing' | 'ready' | 'failed';

export interface VideoJson {
  id: string;
  owner: string;
  conversation: string;
  state: VideoState;
  reason?: string;
  duration?: number;
  width?: number;
  height?: number;
  bytes?: number;
  sha256?: string;
  playlist?: string;
  poster?: string;
  mediaType: 'hls';
  createdAt: string;
  readyAt?: string;
}

export interface MessageJson {
  id: string;
  conversation: string;
  clientId: string;
  author: string;
  authorName?: string;
  text?: string;
  video?: string;
  createdAt: string;
}

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
  return json;
}

/** Playlist and poster URLs are relative to the server root and carry a fresh media token. */
export function videoJson(video: VideoRecord, signer: MediaSigner): VideoJson {
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
  }
  return json;
}
