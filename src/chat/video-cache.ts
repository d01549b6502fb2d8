import { ReelError } from '../transport/errors.js';
import type { Video } from '../transport/types.js';
import { FRESH_MS } from './session-types.js';
import type { SessionTarget } from './session-types.js';

/** How far along a video is: a read answered late never takes it back a step. */
const STEP: Record<Video['state'], number> = { processing: 0, live: 1, ready: 2, failed: 2 };

/** What the cache tells its session. */
export interface VideoCacheHost {
  /** Whether the session was stopped: a stopped session reads nothing and keeps nothing. */
  stopped(): boolean;
  /** A video was read or brought by an event, and kept. */
  remembered(video: Video): void;
  /** A read failed (not a refresh: `freshen` returns its error). */
  failed(error: ReelError): void;
}

/**
 * One conversation's videos as last read from the backend: each read once unless asked
 * again, read again once its (signed) URLs may have expired, and never brought back once
 * its message was unsent.
 */
export class VideoCache {
  /** Every video of a listed message (and this person's upload), by id. */
  readonly videos = new Map<string, Video>();
  /** When each video was last read from the backend. */
  private readonly readAt = new Map<string, number>();
  private readonly requested = new Set<string>();
  /** Clips of unsent messages: a late answer or event must not bring them back. */
  private readonly removed = new Set<string>();

  constructor(
    private readonly target: SessionTarget,
    private readonly host: VideoCacheHost,
  ) {}

  /** Reads a video (once, unless `again`); the answer goes through `remember`. */
  fetch(id: string, again = false): void {
    if (this.host.stopped() || (this.requested.has(id) && !again)) return;
    this.requested.add(id);
    const { transport, conversation } = this.target;
    transport.getVideo(conversation, id).then(
      (video) => {
        if (this.host.stopped()) return;
        // An event may have brought a newer state meanwhile (a take goes processing → live → ready).
        const known = this.videos.get(id);
        if (known && STEP[known.state] > STEP[video.state]) return;
        this.remember(video);
      },
      (error: unknown) => {
        if (this.host.stopped()) return;
        this.requested.delete(id);
        this.host.failed(ReelError.from(error, 'network'));
      },
    );
  }

  /** Keeps a video (unless its message was unsent) and tells the session. */
  remember(video: Video): void {
    if (this.removed.has(video.id)) return;
    this.videos.set(video.id, video);
    this.readAt.set(video.id, Date.now());
    this.host.remembered(video);
  }

  /** An unsent message's clip: forgotten for good. */
  drop(id: string): void {
    this.removed.add(id);
    this.videos.delete(id);
    this.readAt.delete(id);
  }

  isStale(id: string): boolean {
    return Date.now() - (this.readAt.get(id) ?? 0) > FRESH_MS;
  }

  /** Reads a video again if its media URLs may have expired; the error if that failed. */
  async freshen(id: string): Promise<ReelError | undefined> {
    if (!this.isStale(id)) return undefined;
    try {
      this.remember(await this.target.transport.getVideo(this.target.conversation, id));
      return undefined;
    } catch (error) {
      return ReelError.from(error, 'network');
    }
  }
}
