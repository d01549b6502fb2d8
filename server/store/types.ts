// The metadata store's contract, by concern — members, messages, uploads, videos, the event
// log, secrets, removal — each part of the server taking the interfaces it uses; the durable
// conversion jobs are in jobs.ts. SqliteStore is the default; PgStore (PostgreSQL) keeps the
// same contract: each method is atomic, and every state change that clients must
// hear about appends its event to the log in the same transaction, then hands it to the
// `publish` callback after commit.

/**
 * `live` is stored as `processing` with `live_at` set (a take shared while recorded, from its
 * upload's creation),
 * so every query that waits for a conversion's outcome treats both alike.
 */
export type VideoState = 'processing' | 'live' | 'ready' | 'failed';

export interface MessageRecord {
  id: string;
  conversation: string;
  clientId: string;
  author: string;
  authorName: string;
  text: string | null;
  video: string | null;
  createdAt: string;
  /** When the author unsent it (text and video are null then), or null. */
  deletedAt: string | null;
}

export interface VideoRecord {
  id: string;
  owner: string;
  conversation: string;
  state: VideoState;
  reason: string | null;
  duration: number | null;
  width: number | null;
  height: number | null;
  bytes: number | null;
  /** SHA-256 (hex) of the uploaded file, recorded when it was converted. */
  sha256: string | null;
  videoCodec: string | null;
  audioCodec: string | null;
  createdAt: string;
  readyAt: string | null;
}

export interface UploadRecord {
  /** The upload's id is the video's id. */
  id: string;
  owner: string;
  conversation: string;
  clientId: string;
  filetype: string;
  /** Known once the upload completed. */
  size: number | null;
  complete: boolean;
  createdAt: string;
  /** Shared while recorded (tus metadata `live`): converted to a growing EVENT playlist. */
  live: boolean;
}

/**
 * An event of the log. `audience` is who may see it: null for every member of the
 * conversation, else one user id — a video's events go to its owner only until the video
 * is attached to a message.
 */
export type StoredEvent = { seq: number; conversation: string; audience: string | null } & (
  | { type: 'message.created'; message: MessageRecord }
  | { type: 'video.updated'; video: VideoRecord }
  | { type: 'message.deleted'; message: MessageRecord }
  | { type: 'video.watched'; watch: WatchRecord }
);

/** One member having watched a video. */
export interface WatchRecord {
  video: string;
  conversation: string;
  user: string;
  watchedAt: string;
}

/** What deleteMessage did. */
export type DeleteOutcome =
  /** Unsent now; `video` is the id of the video whose files the caller must remove. */
  | { outcome: 'deleted'; message: MessageRecord; video: string | null }
  | { outcome: 'already-deleted'; message: MessageRecord }
  | { outcome: 'not-found' }
  | { outcome: 'forbidden' };

/** What a retention sweep removed. */
export interface RetentionReport {
  /** Messages removed (text and video messages older than the cutoff). */
  messages: number;
  /** Videos removed (rows gone): the caller removes their media and upload bytes. */
  videos: string[];
  /** Events older than the cutoff removed from the log. */
  events: number;
}

/** What eraseUser removed, by kind: counts, and the ids whose files the caller removes. */
export interface ErasureReport {
  user: string;
  messages: number;
  videos: string[];
  uploads: string[];
  watchedMarks: number;
  events: number;
  memberships: number;
}

export interface MessagePage {
  messages: MessageRecord[];
  next: string | null;
}

export interface VideoPage {
  videos: VideoRecord[];
  next: string | null;
}

export interface ReadyMeta {
  duration: number;
  width: number;
  height: number;
  bytes: number;
  /** SHA-256 (hex) of the uploaded file. */
  sha256: string | null;
  videoCodec: string;
  audioCodec: string | null;
}

export type NewUpload = Omit<UploadRecord, 'size' | 'complete' | 'live'> & { live?: boolean };

/** The members of conversations: who was seen where, and when. */
export interface MemberStore {
  /** Records that a member was seen in a conversation (name and time). */
  touchMember(user: string, name: string, conversation: string): Promise<void>;
}

/** The messages of conversations. */
export interface MessageStore {
  /**
   * Creates the message, or returns the author's earlier one with the same clientId
   * (`created: false`) — never a second one.
   */
  createMessage(message: MessageRecord): Promise<{ message: MessageRecord; created: boolean }>;
  /** The author's message with this clientId, if any. */
  messageByClientId(author: string, clientId: string): Promise<MessageRecord | undefined>;
  /** Throws UnknownCursorError for a cursor that is not a message of this conversation. */
  listMessages(
    conversation: string,
    options: { after?: string; before?: string; limit: number },
  ): Promise<MessagePage>;
  /** The message a video is attached to, if any. */
  messageWithVideo(videoId: string): Promise<MessageRecord | undefined>;
}

