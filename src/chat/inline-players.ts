import type { ReactiveControllerHost } from 'lit';
import type { Clip, ReelEventDetails } from '../internal/events.js';
import { loadPlayer } from '../internal/lazy-elements.js';
import { ReelError } from '../transport/errors.js';
import type { Video } from '../transport/types.js';
import type { ChatSession } from './chat-session.js';
import { clipOf } from './session-types.js';
import type { Entry } from './timeline.js';

/** Loads the player's code; false (and the error reported) if it could not be loaded. */
export async function playerLoaded(report: (error: ReelError) => void): Promise<boolean> {
  try {
    await loadPlayer();
    return true;
  } catch (error) {
    report(ReelError.from(error, 'network'));
    return false;
  }
}

/** Fetches the player's code ahead (the pointer or focus is on a play button). */
export const prefetchPlayer = (): void => void loadPlayer().catch(() => undefined);

/** What the players in the list need from `<reel-chat>`. */
export interface InlinePlayersOptions {
  session(): ChatSession | undefined;
  report(error: ReelError): void;
  nameOf(author: string): string;
  /** The element's shadow root: where the video boxes are, and what has the focus. */
  root(): ShadowRoot | null;
}

/**
 * The video messages played in place: a player is mounted only once the person asks (the
 * poster and play button until then), and a clip played to its end counts as watched.
 */
export class InlinePlayers {
  /** Ready video messages the person started playing (their players are mounted). */
  private playing: ReadonlySet<string> = new Set();
  private readonly clipCache = new WeakMap<Video, Clip[]>();
  /**
   * Players started on a live clip keep their list when the take ends: its playlist gains
   * its end in place, and a new list would restart the player from the beginning.
   */
  private readonly startedLive = new Map<string, Clip[]>();

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: InlinePlayersOptions,
  ) {}

  /** A new session: nothing playing. */
  reset(): void {
    this.playing = new Set();
    this.startedLive.clear();
  }

  /** The player's clip list for a video the person started playing, else undefined. */
  clips(video: Video, entry: Entry): Clip[] | undefined {
    if (!this.playing.has(video.id)) return undefined;
    const live = this.startedLive.get(video.id);
    if (live) return live;
    let clips = this.clipCache.get(video);
    if (!clips) {
      clips = [clipOf(video, entry.authorName || this.options.nameOf(entry.author))];
      this.clipCache.set(video, clips);
    }
    if (video.state === 'live') this.startedLive.set(video.id, clips);
    return clips;
  }

  /** Mounts the video's player once its code is in and its media URLs are fresh. */
  readonly play = async (id: string): Promise<void> => {
    const session = this.options.session();
    if (!session) return;
    // The poster and play button stay until the player's code is in (usually already
    // fetched when the pointer or focus reached the button).
    const [fresh, loaded] = await Promise.all([
      session.freshen(id),
      playerLoaded(this.options.report),
    ]);
    if (!fresh || !loaded || session !== this.options.session()) return;
    this.playing = new Set([...this.playing, id]);
    this.host.requestUpdate();
    await this.host.updateComplete;
    // The play button is gone: keep the focus on this video.
    const root = this.options.root();
    const box = root?.querySelector<HTMLElement>(`[data-video="${CSS.escape(id)}"]`);
    const player = box?.querySelector<HTMLElement>('reel-player');
    player?.focus();
    if (root?.activeElement !== player) box?.focus();
  };

  /** A clip played in place to its end (the player's rule): watched, as in the reel. */
  readonly watched = (event: CustomEvent<ReelEventDetails['reel-clip-watched']>): void => {
    this.options.session()?.markWatched(event.detail.clip.id);
  };
}
