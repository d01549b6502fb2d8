import { html, nothing, type TemplateResult } from 'lit';
import { query } from 'lit/decorators/query.js';
import { repeat } from 'lit/directives/repeat.js';
import { clock } from '../internal/clock.js';
import { property, state } from '../internal/decorators.js';
import { spokenDuration } from '../internal/durations.js';
import { emit, type ReelEventDetails } from '../internal/events.js';
import { Localizer } from '../internal/i18n.js';
import { ConnectedElement } from '../internal/connected-element.js';
import { TransportController } from '../internal/transport-controller.js';
import { ReelError } from '../transport/errors.js';
import type { Outbox } from '../outbox/outbox.js';
import type { Message, ReelTransport } from '../transport/types.js';
import type { ChatSession } from './chat-session.js';
import { chatSessionCode, loadChatSession } from './lazy-parts.js';
import { sameTarget, type SessionTarget } from './session-types.js';
import { renderComposer } from './composer-part.js';
import { configProblem, renderHeader, renderHistoryTop, renderProblem } from './dialog-parts.js';
import { renderEntry, type MessageContext } from './message-parts.js';
import { VideoAnnouncer } from './live-parts.js';
import { Sheets } from './sheets.js';
import { chatStrings, type ChatStrings } from './strings.js';
import styles from './reel-chat.styles.js';
import { UnsendControl } from './unsend-parts.js';
import { InlinePlayers, prefetchPlayer } from './inline-players.js';
import { renderUpload } from './upload-parts.js';
import { ListScroll } from './list-scroll.js';

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
 * @csspart unsend-button - "Unsend" on this person's messages (when the transport can unsend).
 * @csspart unsend-confirm - The confirm that takes its place; its buttons `unsend-yes`, `unsend-no`.
 * @csspart deleted - "Message deleted" in an unsent message's bubble.
 * @csspart seen - "Seen" on this person's clip once someone else watched it.
 * @csspart video - A video message's box.
 * @csspart video-state - A video's state (uploading, processing, live, failed).
 * @csspart live-badge - "Live" on a video message whose take is still recorded.
 * @csspart cancel-upload - Cancel on a take of the outbox that waits for the connection or failed.
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
  /**
   * Where this person's takes and unsent texts are kept until the backend confirms them
   * (default: one shared `reelchat-outbox` database); given to the nested recorder too.
   */
  @property({ attribute: false }) outbox?: Outbox;
  /**
   * Share takes live: the nested recorder's `live` — the message goes out at Record and the
   * buddy can watch while it is recorded (docs/protocol.md, "Live"). The host chooses.
   */
  @property({ type: Boolean }) live = false;
  /**
   * The shape of this person's takes, given to the nested recorder (its `shape`): `portrait`
   * (9:16), `square` (1:1, round) or `landscape` (16:9). Default: what suits the screen.
   */
  @property() shape?: 'portrait' | 'square' | 'landscape';

  @state() private draftText = '';
  /** The last paste was cut to `max-length` (said under the composer until the next edit). */
  @state() private draftCut = false;
  /**
   * The live connection: `connecting` until the transport first reports, then `online` or
   * `offline` (reflected, so a host can style or test on it).
   */
  @property({ reflect: true }) connection: 'connecting' | 'online' | 'offline' = 'connecting';
  @state() private problem?: { message: string; retry?: () => void };
  @state() private unseen = 0;
  @state() private announcement = '';
  /** Says others' videos in the live region, each once. */
  private readonly videoAnnouncer = new VideoAnnouncer(
    (key, values) => (this.announcement = this.t(key, values)),
  );

  @query('[part~="list"]') private list?: HTMLElement;
  @query('[part~="input"]') private input?: HTMLTextAreaElement;
  @query('[part~="record-button"]') private recordButton?: HTMLButtonElement;
  @query('[part~="play-all"]') private playAllButton?: HTMLButtonElement;

  private readonly sheets = new Sheets(this, {
    session: () => this.session,
    transport: () => this.transportController.transport,
    conversation: () => this.conversation,
    outbox: () => this.outbox,
    live: () => this.live,
    shape: () => this.shape,
    buddyLabel: () => this.buddyLabel,
    report: (error) => this.report(error, true),
    followUpload: () => {
      if (this.listScroll.atBottom) void this.updateComplete.then(() => this.scrollToBottom());
    },
    focusPanel: () => this.focusSheet(),
    focusRecordButton: () => this.recordButton?.focus(),
    // Its clips all unsent while the reel was open, the button is gone: the list takes focus.
    focusPlayAll: () => (this.playAllButton ?? this.list)?.focus(),
    root: () => this.shadowRoot,
  });

  private readonly players = new InlinePlayers(this, {
    session: () => this.session,
    report: (error) => this.report(error, true),
    nameOf: (author) => this.nameOf(author),
    root: () => this.shadowRoot,
  });

  private readonly unsend = new UnsendControl(this, {
    session: () => this.session,
    root: () => this.shadowRoot,
    report: (error) => this.report(error, true),
    focusList: () => this.list?.focus(),
  });

  private readonly listScroll = new ListScroll({
    list: () => this.list,
    session: () => this.session,
    rendered: () => this.updateComplete,
    addUnseen: (count) => (this.unseen += count),
    clearUnseen: () => (this.unseen = 0),
  });

  private readonly transportController = new TransportController(
    this,
    () => this.requestUpdate(),
    (error) => this.report(error, true),
  );

  /** The running session (state and transitions); a change of its target starts another. */
  private session?: ChatSession;
  private configProblem?: string;
  /** Loading the session's code (or failed to, until "Try again"). */
  private sessionLoad?: Promise<void>;
  /** The texts in the element's language (`lang`, inherited), with `strings` on top. */
  private readonly i18n = new Localizer(this, 'chat', chatStrings, () => this.strings);

  /** The transport in use: the object given, or the one made from the attributes. */
  get activeTransport(): ReelTransport | undefined {
    return this.transportController.transport;
  }

  /** Scrolls the list to the newest message. */
  scrollToBottom(): void {
    this.listScroll.toBottom();
  }

  /** Loads the page of messages before the oldest one shown, keeping what is on screen in place. */
  loadOlder(): Promise<void> {
    return this.listScroll.loadOlder();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // The session's code loads beside the transport's: the first render does not need it.
    loadChatSession().catch(() => undefined);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stop();
    this.listScroll.disconnect();
  }

  protected override willUpdate(): void {
    // An endpoint alone means the reference server's protocol.
    if (!this.transport && this.endpoint) this.transport = 'http';
    const problem = configProblem(this, (key, values) => this.t(key, values));
    if (problem !== this.configProblem) {
      const previous = this.configProblem;
      this.configProblem = problem;
      if (problem) this.report(new ReelError('bad-request', problem), true);
      else if (this.problem?.message === previous) this.problem = undefined;
    }
  }

  protected override updated(): void {
    this.reconcile();
    this.listScroll.rendered();
  }

  // ——— session ———

  /** Starts, restarts or stops the live session to match the configuration. */
  private reconcile(): void {
    const transport = this.transportController.transport;
    const connected = this.transportController.session;
    const wanted: SessionTarget | undefined =
      transport && connected && this.conversation && !this.configProblem
        ? {
            transport,
            conversation: this.conversation,
            buddy: this.buddy || undefined,
            me: connected.user,
            outbox: this.outbox,
          }
        : undefined;
    if (sameTarget(this.session?.target, wanted)) return;
    this.stop();
    if (wanted) this.start(wanted);
  }

  private stop(): void {
    this.session?.stop();
    this.session = undefined;
  }

  private start(target: SessionTarget): void {
    const code = chatSessionCode;
    if (!code) {
      // Once its code is in, the next update starts it; a failed load waits for "Try again".
      this.sessionLoad ??= loadChatSession().then(
        () => {
          this.sessionLoad = undefined;
          this.requestUpdate();
        },
        (error: unknown) =>
          this.report(ReelError.from(error, 'network'), true, () => this.restart()),
      );
      return;
    }
    this.connection = 'connecting';
    this.players.reset();
    this.listScroll.reset();
    if (this.problem && !this.configProblem) this.problem = undefined;
    const session: ChatSession = new code.ChatSession(
      target,
      {
        changed: () => {
          if (this.session !== session) return;
          this.connection = session.connection;
          this.videoAnnouncer.changed(session.videos, session.target.me, (u) => this.nameOf(u));
          this.requestUpdate();
        },
        failed: (error, visible, restartable) =>
          this.report(error, visible, restartable ? () => this.restart() : undefined),
        appended: (added, live) => this.onAppended(session, added, live),
        message: (message) => emit(this, 'reel-message', { message }),
        loaded: () => void this.listScroll.firstPage(session),
      },
      this.page,
    );
    this.session = session;
    session.start();
  }

  private restart(): void {
    this.problem = undefined;
    this.sessionLoad = undefined;
    this.stop();
    this.reconcile();
  }

  private onAppended(session: ChatSession, added: readonly Message[], live: boolean): void {
    const me = session.target.me;
    if (live) {
      const last = added.filter((message) => message.author !== me).at(-1);
      if (last) {
        const author = last.authorName || this.nameOf(last.author);
        if (last.video) this.videoAnnouncer.arrived(last.video, author, session.videos);
        else this.announcement = this.t('announceMessage', { author, text: last.text ?? '' });
      }
    }
    const own = added.some((message) => message.author === me);
    this.listScroll.appended(added.length, own || session.loading === 'initial');
  }

  // ——— sending ———

  private async send(): Promise<void> {
    const session = this.session;
    const draft = session?.draft(this.draftText, this.limit);
    if (!session || !draft) return;
    const detail: ReelEventDetails['reel-request-send'] = {
      conversation: session.target.conversation,
      draft,
    };
    if (!emit(this, 'reel-request-send', detail, { cancelable: true })) return;
    // The host may have edited the draft in place.
    const final = detail.draft;
    if (final.video === undefined && !final.text?.trim()) return;
    this.draftText = '';
    this.draftCut = false;
    const sending = session.send(final, this.userName);
    await this.updateComplete;
    this.scrollToBottom();
    await sending;
  }

  // ——— scrolling ———

  private onScroll(): void {
    this.listScroll.onScroll();
  }

  private showNew(): void {
    this.scrollToBottom();
    this.input?.focus();
  }

  private focusSheet(): void {
    this.renderRoot.querySelector<HTMLElement>('[part~="close-button"]')?.focus();
  }

  // ——— helpers ———

  private t(key: keyof ChatStrings, values?: Record<string, string | number>): string {
    return this.i18n.t(key, values);
  }

  private get buddyLabel(): string {
    return this.session?.buddyLabel(this.buddyName) ?? this.buddyName ?? this.buddy ?? '';
  }

  private nameOf(author: string): string {
    if (author === this.session?.target.me) return this.t('you');
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

  // ——— rendering ———

  /** What the message parts need, made once per element. */
  private readonly messages: MessageContext = {
    t: (key, values) => this.t(key, values),
    clock: (seconds) => clock(seconds, this.i18n.locale),
    spoken: (seconds) => spokenDuration(seconds, this.i18n.locale),
    locale: () => this.i18n.locale,
    me: undefined,
    nameOf: (author) => this.nameOf(author),
    video: (id) => this.session?.videos.get(id),
    playing: (video, entry) => this.players.clips(video, entry),
    play: (id) => void this.players.play(id),
    prefetchPlayer,
    retry: (clientId) => this.session?.retry(clientId),
    cancelTake: (clientId) => void this.session?.outgoing.cancel(clientId),
    seen: (id) => this.session?.watch.seen.has(id) ?? false,
  };

  protected override render(): TemplateResult {
    const session = this.session;
    const sheetOpen = this.sheets.open;
    const label = this.buddy ? this.t('label', { buddy: this.buddyLabel }) : this.t('labelNoBuddy');
    const offline = this.connection === 'offline';
    const t = this.messages.t;
    const messages = { ...this.messages, me: session?.target.me, unsend: this.unsend.context(t) };
    return html`
      <section
        part="base"
        class="base"
        aria-label=${label}
        lang=${this.i18n.locale}
        dir=${this.i18n.dir}
      >
        <div class="main" ?inert=${sheetOpen}>
          ${renderHeader({
            t,
            buddy: this.buddy,
            buddyLabel: this.buddyLabel,
            unwatched: session?.unwatchedCount ?? 0,
            hasClips: !!session && (session.buddyClips.size > 0 || session.reel.open),
            enabled: !!session,
            openReel: this.sheets.showReel,
            prefetchPlayer: this.sheets.prefetchReel,
          })}
          <div part="offline" class="offline ${offline ? 'on' : ''}" role="status">
            ${offline ? this.t('offline') : nothing}
          </div>
          ${renderProblem(t, this.problem)}
          <div class="list-wrap">
            <div
              part="list"
              class="list"
              role="log"
              aria-live="off"
              aria-label=${this.t('messages')}
              aria-busy=${(session?.loading ?? 'idle') === 'idle' ? 'false' : 'true'}
              tabindex="0"
              @scroll=${this.onScroll}
              @reel-clip-watched=${this.players.watched}
            >
              ${renderHistoryTop(t, session, () => void this.loadOlder())}
              ${repeat(
                session?.timeline.entries() ?? [],
                (entry) => entry.key,
                (entry) => renderEntry(messages, entry),
              )}
              ${[...(session?.outgoing.takes.values() ?? [])].map((take) =>
                renderUpload(messages, take, offline),
              )}
              ${renderUpload(messages, session?.upload, offline)}
            </div>
            ${
              this.unseen > 0
                ? html`<button
                    part="new-messages"
                    class="pill"
                    type="button"
                    @click=${this.showNew}
                  >
                    ${this.t('newMessages', { count: this.unseen })}
                  </button>`
                : nothing
            }
          </div>
          <div class="sr-only" aria-live="polite">${this.announcement}</div>
          ${renderComposer({
            t,
            text: this.draftText,
            limit: this.limit,
            cut: this.draftCut,
            enabled: !!session,
            input: (text, cut) => {
              this.draftText = text;
              this.draftCut = !!cut;
            },
            send: () => void this.send(),
            record: this.sheets.showRecorder,
            prefetchRecorder: this.sheets.prefetchRecorder,
          })}
        </div>
        ${this.sheets.render(t)}
      </section>
    `;
  }
}
