import type { Clip } from '../internal/events.js';
import type { Outbox } from '../outbox/outbox.js';
import type { ReelError } from '../transport/errors.js';
import type { Message, ReelTransport, Video } from '../transport/types.js';

// What a ChatSession is for and tells its element, apart from the session itself.

/**
 * Media URLs may carry an expiring signature (the reference server signs them): a video
 * known for longer than this is read again before it is played.
 */
export const FRESH_MS = 5 * 60_000;

/** What one session is for: a change of any of these starts another. */
export interface SessionTarget {
  transport: ReelTransport;
  conversation: string;
  buddy?: string;
  me: string;
  /** Where this person's takes and unconfirmed texts are kept (default: the shared outbox). */
  outbox?: Outbox;
}

export function sameTarget(a?: SessionTarget, b?: SessionTarget): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return (
    a.transport === b.transport &&
    a.conversation === b.conversation &&
    a.buddy === b.buddy &&
    a.me === b.me &&
    a.outbox === b.outbox
  );
}

/** Unsending one of this person's messages: on its way, or refused (`error`: the reason). */
export interface Unsending {
  error?: string;
}

/** This person's clip on its way: bytes sent, then the video once uploaded. */
export interface Upload {
  sent: number;
  total?: number;
  video?: Video;
  /**
   * No byte went through for a while (`stall-watch.ts`), or the last attempt failed for want
   * of a connection: shown as waiting for it; it goes on when the connection is back.
   */
  waiting?: boolean;
}

/** What the session tells the element that shows it. */
export interface ChatSessionHost {
  /** Some state changed: render again. */
  changed(): void;
  /** Something failed. `visible`: the dialog shows it (`restartable`: with a way to start over). */
  failed(error: ReelError, visible: boolean, restartable?: boolean): void;
  /** New messages at the end of the list; `live` unless they are the first page. */
  appended(added: readonly Message[], live: boolean): void;
  /** A message that arrived or was stored (not history), to announce as `reel-message`. */
  message(message: Message): void;
  /** The first page is in the list. */
  loaded(): void;
}

/** The clip a player needs for one video. */
export function clipOf(video: Video, ownerName?: string, watched?: boolean): Clip {
  return {
    id: video.id,
    src: video.playlist ?? '',
    type: video.mediaType === 'file' ? 'file' : 'hls',
    poster: video.poster,
    owner: video.owner,
    ownerName,
    duration: video.duration,
    ...(watched === undefined ? {} : { watched }),
  };
}
