import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { styleMap } from 'lit/directives/style-map.js';
import { nanoid } from 'nanoid';
import { emit, type Clip, type ReelEventDetails } from '../internal/events.js';
import { format, formatDuration, mergeStrings } from '../internal/strings.js';
import { ConnectedElement } from '../internal/connected-element.js';
import { TransportController } from '../internal/transport-controller.js';
import { ReelError } from '../transport/errors.js';
import type { Message, MessageDraft, ReelEvent, ReelTransport, Video } from '../transport/types.js';
import { validateId } from '../transport/validate.js';
import { linkify } from './linkify.js';
import { chatStrings, type ChatStrings } from './strings.js';
import { Timeline, type Entry } from './timeline.js';
import { loadWatched, saveWatched } from './watched.js';
import styles from './reel-chat.styles.js';
import '../player/index.js';
import '../recorder/index.js';

/** How close to the bottom (px) still counts as "at the bottom" for following new messages. */
const STICKY = 48;
/** How close to the top (px) loads older messages. */
const NEAR_TOP = 64;
/** Page size when catching up after a reconnect. */
const CATCH_UP_PAGE = 100;
/**
 * Media URLs may carry an expiring signature (the reference server signs them): a video
 * known for longer than this is read again before it is played.
 */
const FRESH_MS = 5 * 60_000;

interface Upload {
  sent: number;
  total?: number;
  video?: Video;
}

