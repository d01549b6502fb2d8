import { nanoid } from 'nanoid';
import type { Clip } from '../internal/events.js';
import { ReelError } from '../transport/errors.js';
import type { Message, MessageDraft, ReelEvent, Video } from '../transport/types.js';
import type { ChatSessionHost, SessionTarget, Unsending, Upload } from './session-types.js';
import { BuddyReel } from './buddy-reel.js';
import { CatchUp } from './catch-up.js';
import { Connectivity, type ConnectionState } from './connectivity.js';
import { cutToGraphemes } from './graphemes.js';
import { Outgoing } from './outgoing.js';
import { StallWatch } from './stall-watch.js';
import { Timeline } from './timeline.js';
import { VideoCache } from './video-cache.js';
import { WatchState } from './watch-state.js';

export { clipOf, FRESH_MS, sameTarget } from './session-types.js';
export type { ChatSessionHost, SessionTarget, Unsending, Upload } from './session-types.js';

/**
 * One conversation's state and its transitions, without a DOM: the connection, the history
 * and its paging, live events (each message once), catching up after a reconnect, sending
 * and retrying, the video cache and the buddy's clips. `<reel-chat>` renders it and forwards
 * the person's requests; a test drives it with a transport alone.
 */
export class ChatSession {
  readonly timeline: Timeline;
  loading: 'idle' | 'initial' | 'older' = 'idle';
  hasOlder = false;
  upload?: Upload;
  /** Every video of a listed message (and this person's upload), by id, as last read. */
  private readonly cache: VideoCache;
  /** What this person watched (on any device) and which of their clips were seen. */
  readonly watch: WatchState;
  /** The buddy's shared clips and the reel's list. */
  readonly reel: BuddyReel;
  /** This person's messages being unsent, or whose unsend was refused, by message id. */
  readonly unsending = new Map<string, Unsending>();
  /** Set by `stop()`: a stopped session changes nothing any more. */
  stopped = false;
  /** This person's texts and takes the backend has not confirmed yet. */
  readonly outgoing: Outgoing;
  private readonly connectivity: Connectivity;
  /** The recorder's take with no byte through for a while is shown waiting for the connection. */
  private readonly uploadStall = new StallWatch(() => {
    if (!this.upload || this.upload.video || this.stopped) return;
    this.upload = { ...this.upload, waiting: true };
    this.host.changed();
  });

  private unsubscribe?: () => void;
  private olderCursor: string | null = null;
  /** Events that arrive while the first page loads, applied after it. */
  private queued?: ReelEvent[] = [];
  private readonly catchUpRun: CatchUp;
  /** Messages the nested recorder already announced with its own `reel-message`. */
  private readonly announced = new Set<string>();

  constructor(
    readonly target: SessionTarget,
    private readonly host: ChatSessionHost,
    /** Messages per history page. */
    private readonly pageSize = 30,
  ) {
    this.timeline = new Timeline(target.me);
    this.catchUpRun = new CatchUp(
      target,
      {
        stopped: () => this.stopped,
        newestId: () => this.timeline.newestId,
        receive: (messages) => this.receive(messages, true),
        firstPage: (page) => {
          if (this.olderCursor !== null || page.next === null) return;
          this.olderCursor = page.next;
          this.hasOlder = true;
        },
        refresh: () => this.refreshAfterCatchUp(),
        succeeded: () => this.connectivity.requestSucceeded(),
        failed: (error) => this.requestFailed(error),
      },
      pageSize,
    );
    this.cache = new VideoCache(target, {
      stopped: () => this.stopped,
      remembered: (video) => this.remembered(video),
      failed: (error) => this.requestFailed(error),
    });
    this.watch = new WatchState(target, (error) => this.host.failed(error, false));
    this.reel = new BuddyReel(target.buddy, this.watch.watched);
    this.connectivity = new Connectivity({
      changed: () => this.host.changed(),
      recovered: () => this.recovered(),
      probe: () => void this.catchUp(),
    });
    this.outgoing = new Outgoing(target, {
      stopped: () => this.stopped,
      timeline: this.timeline,
      changed: () => this.host.changed(),
      receive: (messages) => this.receive(messages, true),
      rememberVideo: (video) => this.rememberVideo(video),
      failed: (error) => this.requestFailed(error),
      succeeded: () => this.connectivity.requestSucceeded(),
    });
  }

  /** Every video of a listed message (and this person's upload), by id. */
  get videos(): ReadonlyMap<string, Video> {
    return this.cache.videos;
  }

