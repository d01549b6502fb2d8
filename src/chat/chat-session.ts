import { nanoid } from 'nanoid';
import type { Clip } from '../internal/events.js';
import { ReelError } from '../transport/errors.js';
import type { Message, MessageDraft, ReelEvent, ReelTransport, Video } from '../transport/types.js';
import { Timeline } from './timeline.js';
import { loadWatched, saveWatched } from './watched.js';

/** Page size when catching up after a reconnect. */
const CATCH_UP_PAGE = 100;
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
}

/** This person's clip on its way: bytes sent, then the video once uploaded. */
export interface Upload {
  sent: number;
  total?: number;
  video?: Video;
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

/**
 * One conversation's state and its transitions, without a DOM: the connection, the history
 * and its paging, live events (each message once), catching up after a reconnect, sending
 * and retrying, the video cache and the buddy's clips. `<reel-chat>` renders it and forwards
 * the person's requests; a test drives it with a transport alone.
 */
export class ChatSession {
  readonly timeline: Timeline;
  connection: 'connecting' | 'online' | 'offline' = 'connecting';
  loading: 'idle' | 'initial' | 'older' = 'idle';
  hasOlder = false;
  upload?: Upload;
  /** Every video of a listed message (and this person's upload), by id. */
  readonly videos = new Map<string, Video>();
  /** The buddy's ready clips they attached to a message in this conversation. */
  readonly buddyClips = new Map<string, Video>();
  /** The reel player's list while it is open: grows at its end, never rebuilt. */
  reelClips: Clip[] = [];
  watched: Set<string>;
  /** Set by `stop()`: a stopped session changes nothing any more. */
  stopped = false;

  private unsubscribe?: () => void;
  private olderCursor: string | null = null;
  /** Events that arrive while the first page loads, applied after it. */
  private queued?: ReelEvent[] = [];
  private catchingUp?: Promise<void>;
  private catchUpAgain = false;
  /** When each video was last read from the backend. */
  private readonly videoTimes = new Map<string, number>();
  private readonly videoRequests = new Set<string>();
  /** Video ids the buddy attached to messages: only those are the buddy's shared clips. */
  private readonly buddyMessageVideos = new Set<string>();
  /** Messages the nested recorder already announced with its own `reel-message`. */
  private readonly announced = new Set<string>();
  private reelOpen = false;
  private reelOwner?: string;

  constructor(
    readonly target: SessionTarget,
    private readonly host: ChatSessionHost,
    /** Messages per history page. */
    private readonly pageSize = 30,
  ) {
    this.timeline = new Timeline(target.me);
    this.watched = target.buddy
      ? loadWatched(target.me, target.conversation, target.buddy)
      : new Set();
  }