/** The clip a player needs for one video. */
function clipOf(video: Video, ownerName?: string, watched?: boolean): Clip {
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
 * A chat dialog with video messages: history, live updates, a composer, a recorder and the
 * buddy's reel.
 *
 * @tagname reel-chat
 * @summary One conversation between this person and a buddy: text and video messages, live.
 *
 * @slot header-end - Extra controls at the end of the header (e.g. a close button of the host's dialog).
 * @slot empty - Shown instead of the default text when the conversation has no messages yet.
 *
 * @csspart base - The root of the dialog.
 * @csspart header - The bar with the buddy's name and the reel action.
 * @csspart title - The buddy's name.
 * @csspart play-all - The "play all of the buddy's clips" button.
 * @csspart badge - The count of new (unwatched) clips on the play-all button.
 * @csspart offline - The banner shown while the connection is down.
 * @csspart error - A problem with the configuration or with loading.
 * @csspart list - The scrolling message list (`role="log"`).
 * @csspart history - The top of the list: "Load older" button, progress or the beginning.
 * @csspart load-older - The "Load older messages" button.
 * @csspart message - Every message row; also `message-own` or `message-other`.
 * @csspart bubble - A message's bubble; also `bubble-own` or `bubble-other`.
 * @csspart author - The author's name in a bubble.
 * @csspart text - A message's text.
 * @csspart link - A link in a message's text.
 * @csspart meta - A message's time and sending state.
 * @csspart status - The sending state of this person's message (pending, failed).
 * @csspart retry - The button that sends a failed message again.
 * @csspart video - A video message's box.
 * @csspart video-state - A video's state (uploading, processing, failed).
 * @csspart poster - A video's poster while it is not ready.
 * @csspart duration - A video's duration.
 * @csspart player - The `<reel-player>` of a ready video message (its parts as `player-*`).
 * @csspart new-messages - The "new messages ↓" button shown while reading older ones.
 * @csspart composer - The form at the bottom.
 * @csspart record-button - The button that opens the recorder.
 * @csspart input - The message textarea.
 * @csspart counter - The characters left, shown near the limit.
 * @csspart send-button - The send button.
 * @csspart sheet - The recorder and reel panels over the dialog; also `recorder-sheet`, `reel-sheet`.
 * @csspart sheet-header - A panel's title bar.
 * @csspart close-button - A panel's close button.
 * @csspart recorder - The `<reel-recorder>` (its parts as `recorder-*`).
 * @csspart reel - The `<reel-player>` of the buddy's reel (its parts as `reel-*`).
 *
 * @cssproperty --reel-chat-height - The dialog's height (default 36rem; or give the element a height).
 * @cssproperty --reel-bubble-radius - A bubble's corner radius (falls back to --reel-radius).
 * @cssproperty --reel-bubble-own - Background of this person's bubbles (falls back to --reel-color-accent).
 * @cssproperty --reel-bubble-own-text - Text color of this person's bubbles.
 * @cssproperty --reel-bubble-other - Background of the buddy's bubbles.
 * @cssproperty --reel-bubble-other-text - Text color of the buddy's bubbles.
 * @cssproperty --reel-video-width - The width of a video message (default 240px).
 * @cssproperty --reel-color-text - Text color (shared palette).
 * @cssproperty --reel-color-surface - Background (shared palette).
 * @cssproperty --reel-color-muted - Secondary text (shared palette).
 * @cssproperty --reel-color-accent - Accent and own bubbles (shared palette).
 * @cssproperty --reel-color-on-accent - Text on the accent (shared palette).
 * @cssproperty --reel-color-danger - Errors and failed messages (shared palette).
 * @cssproperty --reel-color-border - Borders (shared palette).
 * @cssproperty --reel-radius - Corner radius (shared palette).
 * @cssproperty --reel-font - Font family (shared palette).
 * @cssproperty --reel-focus-ring - Focus indicator box-shadow (shared palette).
 *
 * @fires reel-request-send - Cancelable, before a text is sent: `{conversation, draft}`. `preventDefault()` vetoes; edit `detail.draft.text` to change it.
 * @fires reel-message - A message arrived or was sent (not for history): `{message}`.
 * @fires reel-error - Something failed (configuration, loading, sending): `{error}` with a `ReelError` code.
 * @fires reel-upload-progress - From the nested recorder, while this person's clip uploads.
 * @fires reel-upload-complete - From the nested recorder, when the clip is uploaded.
 * @fires reel-clip-change - From the nested players.
 * @fires reel-clip-watched - From the nested players; the reel remembers watched clips.
 * @fires reel-ended - From the nested players.
 */
export class ReelChat extends ConnectedElement {
  static override styles = styles;

  /** The other person's user id: whose clips "play all" plays. */
  @property() buddy?: string;
  /** The other person's display name (falls back to their names on messages, then `buddy`). */
  @property({ attribute: 'buddy-name' }) buddyName?: string;
  /** Longest message in characters. */
  @property({ type: Number, attribute: 'max-length' }) maxLength = 4000;
  /** Messages per history page. */
  @property({ type: Number, attribute: 'page-size' }) pageSize = 30;
  /** Replacements for any of the texts this element shows (see `chatStrings`). */
  @property({ attribute: false }) strings?: Partial<ChatStrings>;

  @state() private draftText = '';
  @state() private loading: 'idle' | 'initial' | 'older' = 'idle';
  @state() private hasOlder = false;
  /**
   * The live connection: `connecting` until the transport first reports, then `online` or
   * `offline` (reflected, so a host can style or test on it).
   */
  @property({ reflect: true }) connection: 'connecting' | 'online' | 'offline' = 'connecting';
  private get offline(): boolean {
    return this.connection === 'offline';
  }
  @state() private problem?: { message: string; retry?: () => void };
  @state() private unseen = 0;
  @state() private recorderOpen = false;
  /** The recorder stays in the page while its take uploads, even with its panel closed. */
  @state() private recorderMounted = false;
  /** Ready video messages the person started playing (their players are mounted). */
  @state() private playing: ReadonlySet<string> = new Set();
  @state() private reelOpen = false;
  @state() private upload?: Upload;
  @state() private announcement = '';

  @query('[part~="list"]') private list?: HTMLElement;
  @query('[part~="input"]') private input?: HTMLTextAreaElement;
  @query('[part~="record-button"]') private recordButton?: HTMLButtonElement;
  @query('[part~="play-all"]') private playAllButton?: HTMLButtonElement;

  private readonly transportController = new TransportController(
    this,
    () => this.requestUpdate(),
    (error) => this.report(error, true),
  );

  /** What the running session was started for; a change restarts it. */
  private active?: { transport: ReelTransport; conversation: string; buddy?: string; me: string };
  private generation = 0;
  private unsubscribe?: () => void;
  private timeline = new Timeline('');
  private olderCursor: string | null = null;
  /** Events that arrive while the first page loads, applied after it. */
  private queued?: ReelEvent[];
  private catchingUp?: Promise<void>;
  private catchUpAgain = false;
  private atBottom = true;
  private readonly videos = new Map<string, Video>();
  /** When each video was last read from the backend. */
  private readonly videoTimes = new Map<string, number>();
  private readonly videoRequests = new Set<string>();
  /** Video ids the buddy attached to messages: only those are the buddy's shared clips. */
  private readonly buddyMessageVideos = new Set<string>();
  private readonly buddyClips = new Map<string, Video>();
  private watched = new Set<string>();
  private readonly clipCache = new WeakMap<Video, Clip[]>();
  /** The reel player's list: grows at its end while open, never rebuilt (a new list restarts a player). */
  private reelClips: Clip[] = [];
  private configProblem?: string;
  /** Messages the nested recorder already announced with its own `reel-message`. */
  private readonly announced = new Set<string>();
  private mergedStrings: ChatStrings = chatStrings;

  /** The transport in use: the object given, or the one made from the attributes. */
  get activeTransport(): ReelTransport | undefined {
    return this.transportController.transport;
  }

  /** Scrolls the list to the newest message. */
  scrollToBottom(): void {
    const list = this.list;
    if (!list) return;
    list.scrollTop = list.scrollHeight;
    this.atBottom = true;
    this.unseen = 0;
  }

  /** Loads the page of messages before the oldest one shown, keeping what is on screen in place. */
  async loadOlder(): Promise<void> {
    const active = this.active;
    if (!active || this.loading !== 'idle' || !this.hasOlder || !this.olderCursor) return;
    const generation = this.generation;
    this.loading = 'older';
    try {
      const page = await active.transport.listMessages(active.conversation, {
        before: this.olderCursor,
        limit: this.page,
      });
      if (generation !== this.generation) return;
      const list = this.list;
      const height = list?.scrollHeight ?? 0;
      const top = list?.scrollTop ?? 0;
      const added = this.timeline.prepend(page.items);
      this.noteMessages(added);
      this.olderCursor = page.next;
      this.hasOlder = page.next !== null;
      this.loading = 'idle';
      this.requestUpdate();
      await this.updateComplete;
      if (list) list.scrollTop = top + (list.scrollHeight - height);
    } catch (error) {
      if (generation !== this.generation) return;
      this.loading = 'idle';
      this.report(ReelError.from(error, 'network'));
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stop();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('strings')) this.mergedStrings = mergeStrings(chatStrings, this.strings);
    // An endpoint alone means the reference server's protocol.
    if (!this.transport && this.endpoint) this.transport = 'http';
    const problem = this.findConfigProblem();
    if (problem !== this.configProblem) {
      const previous = this.configProblem;
      this.configProblem = problem;
      if (problem) this.report(new ReelError('bad-request', problem), true);
      else if (this.problem?.message === previous) this.problem = undefined;
    }
  }

  protected override updated(): void {
    this.reconcile();
  }

  // ——— session ———

  private findConfigProblem(): string | undefined {
    if (!this.transport) return this.t('missingTransport');
    if (!this.conversation) return this.t('missingConversation');
    for (const name of ['conversation', 'buddy', 'user'] as const) {
      const value = this[name];
      if (value === undefined || value === '') continue;
      try {
        validateId(value, name);
      } catch {
        return this.t('invalidId', { name, value });
      }
    }
    return undefined;
  }

  /** Starts, restarts or stops the live session to match the configuration. */
  private reconcile(): void {
    const transport = this.transportController.transport;
    const session = this.transportController.session;
    const wanted =
      transport && session && this.conversation && !this.configProblem
        ? {
            transport,
            conversation: this.conversation,
            buddy: this.buddy || undefined,
            me: session.user,
          }
        : undefined;
    const a = this.active;
    if (
      a === wanted ||
      (a &&
        wanted &&
        a.transport === wanted.transport &&
        a.conversation === wanted.conversation &&
        a.buddy === wanted.buddy &&
        a.me === wanted.me)
    ) {
      return;
    }
    this.stop();
    if (wanted) this.start(wanted);
  }

  private stop(): void {
    this.generation++;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.active = undefined;
  }

  private start(active: NonNullable<ReelChat['active']>): void {
    const generation = ++this.generation;
    this.active = active;
    this.timeline = new Timeline(active.me);
    this.videos.clear();
    this.videoTimes.clear();
    this.videoRequests.clear();
    this.buddyMessageVideos.clear();
    this.buddyClips.clear();
    this.reelClips = [];
    this.watched = active.buddy
      ? loadWatched(active.me, active.conversation, active.buddy)
      : new Set();
    this.olderCursor = null;
    this.hasOlder = false;
    this.connection = 'connecting';
    this.unseen = 0;
    this.upload = undefined;
    this.playing = new Set();
    this.announced.clear();
    this.atBottom = true;
    if (this.problem && !this.configProblem) this.problem = undefined;
    // Subscribe first, then load: whatever happens in between arrives as an event.
    this.queued = [];
    try {
      this.unsubscribe = active.transport.subscribe(active.conversation, (event) => {
        if (generation === this.generation) this.onEvent(event);
      });
    } catch (error) {
      this.queued = undefined;
      this.report(ReelError.from(error), true);
      return;
    }
    void this.loadFirstPage(generation);
    if (active.buddy) void this.loadBuddyClips(generation);
    this.requestUpdate();
  }

  private async loadFirstPage(generation: number): Promise<void> {
    const active = this.active!;
    this.loading = 'initial';
    try {
      const page = await active.transport.listMessages(active.conversation, {
        limit: this.page,
      });
      if (generation !== this.generation) return;
      this.noteMessages(this.timeline.append(page.items));
      this.olderCursor = page.next;
      this.hasOlder = page.next !== null;
      this.loading = 'idle';
      const queued = this.queued ?? [];
      this.queued = undefined;
      for (const event of queued) this.onEvent(event, false);
      this.requestUpdate();
      await this.updateComplete;
      if (generation !== this.generation) return;
      this.scrollToBottom();
      await this.fillViewport(generation);
    } catch (error) {
      if (generation !== this.generation) return;
      this.loading = 'idle';
      this.queued = undefined;
      const reelError = ReelError.from(error, 'network');
      this.report(reelError, true, () => this.restart());
    }
  }

  private restart(): void {
    this.problem = undefined;
    this.stop();
    this.reconcile();
  }

  /** Loads older pages while the list does not fill its box (nothing to scroll yet). */
  private async fillViewport(generation: number): Promise<void> {
    for (let i = 0; i < 10; i++) {
      const list = this.list;
      if (!list || !this.hasOlder || generation !== this.generation) return;
      if (list.scrollHeight > list.clientHeight + NEAR_TOP) return;
      await this.loadOlder();
    }
  }

  private async loadBuddyClips(generation: number): Promise<void> {
    const active = this.active!;
    try {
      const videos = await active.transport.listVideos(active.conversation, active.buddy!);
      if (generation !== this.generation) return;
      for (const video of videos) {
        this.buddyMessageVideos.add(video.id);
        this.rememberVideo(video);
      }
    } catch (error) {
      if (generation === this.generation) this.report(ReelError.from(error, 'network'));
    }
  }

  private onEvent(event: ReelEvent, live = true): void {
    if (event.type === 'connection') {
      this.onConnection(event.state);
      return;
    }
    if (this.queued) {
      this.queued.push(event);
      return;
    }
    const conversation = this.active?.conversation;
    if (event.type === 'message.created') {
      if (event.message.conversation === conversation) this.receive([event.message], live);
    } else if (event.type === 'video.updated') {
      if (event.video.conversation === conversation) this.rememberVideo(event.video);
    }
  }

  private onConnection(state: 'online' | 'offline'): void {
    if (state === 'offline') {
      this.connection = 'offline';
      return;
    }
    this.connection = 'online';
    // Live events flow only from the moment the stream is open, so every (re)connection,
    // the first included, asks for what came before it.
    void this.catchUp();
    // What could not be sent while the connection was down goes now; the same clientId
    // makes a message that did reach the server come back as itself, not a second one.
    for (const clientId of this.timeline.retryable()) this.retry(clientId);
  }

  /** After a reconnect: every message after the newest one known, page by page, each once. */
  private async catchUp(): Promise<void> {
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return this.catchingUp;
    }
    const active = this.active;
    if (!active) return;
    const generation = this.generation;
    const run = async () => {
      do {
        this.catchUpAgain = false;
        let cursor = this.timeline.newestId;
        if (cursor === undefined) {
          const page = await active.transport.listMessages(active.conversation, {
            limit: this.page,
          });
          if (generation !== this.generation) return;
          this.receive(page.items, true);
          if (this.olderCursor === null && page.next !== null) {
            this.olderCursor = page.next;
            this.hasOlder = true;
          }
          continue;
        }
        for (;;) {
          const page = await active.transport.listMessages(active.conversation, {
            after: cursor,
            limit: CATCH_UP_PAGE,
          });
          if (generation !== this.generation) return;
          this.receive(page.items, true);
          if (page.next === null || page.items.length === 0) break;
          cursor = page.next;
        }
        // Videos may have finished (or failed) while we were away.
        for (const video of [...this.videos.values()]) {
          if (video.state === 'processing') this.fetchVideo(video.id, true);
        }
        if (active.buddy) await this.loadBuddyClips(generation);
      } while (this.catchUpAgain && generation === this.generation);
    };
    this.catchingUp = run()
      .catch((error: unknown) => {
        if (generation === this.generation) this.report(ReelError.from(error, 'network'));
      })
      .finally(() => {
        this.catchingUp = undefined;
      });
    return this.catchingUp;
  }

  /** New messages (oldest first) at the end of the list, each id once. */
  private receive(messages: readonly Message[], live: boolean): void {
    const added = this.timeline.append(messages);
    if (added.length === 0) {
      return;
    }
    this.noteMessages(added);
    const me = this.active?.me;
    const own = added.some((message) => message.author === me);
    if (this.upload?.video && added.some((message) => message.video === this.upload?.video?.id)) {
      this.upload = undefined;
    }
    if (live) {
      for (const message of added) {
        if (!this.announced.has(message.id)) emit(this, 'reel-message', { message });
      }
      const theirs = added.filter((message) => message.author !== me);
      const last = theirs.at(-1);
      if (last) {
        const author = last.authorName || this.nameOf(last.author);
        this.announcement = last.video
          ? this.t('announceVideo', { author })
          : this.t('announceMessage', { author, text: last.text ?? '' });
      }
    }
    this.requestUpdate();
    if (this.atBottom || own || this.loading === 'initial') {
      void this.updateComplete.then(() => this.scrollToBottom());
    } else {
      this.unseen += added.length;
    }
  }

  /** Fetches the videos of newly listed messages and notes the buddy's. */
  private noteMessages(messages: readonly Message[]): void {
    for (const message of messages) {
      if (!message.video) continue;
      if (message.author === this.active?.buddy) {
        this.buddyMessageVideos.add(message.video);
        const known = this.videos.get(message.video);
        if (known) this.rememberVideo(known);
      }
      if (!this.videos.has(message.video)) this.fetchVideo(message.video);
    }
  }

  private fetchVideo(id: string, again = false): void {
    const active = this.active;
    if (!active || (this.videoRequests.has(id) && !again)) return;
    this.videoRequests.add(id);
    const generation = this.generation;
    active.transport.getVideo(active.conversation, id).then(
      (video) => {
        if (generation !== this.generation) return;
        // An event may have brought a newer state meanwhile.
        const known = this.videos.get(id);
        if (known && known.state !== 'processing' && video.state === 'processing') return;
        this.rememberVideo(video);
      },
      (error: unknown) => {
        if (generation !== this.generation) return;
        this.videoRequests.delete(id);
        this.report(ReelError.from(error, 'network'));
      },
    );
  }

  private rememberVideo(video: Video): void {
    this.videos.set(video.id, video);
    this.videoTimes.set(video.id, Date.now());
    if (this.upload?.video?.id === video.id) this.upload = { ...this.upload, video };
    const buddy = this.active?.buddy;
    if (this.buddyClips.has(video.id)) this.buddyClips.set(video.id, video);
    else if (
      buddy &&
      video.owner === buddy &&
      video.state === 'ready' &&
      this.buddyMessageVideos.has(video.id) &&
      !this.buddyClips.has(video.id)
    ) {
      this.buddyClips.set(video.id, video);
      if (this.reelOpen) {
        // Grows at its end; the flags follow what was watched meanwhile (the player keeps its place).
        this.reelClips = [
          ...this.reelClips.map((clip) => ({ ...clip, watched: this.watched.has(clip.id) })),
          clipOf(video, this.buddyLabel, false),
        ];
      }
    }
    this.requestUpdate();
  }

  // ——— sending ———

  private async send(): Promise<void> {
    const active = this.active;
    const text = this.draftText.trim();
    if (!active || !text) return;
    const draft: MessageDraft = { clientId: nanoid(), text: text.slice(0, this.limit) };
    const detail: ReelEventDetails['reel-request-send'] = {
      conversation: active.conversation,
      draft,
    };
    if (!emit(this, 'reel-request-send', detail, { cancelable: true })) return;
    // The host may have edited the draft in place.
    const final = detail.draft;
    if (final.video === undefined && !final.text?.trim()) return;
    this.draftText = '';
    this.timeline.addLocal(final, this.userName);
    this.requestUpdate();
    await this.updateComplete;
    this.scrollToBottom();
    await this.deliver(final);
  }

  private async deliver(draft: MessageDraft): Promise<void> {
    const active = this.active;
    if (!active) return;
    const generation = this.generation;
    try {
      const message = await active.transport.sendMessage(active.conversation, draft);
      if (generation === this.generation) this.receive([message], true);
    } catch (error) {
      if (generation !== this.generation) return;
      const reelError = ReelError.from(error, 'network');
      const retryable = reelError.code === 'network' || reelError.code === 'internal';
      this.timeline.fail(draft.clientId, reelError.message, retryable);
      this.requestUpdate();
      emit(this, 'reel-error', { error: reelError });
    }
  }

  private retry(clientId: string): void {
    const draft = this.timeline.retry(clientId);
    if (!draft) return;
    this.requestUpdate();
    void this.deliver(draft);
  }

  private onKeydown(event: KeyboardEvent): void {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    void this.send();
  }

  private onSubmit(event: Event): void {
    event.preventDefault();
    void this.send();
  }

  // ——— scrolling ———

  private onScroll(): void {
    const list = this.list;
    if (!list) return;
    this.atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < STICKY;
    if (this.atBottom && this.unseen) this.unseen = 0;
    if (list.scrollTop < NEAR_TOP && this.hasOlder && this.loading === 'idle')
      void this.loadOlder();
  }

  private showNew(): void {
    this.scrollToBottom();
    this.input?.focus();
  }

  // ——— recorder and reel ———

  private openRecorder(): void {
    this.recorderOpen = true;
    this.recorderMounted = true;
    void this.updateComplete.then(() => this.focusSheet());
  }

  private closeRecorder(): void {
    if (!this.recorderOpen) return;
    this.recorderOpen = false;
    // A take on its way keeps its recorder (hidden) until it is sent; the list shows its progress.
    if (!this.upload || this.upload.video) this.recorderMounted = false;
    void this.updateComplete.then(() => this.recordButton?.focus());
  }

  private onUploadProgress(event: CustomEvent<ReelEventDetails['reel-upload-progress']>): void {
    const { sent, total } = event.detail;
    this.upload = { ...this.upload, sent, total };
    if (this.atBottom) void this.updateComplete.then(() => this.scrollToBottom());
  }

  private onUploadComplete(event: CustomEvent<ReelEventDetails['reel-upload-complete']>): void {
    const video = event.detail;
    // The recorder has sent its message: it may be in the list already.
    const sent = this.timeline.entries().some((entry) => entry.video === video.id);
    this.upload = sent ? undefined : { sent: video.bytes ?? 0, total: video.bytes, video };
    if (!this.videos.has(video.id) || video.state !== 'processing') this.rememberVideo(video);
    this.closeRecorder();
    this.recorderMounted = false;
  }

  private onRecorderMessage(event: CustomEvent<ReelEventDetails['reel-message']>): void {
    const { message } = event.detail;
    if (message.conversation !== this.active?.conversation) return;
    this.announced.add(message.id);
    this.receive([message], false);
  }

  private onRecorderError(): void {
    // The recorder shows its own error (the event goes on to the host): show it to the person.
    if (this.upload && !this.upload.video) {
      this.upload = undefined;
      if (!this.recorderOpen) this.openRecorder();
    }
  }

  private isStale(id: string): boolean {
    return Date.now() - (this.videoTimes.get(id) ?? 0) > FRESH_MS;
  }

  private async playVideo(id: string): Promise<void> {
    const active = this.active;
    if (active && this.isStale(id)) {
      try {
        this.rememberVideo(await active.transport.getVideo(active.conversation, id));
      } catch (error) {
        this.report(ReelError.from(error, 'network'));
      }
      if (active !== this.active) return;
    }
    this.playing = new Set([...this.playing, id]);
    void this.updateComplete.then(() => {
      // The play button is gone: keep the focus on this video.
      const box = this.renderRoot.querySelector<HTMLElement>(`[data-video="${CSS.escape(id)}"]`);
      const player = box?.querySelector<HTMLElement>('reel-player');
      player?.focus();
      if (this.shadowRoot?.activeElement !== player) box?.focus();
    });
  }

  private async openReel(): Promise<void> {
    const active = this.active;
    if (!active || this.reelOpen) return;
    if ([...this.buddyClips.keys()].some((id) => this.isStale(id))) {
      await this.loadBuddyClips(this.generation);
      if (active !== this.active) return;
    }
    this.reelClips = [...this.buddyClips.values()]
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map((video) => clipOf(video, this.buddyLabel, this.watched.has(video.id)));
    this.reelOpen = true;
    void this.updateComplete.then(() => this.focusSheet());
  }

  private closeReel(): void {
    if (!this.reelOpen) return;
    this.reelOpen = false;
    void this.updateComplete.then(() => this.playAllButton?.focus());
  }

  private onClipWatched(event: CustomEvent<ReelEventDetails['reel-clip-watched']>): void {
    const active = this.active;
    const id = event.detail.clip.id;
    if (!active?.buddy || !this.buddyClips.has(id) || this.watched.has(id)) return;
    this.watched.add(id);
    saveWatched(active.me, active.conversation, active.buddy, this.watched);
    this.requestUpdate();
  }

  private focusSheet(): void {
    this.renderRoot.querySelector<HTMLElement>('[part~="close-button"]')?.focus();
  }

  private onSheetKeydown(event: KeyboardEvent, close: () => void): void {
    if (event.key === 'Escape') {
      event.stopPropagation();
      close();
    }
  }

  // ——— helpers ———

  private t(key: keyof ChatStrings, values?: Record<string, string | number>): string {
    return format(this.mergedStrings[key], values);
  }

  private get buddyLabel(): string {
    if (this.buddyName) return this.buddyName;
    const buddy = this.buddy ?? '';
    const named = this.timeline
      .entries()
      .find((entry) => entry.author === buddy && entry.authorName);
    return named?.authorName ?? buddy;
  }

  private nameOf(author: string): string {
    if (author === this.active?.me) return this.t('you');
    if (author === this.buddy) return this.buddyLabel;
    return author;
  }

  private report(error: ReelError, visible = false, retry?: () => void): void {
    if (visible) this.problem = { message: error.message, retry };
    emit(this, 'reel-error', { error });
  }

  private get limit(): number {
    return Number.isInteger(this.maxLength) && this.maxLength > 0 ? this.maxLength : 4000;
  }

  private get page(): number {
    return Number.isInteger(this.pageSize) && this.pageSize > 0 ? Math.min(this.pageSize, 200) : 30;
  }

  private get unwatchedCount(): number {
    let count = 0;
    for (const id of this.buddyClips.keys()) if (!this.watched.has(id)) count++;
    return count;
  }

  // ——— rendering ———

  protected override render(): TemplateResult {
    const sheetOpen = this.recorderOpen || this.reelOpen;
    const label = this.buddy ? this.t('label', { buddy: this.buddyLabel }) : this.t('labelNoBuddy');
    return html`
      <section part="base" class="base" aria-label=${label}>
        <div class="main" ?inert=${sheetOpen}>
          ${this.renderHeader()}
          <div part="offline" class="offline ${this.offline ? 'on' : ''}" role="status">
            ${this.offline ? this.t('offline') : nothing}
          </div>
          ${
            this.problem
              ? html`<div part="error" class="error" role="alert">
                  <span>${this.problem.message}</span>
                  ${
                    this.problem.retry
                      ? html`<button type="button" @click=${this.problem.retry}>
                          ${this.t('tryAgain')}
                        </button>`
                      : nothing
                  }
                </div>`
              : nothing
          }
          <div class="list-wrap">
            <div
              part="list"
              class="list"
              role="log"
              aria-live="off"
              aria-label=${this.t('messages')}
              aria-busy=${this.loading === 'idle' ? 'false' : 'true'}
              tabindex="0"
              @scroll=${this.onScroll}
            >
              ${this.renderHistoryTop()}
              ${repeat(
                this.timeline.entries(),
                (entry) => entry.key,
                (entry) => this.renderEntry(entry),
              )}
              ${this.renderUpload()}
            </div>
            ${
              this.unseen > 0
                ? html`<button
                    part="new-messages"
                    class="pill"
                    type="button"
                    @click=${this.showNew}
                  >
                    ${this.unseen === 1 ? this.t('newMessage') : this.t('newMessages', { count: this.unseen })}
                  </button>`
                : nothing
            }
          </div>
          <div class="sr-only" aria-live="polite">${this.announcement}</div>
          ${this.renderComposer()}
        </div>
        ${this.recorderMounted ? this.renderRecorder() : nothing}
        ${this.reelOpen ? this.renderReel() : nothing}
      </section>
    `;
  }

  private renderHeader(): TemplateResult {
    const count = this.unwatchedCount;
    return html`<header part="header" class="header">
      <span part="title" class="title"
        >${this.buddy ? this.buddyLabel : this.t('labelNoBuddy')}</span
      >
      ${
        this.buddy
          ? html`<button
              part="play-all"
              class="play-all"
              type="button"
              ?disabled=${!this.active}
              @click=${this.openReel}
            >
              <span aria-hidden="true" class="icon">▶</span>
              <span>${this.t('playAll', { buddy: this.buddyLabel })}</span>
              ${
                count > 0
                  ? html`<span part="badge" class="badge">${this.t('newClips', { count })}</span>`
                  : nothing
              }
            </button>`
          : nothing
      }
      <slot name="header-end"></slot>
    </header>`;
  }

  private renderHistoryTop(): TemplateResult {
    let content: unknown = nothing;
    if (this.loading === 'initial') content = html`<span>${this.t('loading')}</span>`;
    else if (this.loading === 'older') content = html`<span>${this.t('loadingOlder')}</span>`;
    else if (this.hasOlder) {
      content = html`<button
        part="load-older"
        class="load-older"
        type="button"
        @click=${this.loadOlder}
      >
        ${this.t('loadOlder')}
      </button>`;
    } else if (this.active && this.timeline.size === 0 && !this.upload) {
      content = html`<slot name="empty">${this.t('empty')}</slot>`;
    } else if (this.active) content = html`<span>${this.t('beginning')}</span>`;
    return html`<div part="history" class="history">${content}</div>`;
  }

  private renderEntry(entry: Entry): TemplateResult {
    const own = entry.author === this.active?.me;
    const side = own ? 'own' : 'other';
    const time = new Date(entry.createdAt);
    return html`<div part="message message-${side}" class="message ${side}" data-id=${entry.key}>
      <div part="bubble bubble-${side}" class="bubble ${entry.status}">
        ${
          own
            ? nothing
            : html`<span part="author" class="author"
                >${entry.authorName || this.nameOf(entry.author)}</span
              >`
        }
        ${entry.video ? this.renderVideo(entry.video, entry) : this.renderText(entry.text ?? '')}
      </div>
      <div part="meta" class="meta">
        <time datetime=${entry.createdAt}
          >${time.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</time
        >
        ${
          entry.status === 'pending'
            ? html`<span part="status" class="status">${this.t('pending')}</span>`
            : entry.status === 'failed'
              ? html`<span part="status" class="status failed" title=${entry.error ?? ''}
                    >${
                      // A refusal (not a lost connection, which is retried by itself) says why.
                      entry.retryable || !entry.error
                        ? this.t('failed')
                        : this.t('failedReason', { reason: entry.error })
                    }</span
                  >
                  <button
                    part="retry"
                    class="retry"
                    type="button"
                    @click=${() => this.retry(entry.clientId)}
                  >
                    ${this.t('retry')}
                  </button>`
              : nothing
        }
      </div>
    </div>`;
  }

  private renderText(text: string): TemplateResult {
    const parts = linkify(text).map((part) =>
      part.kind === 'link'
        ? html`<a part="link" href=${part.href} target="_blank" rel="noopener noreferrer"
            >${part.text}</a
          >`
        : part.text,
    );
    // No whitespace around the parts: the text keeps its own line breaks (pre-wrap).
    return html`<p part="text" class="text">${parts}</p>`;
  }

  private renderVideo(id: string, entry: Entry): TemplateResult {
    const video = this.videos.get(id);
    const ratio = video?.width && video?.height ? `${video.width} / ${video.height}` : undefined;
    const box = styleMap(ratio ? { aspectRatio: ratio } : {});
    let body: TemplateResult;
    if (!video) {
      body = html`<span part="video-state" class="video-state">${this.t('videoLoading')}</span>`;
    } else if (video.state === 'ready' && this.playing.has(video.id)) {
      let clips = this.clipCache.get(video);
      if (!clips) {
        clips = [clipOf(video, entry.authorName || this.nameOf(entry.author))];
        this.clipCache.set(video, clips);
      }
      body = html`<reel-player
        part="player"
        class="player"
        exportparts="base:player-base,progress:player-progress,stage:player-stage,video:player-video,controls:player-controls,button:player-button"
        autoplay
        .clips=${clips}
      ></reel-player>`;
    } else if (video.state === 'ready') {
      // A player (and its media) only once asked for: a long history stays light.
      const label = video.duration
        ? this.t('playVideoDuration', { duration: formatDuration(video.duration) })
        : this.t('playVideo');
      body = html`${
          video.poster
            ? html`<img part="poster" class="poster" src=${video.poster} alt="" />`
            : nothing
        }<button
          part="play-button"
          class="play"
          type="button"
          aria-label=${label}
          @click=${() => this.playVideo(video.id)}
        >
          <span aria-hidden="true">▶</span>
        </button>`;
    } else {
      body = html`${
          video.poster
            ? html`<img part="poster" class="poster" src=${video.poster} alt="" />`
            : nothing
        }
        <span part="video-state" class="video-state ${video.state}">
          ${
            video.state === 'processing'
              ? this.t('videoProcessing')
              : video.reason
                ? this.t('videoFailed', { reason: video.reason })
                : this.t('videoFailedNoReason')
          }
        </span>`;
    }
    return html`<div
      part="video"
      class="video ${video?.state ?? 'loading'}"
      data-video=${id}
      tabindex="-1"
      style=${box}
      role="group"
      aria-label=${this.t('videoMessage')}
    >
      ${body}
      ${
        video?.duration
          ? html`<span
              part="duration"
              class="duration"
              aria-label=${this.t('duration', { duration: formatDuration(video.duration) })}
              >${formatDuration(video.duration)}</span
            >`
          : nothing
      }
    </div>`;
  }

  /** This person's clip while it uploads, until its message is in the list. */
  private renderUpload(): TemplateResult | typeof nothing {
    const upload = this.upload;
    if (!upload) return nothing;
    const video = upload.video;
    const percent = upload.total
      ? Math.min(100, Math.floor((upload.sent / upload.total) * 100))
      : undefined;
    const text = video
      ? video.state === 'failed'
        ? this.t('videoFailed', { reason: video.reason ?? '' })
        : this.t('videoProcessing')
      : percent === undefined
        ? this.t('videoUploadingUnknown')
        : this.t('videoUploading', { percent });
    return html`<div part="message message-own" class="message own" data-id="upload">
      <div part="bubble bubble-own" class="bubble pending">
        <div part="video" class="video uploading" role="group" aria-label=${this.t('videoMessage')}>
          <span part="video-state" class="video-state">${text}</span>
          ${
            percent !== undefined && !video
              ? html`<progress max="100" .value=${percent} aria-label=${text}></progress>`
              : nothing
          }
        </div>
      </div>
    </div>`;
  }

  private renderComposer(): TemplateResult {
    const length = this.draftText.length;
    const left = this.limit - length;
    const near = left <= Math.max(20, Math.floor(this.limit * 0.1));
    return html`<form part="composer" class="composer" @submit=${this.onSubmit}>
      <button
        part="record-button"
        class="record"
        type="button"
        aria-label=${this.t('record')}
        title=${this.t('record')}
        ?disabled=${!this.active}
        @click=${this.openRecorder}
      >
        <span aria-hidden="true" class="record-dot"></span>
      </button>
      <div class="field">
        <textarea
          part="input"
          class="input"
          rows="1"
          aria-label=${this.t('composerLabel')}
          aria-describedby="counter"
          placeholder=${this.t('placeholder')}
          maxlength=${this.limit}
          .value=${this.draftText}
          @input=${(event: Event) => (this.draftText = (event.target as HTMLTextAreaElement).value)}
          @keydown=${this.onKeydown}
        ></textarea>
        <span
          part="counter"
          id="counter"
          class="counter ${left < 0 ? 'over' : ''}"
          aria-live="polite"
          >${
            near
              ? left < 0
                ? this.t('tooLong', { count: -left })
                : this.t('charactersLeft', { count: left })
              : nothing
          }</span
        >
      </div>
      <button
        part="send-button"
        class="send"
        type="submit"
        ?disabled=${!this.active || !this.draftText.trim() || left < 0}
      >
        ${this.t('send')}
      </button>
    </form>`;
  }

  private renderRecorder(): TemplateResult {
    const close = () => this.closeRecorder();
    return html`<div
      part="sheet recorder-sheet"
      class="sheet"
      ?hidden=${!this.recorderOpen}
      role="dialog"
      aria-labelledby="recorder-title"
      @keydown=${(event: KeyboardEvent) => this.onSheetKeydown(event, close)}
    >
      <div part="sheet-header" class="sheet-header">
        <h2 id="recorder-title">${this.t('recorderTitle')}</h2>
        <button
          part="close-button"
          class="close"
          type="button"
          aria-label=${this.t('close')}
          @click=${close}
        >
          <span aria-hidden="true">✕</span>
        </button>
      </div>
      <reel-recorder
        part="recorder"
        class="recorder"
        autostart
        exportparts="base:recorder-base,stage:recorder-stage,preview:recorder-preview,review:recorder-review,status:recorder-status,controls:recorder-controls,button:recorder-button,primary-button:recorder-primary-button"
        .transport=${this.transportController.transport}
        .conversation=${this.conversation}
        @reel-upload-progress=${this.onUploadProgress}
        @reel-upload-complete=${this.onUploadComplete}
        @reel-error=${this.onRecorderError}
        @reel-message=${this.onRecorderMessage}
        @reel-record-cancel=${close}
      ></reel-recorder>
    </div>`;
  }

  private renderReel(): TemplateResult {
    const close = () => this.closeReel();
    const buddy = this.buddyLabel;
    return html`<div
      part="sheet reel-sheet"
      class="sheet reel-sheet"
      role="dialog"
      aria-labelledby="reel-title"
      @keydown=${(event: KeyboardEvent) => this.onSheetKeydown(event, close)}
    >
      <div part="sheet-header" class="sheet-header">
        <h2 id="reel-title">${this.t('reelTitle', { buddy })}</h2>
        <button
          part="close-button"
          class="close"
          type="button"
          aria-label=${this.t('close')}
          @click=${close}
        >
          <span aria-hidden="true">✕</span>
        </button>
      </div>
      ${
        this.reelClips.length
          ? html`<reel-player
              part="reel"
              class="reel"
              exportparts="base:reel-base,progress:reel-progress,segment:reel-segment,stage:reel-stage,video:reel-video,controls:reel-controls,button:reel-button"
              .clips=${this.reelClips}
              autoplay
              @reel-clip-watched=${this.onClipWatched}
            ></reel-player>`
          : html`<p class="no-clips">${this.t('noClips', { buddy })}</p>`
      }
    </div>`;
  }
}
