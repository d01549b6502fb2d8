// SQLite rows as records, and events as the log stores them: shared by the parts of
// SqliteStore (sqlite.ts, sqlite-jobs.ts, sqlite-removal.ts).
import type { MessageRecord, StoredEvent, UploadRecord, VideoRecord } from './types.js';

export type Row = Record<string, unknown>;

/** An event before the log gave it its seq. */
export type NewEvent = StoredEvent extends infer E
  ? E extends StoredEvent
    ? Omit<E, 'seq'>
    : never
  : never;

/** Appends an event to the log inside the running transaction. */
export type Append = (event: NewEvent) => void;

/** Runs `fn` in a write transaction; the events it appends are published after commit. */
export type Transact = <T>(fn: (append: Append) => T) => Promise<T>;

export function now(): string {
  return new Date().toISOString();
}

/** What an event stores: its JSON, and the id of the message or video it is about. */
export function eventPayload(event: NewEvent): { data: unknown; subject: string } {
  switch (event.type) {
    case 'message.created':
    case 'message.deleted':
      return { data: event.message, subject: event.message.id };
    case 'video.updated':
      return { data: event.video, subject: event.video.id };
    case 'video.watched':
      return { data: event.watch, subject: event.watch.video };
  }
}

/** An event row of the log as the record it was appended as. */
export function toEvent(row: Row): StoredEvent {
  const data = JSON.parse(row.data as string) as never;
  const base = {
    seq: row.seq as number,
    conversation: row.conversation as string,
    audience: row.audience as string | null,
  };
  switch (row.type) {
    case 'message.created':
      return { ...base, type: 'message.created', message: withDeletedAt(data) };
    case 'message.deleted':
      return { ...base, type: 'message.deleted', message: withDeletedAt(data) };
    case 'video.watched':
      return { ...base, type: 'video.watched', watch: data };
    default:
      return { ...base, type: 'video.updated', video: data };
  }
}

/** Messages logged before unsend existed have no deletedAt. */
function withDeletedAt(message: MessageRecord): MessageRecord {
  return { ...message, deletedAt: message.deletedAt ?? null };
}

export function toMessage(row: Row): MessageRecord {
  return {
    id: row.id as string,
    conversation: row.conversation as string,
    clientId: row.client_id as string,
    author: row.author as string,
    authorName: row.author_name as string,
    text: row.text as string | null,
    video: row.video as string | null,
    createdAt: row.created_at as string,
    deletedAt: (row.deleted_at as string | null | undefined) ?? null,
  };
}

export function toVideo(row: Row): VideoRecord {
  return {
    id: row.id as string,
    owner: row.owner as string,
    conversation: row.conversation as string,
    // A live take is stored as processing with live_at set (types.ts, VideoState).
    state: row.state === 'processing' && row.live_at ? 'live' : (row.state as VideoRecord['state']),
    reason: row.reason as string | null,
    duration: row.duration as number | null,
    width: row.width as number | null,
    height: row.height as number | null,
    bytes: row.bytes as number | null,
    sha256: (row.sha256 as string | null | undefined) ?? null,
    videoCodec: row.video_codec as string | null,
    audioCodec: row.audio_codec as string | null,
    createdAt: row.created_at as string,
    readyAt: row.ready_at as string | null,
  };
}

export function toUpload(row: Row): UploadRecord {
  return {
    id: row.id as string,
    owner: row.owner as string,
    conversation: row.conversation as string,
    clientId: row.client_id as string,
    filetype: row.filetype as string,
    size: row.size as number | null,
    complete: row.complete === 1,
    createdAt: row.created_at as string,
    live: Number(row.live ?? 0) === 1,
  };
}