  /** Subscribes first, then loads: whatever happens in between arrives as an event. */
  start(): void {
    const { transport, conversation, buddy } = this.target;
    try {
      this.unsubscribe = transport.subscribe(conversation, (event) => {
        if (!this.stopped) this.onEvent(event);
      });
    } catch (error) {
      this.queued = undefined;
      this.host.failed(ReelError.from(error), true);
      return;
    }
    void this.loadFirstPage();
    if (buddy) void this.loadBuddyClips();
    this.host.changed();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** The buddy's name: the one given, else the one on their messages, else the id. */
  buddyLabel(given?: string): string {
    if (given) return given;
    const buddy = this.target.buddy ?? '';
    const named = this.timeline
      .entries()
      .find((entry) => entry.author === buddy && entry.authorName);
    return named?.authorName ?? buddy;
  }

  get unwatchedCount(): number {
    let count = 0;
    for (const id of this.buddyClips.keys()) if (!this.watched.has(id)) count++;
    return count;
  }

  // ——— history ———

  private async loadFirstPage(): Promise<void> {
    const { transport, conversation } = this.target;
    this.loading = 'initial';
    try {
      const page = await transport.listMessages(conversation, { limit: this.pageSize });
      if (this.stopped) return;
      this.noteMessages(this.timeline.append(page.items));
      this.olderCursor = page.next;
      this.hasOlder = page.next !== null;
      this.loading = 'idle';
      const queued = this.queued ?? [];
      this.queued = undefined;
      for (const event of queued) this.onEvent(event, false);
      this.host.changed();
      this.host.loaded();
    } catch (error) {
      if (this.stopped) return;
      this.loading = 'idle';
      this.queued = undefined;
      this.host.failed(ReelError.from(error, 'network'), true, true);
    }
  }

  /**
   * Loads the page before the oldest message shown. `beforeApply` runs just before the list
   * changes (the element notes its scroll position there). Resolves true when a page came.
   */
  async loadOlder(beforeApply?: () => void): Promise<boolean> {
    if (this.stopped || this.loading !== 'idle' || !this.hasOlder || !this.olderCursor) {
      return false;
    }
    const { transport, conversation } = this.target;
    this.loading = 'older';
    this.host.changed();
    try {
      const page = await transport.listMessages(conversation, {
        before: this.olderCursor,
        limit: this.pageSize,
      });
      if (this.stopped) return false;
      beforeApply?.();
      this.noteMessages(this.timeline.prepend(page.items));
      this.olderCursor = page.next;
      this.hasOlder = page.next !== null;
      this.loading = 'idle';
      this.host.changed();
      return true;
    } catch (error) {
      if (this.stopped) return false;
      this.loading = 'idle';
      this.host.changed();
      this.host.failed(ReelError.from(error, 'network'), false);
      return false;
    }
  }

  private async loadBuddyClips(): Promise<void> {
    const { transport, conversation, buddy } = this.target;
    try {
      const videos = await transport.listVideos(conversation, buddy!);
      if (this.stopped) return;
      for (const video of videos) {
        this.buddyMessageVideos.add(video.id);
        this.rememberVideo(video);
      }
    } catch (error) {
      if (!this.stopped) this.host.failed(ReelError.from(error, 'network'), false);
    }
  }

  // ——— live ———

  /** An event from the transport's subscription (exposed for tests and the element). */
  onEvent(event: ReelEvent, live = true): void {
    if (event.type === 'connection') {
      this.onConnection(event.state);
      return;
    }
    if (this.queued) {
      this.queued.push(event);
      return;
    }
    const conversation = this.target.conversation;
    if (event.type === 'message.created') {
      if (event.message.conversation === conversation) this.receive([event.message], live);
    } else if (event.type === 'video.updated') {
      if (event.video.conversation === conversation) this.rememberVideo(event.video);
    }
  }

  private onConnection(state: 'online' | 'offline'): void {
    this.connection = state;
    this.host.changed();
    if (state === 'offline') return;
    // Live events flow only from the moment the stream is open, so every (re)connection,
    // the first included, asks for what came before it.
    void this.catchUp();
    // What could not be sent while the connection was down goes now; the same clientId
    // makes a message that did reach the server come back as itself, not a second one.
    for (const clientId of this.timeline.retryable()) this.retry(clientId);
  }

  /** After a reconnect: every message after the newest one known, page by page, each once. */
  catchUp(): Promise<void> {
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return this.catchingUp;
    }
    const { transport, conversation, buddy } = this.target;
    const run = async () => {
      do {
        this.catchUpAgain = false;
        let cursor = this.timeline.newestId;
        if (cursor === undefined) {
          const page = await transport.listMessages(conversation, { limit: this.pageSize });
          if (this.stopped) return;
          this.receive(page.items, true);
          if (this.olderCursor === null && page.next !== null) {
            this.olderCursor = page.next;
            this.hasOlder = true;
          }
          continue;
        }
        for (;;) {
          const page = await transport.listMessages(conversation, {
            after: cursor,
            limit: CATCH_UP_PAGE,
          });
          if (this.stopped) return;
          this.receive(page.items, true);
          if (page.next === null || page.items.length === 0) break;
          cursor = page.next;
        }
        // Videos may have finished (or failed) while we were away.
        for (const video of [...this.videos.values()]) {
          if (video.state === 'processing') this.fetchVideo(video.id, true);
        }
        if (buddy) await this.loadBuddyClips();
      } while (this.catchUpAgain && !this.stopped);
    };
    this.catchingUp = run()
      .catch((error: unknown) => {
        if (!this.stopped) this.host.failed(ReelError.from(error, 'network'), false);
      })
      .finally(() => {
        this.catchingUp = undefined;
      });
    return this.catchingUp;
  }

  /** New messages (oldest first) at the end of the list, each id once. */
  private receive(messages: readonly Message[], live: boolean): void {
    const added = this.timeline.append(messages);
    if (added.length === 0) return;
    this.noteMessages(added);
    const upload = this.upload?.video;
    if (upload && added.some((message) => message.video === upload.id)) this.upload = undefined;
    if (live) {
      for (const message of added) if (!this.announced.has(message.id)) this.host.message(message);
    }
    this.host.changed();
    this.host.appended(added, live);
  }

  /** Fetches the videos of newly listed messages and notes the buddy's. */
  private noteMessages(messages: readonly Message[]): void {
    for (const message of messages) {
      if (!message.video) continue;
      if (message.author === this.target.buddy) {
        this.buddyMessageVideos.add(message.video);
        const known = this.videos.get(message.video);
        if (known) this.rememberVideo(known);
      }
      if (!this.videos.has(message.video)) this.fetchVideo(message.video);
    }
  }

  private fetchVideo(id: string, again = false): void {
    if (this.stopped || (this.videoRequests.has(id) && !again)) return;
    this.videoRequests.add(id);
    const { transport, conversation } = this.target;
    transport.getVideo(conversation, id).then(
      (video) => {
        if (this.stopped) return;
        // An event may have brought a newer state meanwhile.
        const known = this.videos.get(id);
        if (known && known.state !== 'processing' && video.state === 'processing') return;
        this.rememberVideo(video);
      },
      (error: unknown) => {
        if (this.stopped) return;
        this.videoRequests.delete(id);
        this.host.failed(ReelError.from(error, 'network'), false);
      },
    );
  }

