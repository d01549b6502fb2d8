import type { Clip } from '../internal/events.js';
import type { Video } from '../transport/types.js';
import { clipOf } from './session-types.js';

/** A clip of the reel: with when it was recorded, which the reel says over it (Stories-like). */
function reelClip(video: Video, ownerName: string | undefined, watched: boolean): Clip {
  return { ...clipOf(video, ownerName, watched), createdAt: video.createdAt };
}

/**
 * The buddy's shared clips — ready, attached to one of their messages in this conversation —
 * and the reel's list while it is open, without a DOM. The list grows at its end as clips
 * become ready, and an unsent clip leaves it (the player goes on past it).
 */
export class BuddyReel {
  /** The buddy's ready clips they attached to a message, by id. */
  readonly clips = new Map<string, Video>();
  /** The reel player's list while it is open. */
  list: Clip[] = [];
  open = false;
  /** Video ids the buddy attached to messages: only those are the buddy's shared clips. */
  private readonly attached = new Set<string>();
  private ownerName?: string;

  constructor(
    private readonly buddy: string | undefined,
    /** Others' clips this person watched (on any device). */
    private readonly watched: ReadonlySet<string>,
  ) {}

  /** The buddy attached this video to a message. */
  attach(id: string): void {
    this.attached.add(id);
  }

  /** A video's newest state: kept if it is (now) one of the buddy's shared clips. */
  note(video: Video): void {
    if (this.clips.has(video.id)) {
      this.clips.set(video.id, video);
      return;
    }
    if (!this.buddy || video.owner !== this.buddy || video.state !== 'ready') return;
    if (!this.attached.has(video.id)) return;
    this.clips.set(video.id, video);
    if (this.open) {
      // The flags follow what was watched meanwhile (the player keeps its place).
      this.flag();
      this.list = [...this.list, reelClip(video, this.ownerName, false)];
    }
  }

  /** An unsent clip: gone from the clips and from an open reel. */
  drop(id: string): void {
    this.clips.delete(id);
    this.attached.delete(id);
    if (this.list.some((clip) => clip.id === id))
      this.list = this.list.filter((clip) => clip.id !== id);
  }

  /** The reel's clips, oldest first, flagged with what this person watched. */
  start(ownerName: string): Clip[] {
    this.ownerName = ownerName;
    this.list = [...this.clips.values()]
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map((video) => reelClip(video, ownerName, this.watched.has(video.id)));
    this.open = true;
    return this.list;
  }

  /** The reel's watched flags as this person's watching has them now. */
  flag(): void {
    if (!this.open || this.list.every((clip) => clip.watched === this.watched.has(clip.id))) return;
    this.list = this.list.map((clip) => ({ ...clip, watched: this.watched.has(clip.id) }));
  }

  /** The clips not watched on any device yet (the badge). */
  get unwatched(): number {
    let count = 0;
    for (const id of this.clips.keys()) if (!this.watched.has(id)) count++;
    return count;
  }

  /** Where "play all" starts: the first clip of the reel not watched on any device. */
  get startIndex(): number {
    return Math.max(
      0,
      this.list.findIndex((clip) => !clip.watched),
    );
  }
}