/** The uploads' rows (their bytes are in the upload store, uploads/). */
export interface UploadStore {
  /** Creates the upload and its video (state processing), or names the owner's existing upload with that clientId. */
  createUpload(
    upload: NewUpload,
  ): Promise<{ created: true } | { created: false; existing: string }>;
  getUpload(id: string): Promise<UploadRecord | undefined>;
  /**
   * Marks the upload complete and queues its conversion (appending video.updated, unless the
   * video is `live`: it stays so until ready).
   * Returns the video, or undefined when it was already complete (idempotent).
   */
  completeUpload(id: string, size: number): Promise<VideoRecord | undefined>;
  /** Removes upload, video and job rows (termination). */
  deleteUpload(id: string): Promise<void>;
  /**
   * An abandoned upload: its rows go; if a message already shows the video, the video
   * stays as failed with `reason` (appending video.updated) and is returned.
   */
  expireUpload(id: string, reason: string): Promise<VideoRecord | undefined>;
  /** Unfinished uploads created before the given time. */
  staleUploads(createdBefore: string): Promise<UploadRecord[]>;
  /** One owner's unfinished uploads (for the quota: their bytes are in the datastore). */
  unfinishedUploads(owner: string): Promise<UploadRecord[]>;
  /**
   * Bytes one owner keeps (for the quota): the uploaded size of each ready video, and of
   * each complete upload still waiting for or in conversion.
   */
  storedBytes(owner: string): Promise<number>;
}

/** The videos and their conversion's outcome. */
export interface VideoStore {
  /** Any video, attached or not: callers check who may see it (see api/context.ts). */
  getVideo(id: string): Promise<VideoRecord | undefined>;
  /**
   * Ready videos attached to messages, in message order, paged like listMessages: the
   * cursors are video ids (of any attached video of the conversation; UnknownCursorError
   * otherwise); of one owner when given.
   */
  listSharedVideos(
    conversation: string,
    options: { owner?: string; after?: string; before?: string; limit: number },
  ): Promise<VideoPage>;
  /** Undefined when the video no longer exists (terminated meanwhile). */
  markVideoReady(id: string, meta: ReadyMeta): Promise<VideoRecord | undefined>;
  markVideoFailed(id: string, reason: string): Promise<VideoRecord | undefined>;
  /**
   * A live take's first segment is out: the video is `live` (appending video.updated) —
   * for one whose upload was created before takes were `live` from their creation.
   * Undefined when it is not processing, or live already.
   */
  markVideoLive(id: string): Promise<VideoRecord | undefined>;
}

/** The event log every stream reads (api/events.ts, events/). */
export interface EventLogStore {
  /**
   * Events after `seq` in the given conversations that `user` may see (audience null or
   * `user`), oldest first, at most `limit`.
   */
  eventsAfter(
    seq: number,
    conversations: string[],
    user: string,
    limit: number,
  ): Promise<StoredEvent[]>;
}

/** Keys generated once and kept with the data. */
export interface SecretStore {
  /** A random secret generated once and kept with the data (e.g. the media URL key). */
  secret(name: string): Promise<Buffer>;
}

/**
 * What removes rows or marks them: unsending, watched marks, retention and erasure
 * (sqlite-removal.ts, postgres-removal.ts). Retention removes at most RETENTION_BATCH
 * messages and videos per call.
 */
export interface RemovalStore {
  /**
   * Unsends the author's message: keeps it as deleted (text and video cleared), removes its
   * video's rows (video, upload, job, watched marks) and the earlier events' contents, and
   * appends message.deleted. Idempotent (`already-deleted`).
   */
  deleteMessage(conversation: string, id: string, author: string): Promise<DeleteOutcome>;
  /**
   * Records that `user` watched the video; when new, appends video.watched for the owner
   * (and for the watcher's other devices). Returns whether it was new.
   */
  markWatched(video: VideoRecord, user: string): Promise<boolean>;
  /** Who watched each of these videos, in the order they first did. */
  watchers(videoIds: string[]): Promise<Map<string, string[]>>;
  /**
   * Retention: removes messages created before `cutoff` (ISO time), their videos, unattached
   * videos created before it, and log events older than it; appends message.deleted for
   * each message removed, so open dialogs drop them.
   */
  expireBefore(cutoff: string): Promise<RetentionReport>;
  /**
   * Erasure: every row of `user` — messages, videos, uploads, jobs, watched marks (theirs,
   * and others' of their videos), memberships, events about any of these or meant for them.
   * The database's freed pages are overwritten (secure delete, checkpoint, vacuum).
   */
  eraseUser(user: string): Promise<ErasureReport>;
}

/** Rows removed in one retention transaction; the sweeper calls again while there are more. */
export const RETENTION_BATCH = 500;

/**
 * The whole metadata store, as the composition root (compose.ts) holds it; each part takes
 * the interfaces above it uses. The job queue is separate (jobs.ts: SqliteJobs, PgJobs).
 */
export interface MetadataStore
  extends MemberStore, MessageStore, UploadStore, VideoStore, EventLogStore, SecretStore {
  readonly removal: RemovalStore;
  close(): Promise<void>;
}
