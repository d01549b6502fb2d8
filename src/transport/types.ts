/**
 * The transport contract: the only thing the elements know about a backend.
 * Every implementation (http, memory, a site's own) passes `contract.ts`.
 */

import type { WireEvent, WireMessage, WireVideo } from './wire.js';

export type { VideoState } from './wire.js';

/** A clip as the backend stores it (the protocol's JSON, `src/transport/wire.ts`). */
export type Video = WireVideo;

/** A text or video message (the protocol's JSON, `src/transport/wire.ts`). */
export type Message = WireMessage;

export type MessageDraft =
  | { clientId: string; text: string; video?: undefined }
  | { clientId: string; video: string; text?: undefined };

export interface Page<T> {
  /** Oldest first. */
  items: T[];
  /** Cursor for the following page in the same direction, or null when there is none. */
  next: string | null;
}

export interface ListOptions {
  /** Messages after this cursor (a message id), oldest first: catching up. */
  after?: string;
  /** Messages before this cursor: scrolling back. The newest `limit` of them, oldest first. */
  before?: string;
  /** At most this many (the backend may cap it). */
  limit?: number;
}

/**
 * Bytes that can be read again from any offset the backend has not yet confirmed:
 * the recorder's outbox is one. A network transport resumes from the server's offset
 * after a failure or a reload by reading from here.
 */
export interface ResumableSource {
  /** The bytes from `offset` on; live while the recording goes on, ending when it is complete. */
  read(offset: number): AsyncIterable<Uint8Array>;
  /** Where an earlier page's upload of these bytes lives (e.g. a tus URL), if one was remembered. */
  readonly upload?: UploadHandle;
  /** A transport reports its resumable upload here as soon as it exists. */
  remember?(handle: UploadHandle): Promise<void>;
}

/** A backend's name for an upload in progress. */
export interface UploadHandle {
  url?: string;
  id?: string;
}

/**
 * What `upload` reads: a finished file, a live stream of chunks while recording
 * continues (the upload's length becomes known when the stream ends), or a resumable source.
 */
export type UploadSource = Blob | AsyncIterable<Uint8Array> | ResumableSource;

export interface UploadOptions {
  /** The idempotency key of the message this clip will be sent with. */
  clientId: string;
  /** MIME type of the recording, e.g. `video/webm;codecs=vp9,opus`. */
  type?: string;
  signal?: AbortSignal;
  /** Bytes the backend has confirmed; `total` once it is known. */
  onProgress?(sent: number, total?: number): void;
  /** The recorder's own measure of the length, in seconds (a hint; servers measure for themselves). */
  duration?: number;
  /**
   * Share the take while it is recorded (a stream source; docs/protocol.md, "Live"): the
   * backend converts it as it arrives and the buddy can watch it, about two seconds behind.
   */
  live?: boolean;
  /**
   * The backend made the video (its id), before the first byte: its message can be sent
   * now. Called once, where the backend tells (the http transport does).
   */
  onCreated?(videoId: string): void;
}

export type ConnectionState = 'online' | 'offline';

export type ReelEvent =
  | WireEvent
  /** Not from the backend's log: the transport's own view of its connection. */
  | { type: 'connection'; state: ConnectionState };

export interface Session {
  user: string;
  name?: string;
}

export interface ReelTransport {
  /** Establishes the session (checks the token, opens nothing long-lived yet). */
  connect(): Promise<Session>;
  listMessages(conversation: string, options?: ListOptions): Promise<Page<Message>>;
  sendMessage(conversation: string, draft: MessageDraft): Promise<Message>;
  upload(conversation: string, source: UploadSource, options: UploadOptions): Promise<Video>;
  getVideo(conversation: string, id: string): Promise<Video>;
  /**
   * That member's shared clips (attached to messages), oldest first; each with `watchedBy`
   * where the backend records watching (so "play all" can start at the first one the
   * caller has not watched on any device).
   */
  listVideos(conversation: string, owner: string): Promise<Video[]>;
  /**
   * Live events for one conversation until the returned function is called. Events flow
   * from the moment it reports `{type: 'connection', state: 'online'}`; after each such
   * report a caller catches up with `listMessages({after})` for anything sent before.
   */
  subscribe(conversation: string, onEvent: (event: ReelEvent) => void): () => void;
  /**
   * Unsends the caller's own message: it stays in the timeline as deleted (`deleted: true`,
   * no text or video), its clip and media are gone, and every member hears
   * `message.deleted`. Idempotent; `forbidden` for someone else's, `not-found` for none.
   * Optional: a backend without it offers no unsend (the elements hide the action).
   */
  deleteMessage?(conversation: string, id: string): Promise<void>;
  /**
   * Records that the caller watched a clip (to its end, or most of it), on every device:
   * the clip's `watchedBy` includes them from now on and its owner hears `video.watched`.
   * Idempotent; `not-found` for a clip the caller cannot see. Optional, like deleteMessage
   * (without it, watched state stays in the browser).
   */
  markWatched?(conversation: string, videoId: string): Promise<void>;
  /** Extra request options (auth) for fetching media URLs this transport handed out. */
  mediaRequest?(url: string): RequestInit;
  close(): Promise<void>;
}

/** What a token is for: plain API requests, the event stream, uploads, or media (HLS) fetches. */
export type TokenPurpose = 'api' | 'events' | 'upload' | 'media';

/**
 * What a transport asks `getToken` for. `conversation` is the one conversation the request is
 * about (an element fills in its own when the transport names none, as when checking who the
 * token is for); a host may sign a token for just that conversation, which stays small
 * however many conversations the person is in.
 */
export interface TokenRequest {
  conversation?: string;
  purpose: TokenPurpose;
}

/**
 * Resolves to the bare token (for the reference server a JWT, no `Bearer ` and no JSON
 * around it). A callback that takes no argument is one too: it gets the same token for all.
 */
export type GetToken = (request: TokenRequest) => string | Promise<string>;

/** What the elements' attributes and properties give a transport factory. */
export interface TransportOptions {
  endpoint?: string;
  token?: string;
  getToken?: GetToken;
  /** Who this is, for transports without tokens (memory). */
  user?: string;
  userName?: string;
  /** Conversations this user may use (memory; a token carries them for http). */
  conversations?: string[];
  /** In-page room shared by memory transports (default `default`). */
  room?: string;
}

export type TransportFactory = (options: TransportOptions) => ReelTransport;
