import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { property, state } from '../internal/decorators.js';
import { emit } from '../internal/events.js';
import { spokenDuration } from '../internal/durations.js';
import { Localizer } from '../internal/i18n.js';
import { themeStyles } from '../internal/theme.js';
import { ConnectedElement } from '../internal/connected-element.js';
import type { Outbox } from '../outbox/outbox.js';
import { ReelError } from '../transport/errors.js';
import type { RecorderSession } from './recorder-session.js';
import {
  IDLE_VIEW,
  type RecorderAction,
  type RecorderText,
  type RecorderView,
} from './recorder-view.js';
import styles from './reel-recorder.styles.js';
import { recorderStrings, type RecorderStrings, type UpFrontRecorderStrings } from './strings.js';

/** What the recorder is doing, reflected as its `state` attribute. */
export type RecorderState =
  | 'idle'
  | 'asking-permission'
  | 'previewing'
  | 'recording'
  | 'reviewing'
  | 'uploading'
  | 'sent'
  | 'error';

/**
 * Records a video message with the camera and microphone and sends it: the preview is
 * mirrored (the recording is not), the camera and microphone chosen are remembered, and
 * the take is written chunk by chunk to an outbox in IndexedDB and uploaded while it is
 * still being recorded, so little is left to send when the person presses stop. With a
 * `conversation`, the recorder sends the video message itself, exactly once per take (the
 * upload and the message share one `clientId`); takes a previous page left unsent are
 * resumed when it connects.
 *
 * States (the `state` attribute): `idle`, `asking-permission`, `previewing`, `recording`,
 * `reviewing`, `uploading`, `sent`, `error`.
 *
 * @tagname reel-recorder
 * @summary Camera and microphone recorder that uploads while recording and sends the video message.
 *
 * @attr shape - The take's shape: `portrait` (9:16), `square` (1:1, shown round, a "video note")
 *   or `landscape` (16:9). Default: portrait on a screen taller than wide (a phone held
 *   upright), landscape otherwise. The camera is asked for that aspect ratio.
 *
 * @csspart base - The root, with a `data-state` attribute.
 * @csspart stage - The picture area.
 * @csspart preview - The live, mirrored camera preview `<video>`.
 * @csspart review - The `<video>` that plays the take back before it is sent.
 * @csspart review-box - The review's video with its own controls (`review-controls`: `review-play-button`, `scrubber`, `review-time`).
 * @csspart discard-confirm - "Discard this recording?" after Escape in review (`discard-button`, `keep-button`).
 * @csspart status - What is happening, or what went wrong (a live region; also `error` when it is an error).
 * @csspart timer - The elapsed time and countdown while recording.
 * @csspart indicator - The pulsing recording dot.
 * @csspart elapsed - The elapsed time.
 * @csspart countdown - The time left before the recording stops by itself (also `countdown-ending` in the last 10 s).
 * @csspart progress - The `<progress>` bar while sending.
 * @csspart devices - The row of device choices.
 * @csspart device-label - The label around each device choice.
 * @csspart camera-select - The camera `<select>` (when there is more than one camera without a facing direction).
 * @csspart microphone-select - The microphone `<select>` (when there is more than one).
 * @csspart switch-button - Switches between the front and back camera.
 * @csspart controls - The row of main buttons.
 * @csspart button - Every button (also `primary-button`, `secondary-button`, and one of `start-button`,
 *   `record-button`, `stop-button`, `send-button`, `retry-button`, `again-button`, `cancel-button`, `retake-button`).
 *
 * @cssproperty --reel-recorder-aspect-ratio - Shape of the picture area (default `16 / 9`).
 * @cssproperty --reel-recorder-background - Behind the picture (default `#000`).
 * @cssproperty --reel-recorder-radius - Corner radius of the picture (default `var(--reel-radius, 12px)`).
 * @cssproperty --reel-recorder-record-color - The record and stop buttons and the recording dot (default `var(--reel-color-danger)`).
 * @cssproperty --reel-button-radius - Corner radius of buttons (default `999px`).
 * @cssproperty --reel-color-accent - Primary buttons and the progress bar.
 * @cssproperty --reel-color-text - Text.
 * @cssproperty --reel-color-surface - Background.
 * @cssproperty --reel-color-border - Borders of buttons and selects.
 * @cssproperty --reel-color-danger - Errors.
 *
 * @fires reel-record-start - Recording started. Detail: `{ mimeType, clientId }`.
 * @fires reel-record-stop - Recording stopped (by the person or the time limit). Detail: `{ duration, bytes, clientId, mimeType, blob }`.
 * @fires reel-record-cancel - The person discarded the take while recording, or closed the camera. Detail: `{ clientId? }`.
 * @fires reel-upload-progress - While a take the person chose to send is uploading. Detail: `{ sent, total, clientId }`.
 * @fires reel-upload-complete - The take is uploaded and its message sent. Detail: the `Video`.
 * @fires reel-message - The video message the recorder sent. Detail: `{ message }`.
 * @fires reel-error - Something failed; the element shows why. Detail: `{ error }` (a `ReelError` with a `code`).
 */
