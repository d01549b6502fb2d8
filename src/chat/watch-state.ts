import { ReelError } from '../transport/errors.js';
import type { ReelTransport, Video } from '../transport/types.js';
import type { WireWatch } from '../transport/wire.js';
import { loadWatched, saveWatched } from './watched.js';

/** Who is watching, in which conversation, with whom: what the watched state is kept per. */
export interface WatchTarget {
  transport: ReelTransport;
  conversation: string;
  buddy?: string;
  me: string;
}

/**
 * What this person watched, and which of their own clips someone else watched ("Seen"),
 * without a DOM. The backend's `watchedBy` is the truth — watched on any device — and the
 * browser's copy (`watched.ts`) is a cache: it works offline and keeps marks the backend has
 * not confirmed yet, which go out again on the next connection (`sync`). A mark that fails
 * costs nothing but a later retry: playback never waits for it.
 */
export class WatchState {
  /** Others' clips this person watched, here or on another of their devices. */
  readonly watched: Set<string>;
  /** This person's own clips someone else watched. */
  readonly seen = new Set<string>();
  /** Marks the backend has: its `watchedBy` names this person, or it took `markWatched`. */
  private readonly confirmed = new Set<string>();
  private readonly sending = new Set<string>();

  constructor(
    private readonly target: WatchTarget,
    /** A mark failed for another reason than the connection (reported, not shown). */
    private readonly failed: (error: ReelError) => void,
  ) {
    const { me, conversation, buddy } = target;
    this.watched = buddy ? loadWatched(me, conversation, buddy) : new Set();
  }

  /** The backend's answer for a video: its `watchedBy` says who watched it. True if anything changed. */
  noteVideo(video: Video): boolean {
    const by = video.watchedBy;
    if (!by) return false;
    const me = this.target.me;
    if (video.owner === me) {
      if (this.seen.has(video.id) || !by.some((user) => user !== me)) return false;
      this.seen.add(video.id);
      return true;
    }
    if (!by.includes(me)) return false;
    this.confirmed.add(video.id);
    return this.remember(video.id);
  }

  /**
   * `video.watched`: this person watched a clip on another device, or (the backend tells
   * an owner only) someone watched one of theirs. True if anything changed.
   */
  onWatch(watch: WireWatch): boolean {
    if (watch.user === this.target.me) {
      this.confirmed.add(watch.video);
      return this.remember(watch.video);
    }
    if (this.seen.has(watch.video)) return false;
    this.seen.add(watch.video);
    return true;
  }

  /** This person watched a clip here: remembered at once, recorded on the backend once. */
  mark(id: string): boolean {
    const changed = this.remember(id);
    this.send(id);
    return changed;
  }

  /** Sends the marks among `ids` the backend does not have yet (after a (re)connection). */
  sync(ids: Iterable<string>): void {
    for (const id of ids) if (this.watched.has(id)) this.send(id);
  }

  /** A clip is gone (unsent): nothing of it is kept. */
  forget(id: string): void {
    this.seen.delete(id);
    this.confirmed.add(id);
    if (this.watched.delete(id)) this.save();
  }

  private remember(id: string): boolean {
    if (this.watched.has(id)) return false;
    this.watched.add(id);
    this.save();
    return true;
  }

  private save(): void {
    const { me, conversation, buddy } = this.target;
    if (buddy) saveWatched(me, conversation, buddy, this.watched);
  }

  private send(id: string): void {
    const { transport, conversation } = this.target;
    if (!transport.markWatched || this.confirmed.has(id) || this.sending.has(id)) return;
    this.sending.add(id);
    transport.markWatched(conversation, id).then(
      () => {
        this.sending.delete(id);
        this.confirmed.add(id);
      },
      (error: unknown) => {
        this.sending.delete(id);
        const reelError = ReelError.from(error, 'network');
        // Unsent meanwhile: there is nothing left to mark.
        if (reelError.code === 'not-found') this.confirmed.add(id);
        else if (reelError.code !== 'network') this.failed(reelError);
      },
    );
  }
}