  /** Whether the backend can be reached: its live stream, the browser's network and the requests made. */
  get connection(): ConnectionState {
    return this.connectivity.state;
  }

  /** The buddy's ready clips they attached to a message in this conversation. */
  get buddyClips(): ReadonlyMap<string, Video> {
    return this.reel.clips;
  }

  /** The reel player's list while it is open. */
  get reelClips(): Clip[] {
    return this.reel.list;
  }

  /** Others' clips this person watched, here or on another device. */
  get watched(): ReadonlySet<string> {
    return this.watch.watched;
  }

  /** Whether this backend can unsend (the action is offered only then). */
  get canUnsend(): boolean {
    return typeof this.target.transport.deleteMessage === 'function';
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
    this.connectivity.start();
    void this.loadFirstPage();
    if (buddy) void this.loadBuddyClips();
    void this.outgoing.start();
    this.host.changed();
  }

  stop(): void {
    this.stopped = true;
    this.connectivity.stop();
    this.outgoing.stop();
    this.uploadStall.stop();
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
    return this.reel.unwatched;
  }

  // ——— history ———

  private async loadFirstPage(): Promise<void> {
    const { transport, conversation } = this.target;
    this.loading = 'initial';
    try {
      const page = await transport.listMessages(conversation, { limit: this.pageSize });
      if (this.stopped) return;
      this.connectivity.requestSucceeded();
      this.outgoing.confirmed(page.items);
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
      const reelError = ReelError.from(error, 'network');
      if (reelError.code === 'network') this.connectivity.requestFailed();
      this.host.failed(reelError, true, true);
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

  /**
   * The buddy's shared clips as the backend lists them now: with their `watchedBy`, and
   * without those unsent meanwhile (known before the request and not listed any more).
   */
  private async loadBuddyClips(): Promise<void> {
    const { transport, conversation, buddy } = this.target;
    const known = new Set(this.buddyClips.keys());
    try {
      const videos = await transport.listVideos(conversation, buddy!);
      if (this.stopped) return;
      for (const video of videos) {
        known.delete(video.id);
        this.reel.attach(video.id);
        this.rememberVideo(video);
      }
      for (const id of known) this.dropVideo(id);
      // Marks made while the backend could not be told go now.
      this.watch.sync(this.buddyClips.keys());
      this.host.changed();
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
    } else if (event.type === 'message.deleted') {
      if (event.message.conversation === conversation) this.deleted(event.message);
    } else if (event.type === 'video.watched') {
      if (event.watch.conversation !== conversation || !this.watch.onWatch(event.watch)) return;
      this.reel.flag();
      this.host.changed();
    }
  }

  private onConnection(state: 'online' | 'offline'): void {
    this.connectivity.streamChanged(state);
  }

  /** Online again (the stream opened, the browser's network came back, a request went through). */
  private recovered(): void {
    // Live events flow only from the moment the stream is open, so every (re)connection,
    // the first included, asks for what came before it.
    void this.catchUp();
    // What could not be sent while the connection was down goes now; the same clientId
    // makes a message that did reach the server come back as itself, not a second one.
    for (const clientId of this.timeline.retryable()) this.retry(clientId);
    this.outgoing.resumeTakes();
  }

  /** A request failed: reported; a network failure also shows the dialog offline until one succeeds. */
  private requestFailed(error: ReelError): void {
    if (error.code === 'network') this.connectivity.requestFailed();
    this.host.failed(error, false);
  }

  /** After a reconnect: every message after the newest one known, page by page, each once. */
  catchUp(): Promise<void> {
    return this.catchUpRun.run();
  }

  /** While catching up, after the messages: videos may have finished (or failed) while away. */
  private async refreshAfterCatchUp(): Promise<void> {
    for (const video of [...this.videos.values()]) {
      if (video.state === 'processing' || video.state === 'live') this.cache.fetch(video.id, true);
    }
    if (this.target.buddy) await this.loadBuddyClips();
  }

  /** New messages (oldest first) at the end of the list, each id once. */
  private receive(messages: readonly Message[], live: boolean): void {
    this.outgoing.confirmed(messages);
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
        this.reel.attach(message.video);
        const known = this.videos.get(message.video);
        if (known) this.rememberVideo(known);
      }
      if (!this.videos.has(message.video)) this.cache.fetch(message.video);
    }
  }

  rememberVideo(video: Video): void {
    this.cache.remember(video);
  }