export class ReelRecorder extends ConnectedElement {
  static override styles = [themeStyles, styles];

  /** The longest take in seconds; recording stops by itself then (default 60). */
  @property({ type: Number, attribute: 'max-duration' }) maxDuration = 60;
  /**
   * Skip the review: stop sends at once. (A boolean attribute: present means no review.
   * Review is on by default, as `confirm` is in the design.)
   */
  @property({ type: Boolean, attribute: 'no-confirm' }) noConfirm = false;
  /**
   * Share each take while it is recorded: its message is sent at Record and the buddy can
   * watch it live (docs/protocol.md, "Live"); Cancel withdraws it.
   */
  @property({ type: Boolean }) live = false;
  /** Turn the camera on as soon as the element connects (otherwise a button does). */
  @property({ type: Boolean }) autostart = false;
  /** Replacements for any of the texts (see `recorderStrings`). */
  @property({ attribute: false }) strings?: Partial<RecorderStrings>;

  /**
   * Where takes are kept until sent (default: one shared `reelchat-outbox` database, opened
   * when the recorder first needs it).
   */
  @property({ attribute: false })
  get outbox(): Outbox | undefined {
    return this.session ? this.session.outbox : this.givenOutbox;
  }
  set outbox(outbox: Outbox | undefined) {
    this.givenOutbox = outbox;
  }

  /** What is shown; the take lifecycle (`recorder-session.ts`) sets it. */
  @state() private view: RecorderView = IDLE_VIEW;

  private givenOutbox?: Outbox;
  /** The take lifecycle, loaded on first need (a transport to resume on, or the camera). */
  private session?: RecorderSession;
  private loading?: Promise<RecorderSession>;

  /** What the recorder is doing (also the `state` attribute). */
  get state(): RecorderState {
    return this.view.state;
  }