  rememberVideo(video: Video): void {
    this.videos.set(video.id, video);
    this.videoTimes.set(video.id, Date.now());
    if (this.upload?.video?.id === video.id) this.upload = { ...this.upload, video };
    const buddy = this.target.buddy;
    if (this.buddyClips.has(video.id)) this.buddyClips.set(video.id, video);
    else if (
      buddy &&
      video.owner === buddy &&
      video.state === 'ready' &&
      this.buddyMessageVideos.has(video.id)
    ) {
      this.buddyClips.set(video.id, video);
      if (this.reelOpen) {
        // Grows at its end; the flags follow what was watched meanwhile (the player keeps its place).
        this.reelClips = [
          ...this.reelClips.map((clip) => ({ ...clip, watched: this.watched.has(clip.id) })),
          clipOf(video, this.reelOwner, false),
        ];
      }
    }
    this.host.changed();
  }

  private isStale(id: string): boolean {
    return Date.now() - (this.videoTimes.get(id) ?? 0) > FRESH_MS;
  }

  /** Reads a video again if its (signed) media URLs may have expired; false if stopped meanwhile. */
  async freshen(id: string): Promise<boolean> {
    if (this.isStale(id)) {
      try {
        this.rememberVideo(await this.target.transport.getVideo(this.target.conversation, id));
      } catch (error) {
        this.host.failed(ReelError.from(error, 'network'), false);
      }
    }
    return !this.stopped;
  }

  // ——— sending ———

  /** A draft for the composer's text (cut to `limit`), with a fresh clientId; undefined if blank. */
  draft(text: string, limit: number): MessageDraft | undefined {
    const trimmed = text.trim();
    return trimmed ? { clientId: nanoid(), text: trimmed.slice(0, limit) } : undefined;
  }

  /** Shows the draft as pending at once, then sends it. */
  async send(draft: MessageDraft, authorName?: string): Promise<void> {
    if (this.stopped) return;
    this.timeline.addLocal(draft, authorName);
    this.host.changed();
    await this.deliver(draft);
  }

  private async deliver(draft: MessageDraft): Promise<void> {
    const { transport, conversation } = this.target;
    try {
      const message = await transport.sendMessage(conversation, draft);
      if (!this.stopped) this.receive([message], true);
    } catch (error) {
      if (this.stopped) return;
      const reelError = ReelError.from(error, 'network');
      const retryable = reelError.code === 'network' || reelError.code === 'internal';
      this.timeline.fail(draft.clientId, reelError.message, retryable);
      this.host.changed();
      this.host.failed(reelError, false);
    }
  }

  /** Sends a failed message again with the same clientId. */
  retry(clientId: string): void {
    const draft = this.timeline.retry(clientId);
    if (!draft) return;
    this.host.changed();
    void this.deliver(draft);
  }

  // ——— the recorder's take ———

  uploadProgress(sent: number, total?: number): void {
    this.upload = { ...this.upload, sent, total };
    this.host.changed();
  }

  /** The recorder uploaded its take and sent its message (which may be listed already). */
  uploadComplete(video: Video): void {
    const sent = this.timeline.entries().some((entry) => entry.video === video.id);
    this.upload = sent ? undefined : { sent: video.bytes ?? 0, total: video.bytes, video };
    if (!this.videos.has(video.id) || video.state !== 'processing') this.rememberVideo(video);
    this.host.changed();
  }

  /** The message the recorder sent and announced itself. */
  recorderMessage(message: Message): void {
    if (message.conversation !== this.target.conversation) return;
    this.announced.add(message.id);
    this.receive([message], false);
  }

  /** The recorder failed: true if a take was on its way (the person should see why). */
  recorderFailed(): boolean {
    if (!this.upload || this.upload.video) return false;
    this.upload = undefined;
    this.host.changed();
    return true;
  }

  // ——— the buddy's reel ———

  /** The reel's clips, oldest first, with what this person watched (re-read when stale). */
  async openReel(ownerName: string): Promise<Clip[] | undefined> {
    if (this.stopped || this.reelOpen) return undefined;
    if ([...this.buddyClips.keys()].some((id) => this.isStale(id))) {
      await this.loadBuddyClips();
      if (this.stopped) return undefined;
    }
    this.reelOwner = ownerName;
    this.reelClips = [...this.buddyClips.values()]
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map((video) => clipOf(video, ownerName, this.watched.has(video.id)));
    this.reelOpen = true;
    this.host.changed();
    return this.reelClips;
  }

  closeReel(): void {
    this.reelOpen = false;
  }

  /** The player says a clip was watched: remembered for the buddy's clips. */
  markWatched(id: string): void {
    const { me, conversation, buddy } = this.target;
    if (!buddy || !this.buddyClips.has(id) || this.watched.has(id)) return;
    this.watched.add(id);
    saveWatched(me, conversation, buddy, this.watched);
    this.host.changed();
  }
}