  private remembered(video: Video): void {
    this.watch.noteVideo(video);
    if (this.upload?.video?.id === video.id) this.upload = { ...this.upload, video };
    this.reel.note(video);
    this.host.changed();
  }

  // ——— unsending ———

  /**
   * Unsends one of this person's messages; true once done. A refusal is kept in
   * `unsending` with the backend's reason (and reported, not shown as the dialog's problem).
   */
  async unsend(id: string): Promise<boolean> {
    const { transport, conversation } = this.target;
    if (this.stopped || !transport.deleteMessage) return false;
    if (this.unsending.has(id) && !this.unsending.get(id)!.error) return false;
    this.unsending.set(id, {});
    this.host.changed();
    try {
      await transport.deleteMessage(conversation, id);
      // The event follows (or came first): applying it again changes nothing.
      if (!this.stopped) this.deleted({ id });
      return true;
    } catch (error) {
      if (this.stopped) return false;
      const reelError = ReelError.from(error, 'network');
      this.unsending.set(id, { error: reelError.message });
      this.host.changed();
      this.host.failed(reelError, false);
      return false;
    }
  }

  /** A message was unsent (here, by `message.deleted`, or found so in a listing). */
  private deleted(message: Pick<Message, 'id'> & Partial<Message>): void {
    this.unsending.delete(message.id);
    const was = this.timeline.markDeleted(message.id);
    if (was?.video) this.dropVideo(was.video);
    else if (!was && message.author === this.target.buddy && !this.timeline.has(message.id)) {
      // Older than the pages loaded: which clip it had is not known here, the listing knows.
      void this.loadBuddyClips();
    }
    this.host.changed();
  }

  /** An unsent message's clip: out of the cache, the buddy's clips and a playing reel. */
  private dropVideo(id: string): void {
    this.cache.drop(id);
    this.reel.drop(id);
    this.watch.forget(id);
    if (this.upload?.video?.id === id) this.upload = undefined;
  }

  /** Reads a video again if its (signed) media URLs may have expired; false if stopped meanwhile. */
  async freshen(id: string): Promise<boolean> {
    const error = await this.cache.freshen(id);
    if (error) this.host.failed(error, false);
    return !this.stopped;
  }

  // ——— sending ———

  /** A draft for the composer's text (cut to `limit`), with a fresh clientId; undefined if blank. */
  draft(text: string, limit: number): MessageDraft | undefined {
    const trimmed = text.trim();
    return trimmed ? { clientId: nanoid(), text: cutToGraphemes(trimmed, limit) } : undefined;
  }

  /** Shows the draft as pending at once, keeps it until confirmed, and sends it. */
  send(draft: MessageDraft, authorName?: string): Promise<void> {
    return this.outgoing.send(draft, authorName);
  }

  /** Sends a failed message again with the same clientId. */
  retry(clientId: string): void {
    this.outgoing.retry(clientId);
  }

  // ——— the recorder's take ———

  uploadProgress(sent: number, total?: number): void {
    this.upload = { ...this.upload, sent, total, waiting: false };
    this.uploadStall.moved('upload');
    this.host.changed();
  }

  /** The recorder uploaded its take and sent its message (which may be listed already). */
  uploadComplete(video: Video): void {
    this.uploadStall.clear('upload');
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
    this.uploadStall.clear('upload');
    if (!this.upload || this.upload.video) return false;
    this.upload = undefined;
    this.host.changed();
    return true;
  }

  // ——— the buddy's reel ———

  /** The reel's clips, oldest first, with what this person watched (re-read when stale). */
  async openReel(ownerName: string): Promise<Clip[] | undefined> {
    if (this.stopped || this.reel.open) return undefined;
    if ([...this.buddyClips.keys()].some((id) => this.cache.isStale(id))) {
      await this.loadBuddyClips();
      if (this.stopped) return undefined;
    }
    const clips = this.reel.start(ownerName);
    this.host.changed();
    return clips;
  }

  closeReel(): void {
    this.reel.open = false;
  }

  /**
   * A player says a clip of someone else's played to its end (the player's rule: within
   * 0.3 s of it, or on into the next clip): remembered here, recorded on the backend once.
   */
  markWatched(id: string): void {
    const video = this.buddyClips.get(id) ?? this.videos.get(id);
    if (!video || video.owner === this.target.me || !this.watch.mark(id)) return;
    this.reel.flag();
    this.host.changed();
  }
}