  /** The MIME type of the take being recorded or sent, if any. */
  get mimeType(): string | undefined {
    return this.session?.mimeType;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.autostart) void this.open();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // With a transport there may be takes to resume: the lifecycle loads now.
    if (this.transport && this.isConnected) void this.load().catch(() => undefined);
    if (changed.has('conversation') && changed.get('conversation') !== undefined)
      this.session?.conversationChanged();
  }

  protected override updated(): void {
    if (this.getAttribute('state') !== this.view.state) this.setAttribute('state', this.view.state);
  }

  /** Loads the take lifecycle once (a failed load is tried again next time). */
  private load(): Promise<RecorderSession> {
    this.loading ??= import('./recorder-session.js').then(
      ({ RecorderSession }) => {
        this.session ??= new RecorderSession(this, {
          view: () => this.view,
          setView: (view) => (this.view = view),
          previewVideo: () =>
            this.renderRoot.querySelector<HTMLVideoElement>('.preview') ?? undefined,
          outbox: () => this.givenOutbox,
        });
        return this.session;
      },
      (error: unknown) => {
        this.loading = undefined;
        throw error;
      },
    );
    return this.loading;
  }

  /** Runs a request on the take lifecycle, loading it first; a failed load is shown. */
  private async run(request: (session: RecorderSession) => unknown): Promise<void> {
    let session: RecorderSession;
    try {
      session = await this.load();
    } catch (error) {
      const reelError = new ReelError('network', 'The recorder could not load.', { cause: error });
      this.view = { ...this.view, error: reelError, errorText: undefined, state: 'error' };
      emit(this, 'reel-error', { error: reelError });
      return;
    }
    // Left the page while loading: nothing to turn on.
    if (this.isConnected) await request(session);
  }

  // ——— public actions (also the buttons) ———

  /** Turns the camera and microphone on (asking for permission when needed). */
  async open(facing?: 'user' | 'environment'): Promise<void> {
    await this.run((session) => session.open(facing));
  }

  /** Starts recording (from the preview). */
  async record(): Promise<void> {
    await this.session?.record();
  }

  /** Stops recording: then the review, or (with `no-confirm`) sending. */
  async stop(): Promise<void> {
    await this.session?.stop();
  }

  /** Sends the reviewed take (or retries one that failed to send). */
  async send(): Promise<void> {
    await this.session?.send();
  }

  /** Discards the take being recorded and goes back to the preview. */
  async cancel(): Promise<void> {
    await this.session?.cancel();
  }

  /** Discards the reviewed take and turns the camera on for another. */
  async retake(): Promise<void> {
    await this.session?.retake();
  }

  /** Turns the camera off and returns to idle (a take being recorded is discarded). */
  close(): void {
    this.session?.close();
  }

  // ——— rendering ———

  /** The texts in the element's language (`lang`, inherited), with `strings` on top. */
  private readonly i18n = new Localizer(this, 'recorder', recorderStrings, () => this.strings);

  private t(key: keyof UpFrontRecorderStrings, values?: Record<string, string | number>): string {
    return this.i18n.t(key, values);
  }

  /** The texts as the take lifecycle's parts take them. */
  private get text(): RecorderText {
    return Object.assign(this.t.bind(this), { locale: this.i18n.locale, i18n: this.i18n });
  }

  private statusText(): string {
    const { view, session } = this;
    if (session) return session.parts.statusText(view, this.text, session);
    // Until the take lifecycle is in: idle, or its load failed (`run`).
    if (view.state === 'error') return this.t('errorUpload');
    const max = this.maxDuration;
    const seconds = Number.isFinite(max) && max > 0 ? max : 60;
    return this.t('idle', { max: spokenDuration(seconds, this.i18n.locale) });
  }

  override render(): TemplateResult {
    const { view, session } = this;
    const state = view.state;
    const live = state === 'previewing' || state === 'recording' || state === 'asking-permission';
    const isError = state === 'error';
    const t = this.text;
    const parts = session?.parts;
    // The status is beside the stage, not in it: CSS lays it over the picture, except in
    // review, where it goes below the video and its controls (one live region throughout).
    // (A JS comment: one in the template would ship, and be in the DOM.)
    return html`<div
      part="base"
      class="base"
      data-state=${state}
      role="group"
      aria-label=${this.t('label')}
      lang=${this.i18n.locale}
      dir=${this.i18n.dir}
      @keydown=${this.onKeydown}
    >
      <div class="frame">
        <div part="stage" class="stage">
          <video
            part="preview"
            class="preview ${view.mirrored ? 'mirrored' : ''}"
            ?hidden=${!live}
            aria-label=${this.t('preview')}
            muted
            autoplay
            playsinline
            .muted=${true}
          ></video>
          ${(session && parts?.renderReview(view, t, session)) ?? nothing}
          ${(session && parts?.renderTimer(view, session.maxSeconds, t)) ?? nothing}
        </div>
      </div>
      <div
        part=${isError ? 'status error' : 'status'}
        class="status ${isError ? 'error' : ''}"
        role=${isError ? 'alert' : 'status'}
      >
        ${this.statusText()}
      </div>
      ${parts?.renderProgress(view, t) ?? nothing}
      ${(session && parts?.renderDevices(view, t, session)) ?? nothing}
      <div part="controls" class="controls">
        ${this.button(this.primaryAction(), 'primary')}${this.button(
          session && parts?.secondaryAction(view, t, session),
          'secondary',
        )}
      </div>
    </div>`;
  }

  private button(action: RecorderAction | undefined, kind: 'primary' | 'secondary') {
    return action
      ? html`<button
          part="button ${kind}-button ${action.name}-button"
          class="${kind} ${action.name}"
          type="button"
          ?disabled=${action.disabled ?? false}
          @click=${action.run}
        >
          ${action.label}
        </button>`
      : nothing;
  }

  /** Before the take lifecycle is in, the one button turns the camera on (again). */
  private primaryAction(): RecorderAction {
    const { view, session } = this;
    if (session) return session.parts.primaryAction(view, this.text, session);
    const name = view.state === 'error' ? 'retry' : 'start';
    return { name, label: this.t(name), run: () => this.open() };
  }

  private onKeydown = (event: KeyboardEvent) => {
    const state = this.view.state;
    // Escape cancels a recording; in review it asks first (the take would be lost).
    if (event.key === 'Escape' && (state === 'recording' || state === 'reviewing')) {
      event.preventDefault();
      event.stopPropagation();
      void (state === 'recording' ? this.cancel() : this.session?.askDiscard());
    }
  };
}
