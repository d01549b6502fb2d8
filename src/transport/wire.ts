/**
 * The JSON of the reference protocol (docs/protocol.md), defined once: the server
 * (server/wire.ts, server/api/) builds these shapes and the http transport reads them, so
 * a field renamed or retyped on one side fails the other's typecheck. Types only: nothing
 * here exists at run time, and the server imports it without bundling browser code.
 */
import type { ReelErrorCode } from './errors.js';

/** `live`: a take shared while it is recorded, its playlist growing (docs/protocol.md, Live). */
export type VideoState = 'processing' | 'live' | 'ready' | 'failed';

/** A clip as the backend stores it. Times are ISO 8601 strings, sizes in bytes, durations in seconds. */
export interface WireVideo {
  id: string;
  /** User id of the person who recorded it. */
  owner: string;
  conversation: string;
  state: VideoState;
  /** Why conversion failed, for people to read (only when `state` is `failed`). */
  reason?: string;
  duration?: number;
  width?: number;
  height?: number;
  bytes?: number;
  /**
   * SHA-256 (hex) of the uploaded file, where the backend reports it (the reference
   * server does once the video is ready), so a client can check its bytes arrived intact.
   */
  sha256?: string;
  /**
   * What a player loads: an HLS media playlist URL, or — for in-page transports —
   * a direct media URL (`blob:`). `mediaType` tells which.
   */
  playlist?: string;
  /** `hls` (default) or `file` (a plain video file the browser plays itself). */
  mediaType?: 'hls' | 'file';
  poster?: string;
  createdAt: string;
  readyAt?: string;
  /**
   * Who has watched the clip (user ids, in the order they first watched it), as the asker
   * may know it: the owner is told everyone, any other member only whether they themselves
   * have (`[]` or `[their id]`). Absent where the backend does not say (events).
   */
  watchedBy?: string[];
}

export interface WireMessage {
  id: string;
  conversation: string;
  /** The sender's idempotency key: the same clientId never makes a second message. */
  clientId: string;
  /** User id of the sender. */
  author: string;
  authorName?: string;
  text?: string;
  /** Id of the attached video, for video messages. */
  video?: string;
  createdAt: string;
  /**
   * An unsent message: it keeps its place in the timeline (id, author, time) but has no
   * `text` or `video` any more; its video and media are gone.
   */
  deleted?: true;
  deletedAt?: string;
}

/** One person having watched a clip (`video.watched`). */
export interface WireWatch {
  video: string;
  conversation: string;
  /** Who watched it. */
  user: string;
  watchedAt: string;
}

/** `GET /v1/session`. */
export interface WireSession {
  user: string;
  name?: string;
  /** The conversations the token names (the reference server sends them). */
  conversations?: string[];
}

/** `GET …/messages`: oldest first; `next` is the cursor for the following page, or null. */
export interface WireMessagePage {
  messages: WireMessage[];
  next: string | null;
}

/** `GET …/videos`: a member's shared clips, oldest first, paged like messages. */
export interface WireVideoPage {
  videos: WireVideo[];
  next: string | null;
}

/** The `data` of a server-sent event; `id` is also the SSE event id. */
export type WireEvent =
  | { type: 'message.created'; id: string; message: WireMessage }
  | { type: 'video.updated'; id: string; video: WireVideo }
  /** The author unsent a message (or it outlived the retention period): `message` is what is left. */
  | { type: 'message.deleted'; id: string; message: WireMessage }
  /** To the clip's owner, and to the watcher's other devices. */
  | { type: 'video.watched'; id: string; watch: WireWatch };

/** Every refusal: a fixed code to branch on, a message for people, and extra fields where noted. */
export interface WireError {
  error: {
    code: ReelErrorCode;
    message: string;
    /** Seconds to wait before trying again (429, 503), also sent as `Retry-After`. */
    retryAfter?: number;
    [extra: string]: unknown;
  };
}
