import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { nanoid } from 'nanoid';
import { emit } from '../internal/events.js';
import { format, formatDuration, mergeStrings } from '../internal/strings.js';
import { themeStyles } from '../internal/theme.js';
import { ConnectedElement } from '../internal/connected-element.js';
import { TransportController } from '../internal/transport-controller.js';
import { resumePendingUploads, sendTake, uploadTake, withTakeLock } from '../outbox/deliver.js';
import { Outbox } from '../outbox/outbox.js';
import { ReelError, type ReelErrorCode } from '../transport/errors.js';
import type { ReelTransport, Session, Video } from '../transport/types.js';
import { CameraRecorder, canRecord, type DeviceChoice } from './camera-recorder.js';
import { loadDeviceChoice, saveDeviceChoice } from './device-prefs.js';
import styles from './reel-recorder.styles.js';
import { recorderStrings, type RecorderStrings } from './strings.js';

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

/** One recording, from the press of record until its message is sent or it is discarded. */
interface Take {
  clientId: string;
  conversation: string;
  transport: ReelTransport;
  user?: string;
  mimeType: string;
  blobs: Blob[];
  bytes: number;
  duration?: number;
  approved: boolean;
  /** True while `deliver` is waiting for the upload or the message. */
  delivering: boolean;
  controller: AbortController;
  /** The chain of outbox writes: begin, each chunk, finish. */
  written: Promise<void>;
  upload?: Promise<Video>;
  uploadError?: ReelError;
  sent: number;
  /** Releases the take's lock (held while this page owns the take). */
  release(): void;
}

const ERROR_STRINGS: Partial<Record<ReelErrorCode, keyof RecorderStrings>> = {
  'permission-denied': 'errorPermissionDenied',
  'no-device': 'errorNoDevice',
  'device-busy': 'errorDeviceBusy',
  unsupported: 'errorUnsupported',
  'quota-exceeded': 'errorQuota',
  media: 'errorMedia',
};

const TICK_MS = 250;

let sharedOutbox: Outbox | undefined;

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
 * @csspart base - The root, with a `data-state` attribute.
 * @csspart stage - The picture area.
 * @csspart preview - The live, mirrored camera preview `<video>`.
 * @csspart review - The `<video>` that plays the take back before it is sent.
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
  /** Turn the camera on as soon as the element connects (otherwise a button does). */
  @property({ type: Boolean }) autostart = false;
  /** Replacements for any of the texts (see `recorderStrings`). */
  @property({ attribute: false }) strings?: Partial<RecorderStrings>;
  /** Where takes are kept until sent (default: one shared `reelchat-outbox` database). */
  @property({ attribute: false }) outbox: Outbox = (sharedOutbox ??= new Outbox());

  @state() private current: RecorderState = 'idle';
  @state() private elapsed = 0;
  @state() private percent?: number;
  @state() private error?: ReelError;
  /** The text for `error` when its code alone does not say it (an empty take). */
  @state() private errorText?: keyof RecorderStrings;
  @state() private reviewUrl?: string;
  @state() private mirrored = true;
  @state() private cameras: MediaDeviceInfo[] = [];
  @state() private microphones: MediaDeviceInfo[] = [];
  @state() private choice: DeviceChoice = {};
  @state() private facing?: 'user' | 'environment';

  @query('.preview') private previewVideo?: HTMLVideoElement;

  private readonly camera = new CameraRecorder();
  private take?: Take;
  private session?: Session;
  private tick?: ReturnType<typeof setInterval>;
  private limit?: ReturnType<typeof setTimeout>;
  private resumeController?: AbortController;
  /** Bumped whenever the camera is (re)opened or closed, so a stale open gives up. */
  private openGeneration = 0;
  private busy = false;

  private readonly transports = new TransportController(
    this,
    (transport, session) => {
      this.session = session;
      void this.resumePending(transport);
    },
    (error) => this.report(error),
  );

  /** What the recorder is doing (also the `state` attribute). */
  get state(): RecorderState {
    return this.current;
  }

  /** The MIME type of the take being recorded or sent, if any. */
  get mimeType(): string | undefined {
    return this.take?.mimeType;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.camera.onDeviceLost = () => {
      if (this.current === 'previewing')
        this.fail(new ReelError('no-device', 'The camera stopped.'));
    };
    if (this.autostart) void this.open();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resumeController?.abort();
    this.stopTimers();
    this.openGeneration++;
    this.camera.close();
    const take = this.take;
    this.take = undefined;
    // A take the person never chose to send goes with the element (the transport ends
    // its upload); one they did send keeps going, and stays in the outbox if it can't finish.
    if (take && !take.approved) void this.discard(take);
    // One that failed to send is left to the next resume (ours, or a later page's).
    else if (take && !take.delivering) take.release();
    this.setReviewUrl(undefined);
    this.current = 'idle';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('conversation') && changed.get('conversation') !== undefined) {
      const transport = this.transports.transport;
      if (transport && this.session) void this.resumePending(transport);
    }
  }

  protected override updated(): void {
    if (this.getAttribute('state') !== this.current) this.setAttribute('state', this.current);
  }

  // ——— public actions (also the buttons) ———

  /** Turns the camera and microphone on (asking for permission when needed). */
  async open(facing?: 'user' | 'environment'): Promise<void> {
    if (this.current === 'recording' || this.current === 'uploading') return;
    const generation = ++this.openGeneration;
    this.error = undefined;
    if (!canRecord()) {
      this.fail(new ReelError('unsupported', 'This browser cannot record video.'));
      return;
    }
    this.current = 'asking-permission';
    const choice = facing ? this.choice : { ...(await loadDeviceChoice()), ...this.choice };
    if (generation !== this.openGeneration) return;
    let stream: MediaStream;
    try {
      stream = await this.camera.open(choice, facing);
    } catch (error) {
      if (ReelError.is(error, 'aborted')) return; // closed meanwhile
      if (generation === this.openGeneration) this.fail(ReelError.from(error, 'media'));
      return;
    }
    if (generation !== this.openGeneration || !this.isConnected) return;
    const inUse = this.camera.current();
    this.choice = { camera: inUse.camera, microphone: inUse.microphone };
    this.facing =
      inUse.facingMode === 'environment' || inUse.facingMode === 'user' ? inUse.facingMode : facing;
    this.mirrored = this.facing !== 'environment';
    this.current = 'previewing';
    await this.updateComplete;
    if (this.previewVideo) this.previewVideo.srcObject = stream;
    void this.listDevices();
  }

  /** Starts recording (from the preview). */
  async record(): Promise<void> {
    if (this.current !== 'previewing' || this.busy) return;
    const transport = this.transports.transport;
    const conversation = this.conversation;
    if (!transport || !conversation) {
      this.fail(
        this.transports.error ?? new ReelError('bad-request', 'No transport or conversation.'),
      );
      return;
    }
    const clientId = nanoid();
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    void withTakeLock(this.outbox, clientId, () => held);
    const take: Take = {
      clientId,
      conversation,
      transport,
      user: this.session?.user ?? this.user,
      mimeType: '',
      blobs: [],
      bytes: 0,
      approved: false,
      delivering: false,
      controller: new AbortController(),
      written: Promise.resolve(),
      sent: 0,
      release,
    };
    try {
      take.mimeType = this.camera.start({
        onChunk: (chunk) => this.onChunk(take, chunk),
        onError: (error) => void this.takeFailed(take, error),
      });
    } catch (error) {
      release();
      this.fail(ReelError.from(error, 'media'));
      return;
    }
    this.take = take;
    take.written = this.outbox
      .begin({ clientId, conversation, type: take.mimeType, user: take.user })
      .then(() => undefined);
    take.written.catch((error: unknown) => void this.takeFailed(take, ReelError.from(error)));
    this.startUpload(take);
    this.elapsed = 0;
    this.current = 'recording';
    this.tick = setInterval(() => (this.elapsed = this.camera.elapsed), TICK_MS);
    this.limit = setTimeout(() => void this.stop(), this.maxSeconds * 1000);
    emit(this, 'reel-record-start', { mimeType: take.mimeType, clientId });
  }

  /** Stops recording: then the review, or (with `no-confirm`) sending. */
  async stop(): Promise<void> {
    const take = this.take;
    if (this.current !== 'recording' || !take || this.busy) return;
    this.busy = true;
    try {
      this.stopTimers();
      let unfinished: ReelError | undefined;
      const recorded = this.camera.elapsed;
      const duration = await this.camera.stop().catch((error: unknown) => {
        unfinished = ReelError.from(error, 'media');
        return recorded;
      });
      take.duration = duration;
      this.elapsed = duration;
      this.openGeneration++;
      this.camera.close();
      if (this.previewVideo) this.previewVideo.srcObject = null;
      if (this.take !== take) return;
      // The recorder handed over no bytes at all (it drops empty chunks): there is nothing
      // to review, and sending it would only fail on the server.
      if (take.bytes === 0) {
        const empty = new ReelError(
          'media',
          `The recording is empty: the camera gave no data.${unfinished ? ` ${unfinished.message}` : ''}`,
          { cause: unfinished },
        );
        await this.takeFailed(take, empty, 'errorEmpty');
        return;
      }
      // Bytes, but the recorder never said it had finished: the take may lack its end.
      if (unfinished) {
        await this.takeFailed(take, unfinished);
        return;
      }
      take.approved = this.noConfirm;
      const finished = take.written.then(() =>
        this.outbox.finish(take.clientId, { duration, send: take.approved }),
      );
      take.written = finished;
      try {
        await finished;
      } catch (error) {
        await this.takeFailed(take, ReelError.from(error));
        return;
      }
      if (this.take !== take) return;
      const blob = new Blob(take.blobs, { type: take.mimeType });
      emit(this, 'reel-record-stop', {
        duration,
        bytes: take.bytes,
        clientId: take.clientId,
        mimeType: take.mimeType,
        blob,
      });
      if (take.approved) {
        void this.deliver(take);
      } else {
        this.setReviewUrl(URL.createObjectURL(blob));
        this.current = 'reviewing';
      }
    } finally {
      this.busy = false;
    }
  }

  /** Sends the reviewed take (or retries one that failed to send). */
  async send(): Promise<void> {
    const take = this.take;
    if (!take || (this.current !== 'reviewing' && this.current !== 'error')) return;
    take.approved = true;
    try {
      await this.outbox.approve(take.clientId);
    } catch (error) {
      this.fail(ReelError.from(error));
      return;
    }
    await this.deliver(take);
  }

  /** Discards the take being recorded and goes back to the preview. */
  async cancel(): Promise<void> {
    const take = this.take;
    if (this.current === 'previewing' || this.current === 'asking-permission') {
      this.close();
      emit(this, 'reel-record-cancel', {});
      return;
    }
    if (this.current !== 'recording' || !take) return;
    this.stopTimers();
    this.take = undefined;
    await this.camera.stop({ discard: true });
    this.elapsed = 0;
    this.current = 'previewing';
    emit(this, 'reel-record-cancel', { clientId: take.clientId });
    await this.discard(take);
  }

  /** Discards the reviewed take and turns the camera on for another. */
  async retake(): Promise<void> {
    const take = this.take;
    if (this.current !== 'reviewing' || !take) return;
    this.take = undefined;
    this.setReviewUrl(undefined);
    void this.discard(take);
    await this.open(this.facing);
  }

  /** Turns the camera off and returns to idle (a take being recorded is discarded). */
  close(): void {
    if (this.current === 'recording' || this.current === 'uploading') return;
    this.openGeneration++;
    this.camera.close();
    if (this.previewVideo) this.previewVideo.srcObject = null;
    this.current = 'idle';
  }

  // ——— recording and delivery ———

  private get maxSeconds(): number {
    return Number.isFinite(this.maxDuration) && this.maxDuration > 0 ? this.maxDuration : 60;
  }

  private onChunk(take: Take, chunk: Blob): void {
    take.blobs.push(chunk);
    take.bytes += chunk.size;
    const written = take.written.then(() => this.outbox.append(take.clientId, chunk));
    take.written = written;
    written.catch((error: unknown) => void this.takeFailed(take, ReelError.from(error)));
  }

  /** Starts (or restarts) uploading the take from the outbox, live while it records. */
  private startUpload(take: Take): void {
    take.uploadError = undefined;
    take.upload = take.written.then(async () => {
      const record = await this.outbox.get(take.clientId);
      if (!record) throw new ReelError('aborted', 'The take was discarded.');
      return uploadTake(take.transport, this.outbox, record, {
        signal: take.controller.signal,
        duration: () => take.duration,
        onProgress: (sent, total) => this.onProgress(take, sent, total),
      });
    });
    take.upload.catch((error: unknown) => {
      // Kept for send(): a failure while recording is retried from the outbox then.
      take.uploadError = ReelError.from(error);
    });
  }

  private onProgress(take: Take, sent: number, total?: number): void {
    take.sent = sent;
    if (!take.approved) return;
    const known = total ?? take.bytes;
    this.percent = known ? Math.min(100, Math.round((sent / known) * 100)) : undefined;
    emit(this, 'reel-upload-progress', { sent, total: known, clientId: take.clientId });
  }

  /**
   * Waits for the upload of an approved take, sends its message, deletes it from the outbox.
   * The person pressed send: it finishes even if the element leaves the page meanwhile.
   */
  private deliver(take: Take): Promise<void> {
    const work = this.deliverNow(take);
    this.transports.keepOpenUntil(work);
    return work;
  }

  private async deliverNow(take: Take): Promise<void> {
    this.setReviewUrl(undefined);
    this.error = undefined;
    this.current = 'uploading';
    this.onProgress(take, take.sent);
    take.delivering = true;
    try {
      // An upload that failed (while recording, or before) starts again from the outbox.
      if (take.uploadError) this.startUpload(take);
      const video = await take.upload!;
      const record = await this.outbox.get(take.clientId);
      if (!record) throw new ReelError('not-found', 'The take is no longer in the outbox.');
      const message = await sendTake(take.transport, this.outbox, record, video.id);
      take.release();
      this.onProgress(take, take.bytes, take.bytes);
      emit(this, 'reel-upload-complete', video);
      emit(this, 'reel-message', { message });
      if (this.take === take) {
        this.take = undefined;
        this.current = 'sent';
      }
    } catch (error) {
      const reelError = ReelError.from(error);
      if (reelError.code === 'aborted' && take.controller.signal.aborted) return;
      if (this.take === take) this.fail(reelError);
      else {
        take.release();
        this.report(reelError);
      }
    } finally {
      take.delivering = false;
    }
  }

  /** Ends a take's upload (the transport ends it on the server) and deletes it from the outbox. */
  private async discard(take: Take): Promise<void> {
    take.controller.abort();
    await take.written.catch(() => undefined);
    await this.outbox
      .delete(take.clientId)
      .catch((error: unknown) => this.report(ReelError.from(error)));
    take.release();
  }

  /** The recorder or the outbox failed mid-take: stop, discard, show why. */
  private async takeFailed(
    take: Take,
    error: ReelError,
    text?: keyof RecorderStrings,
  ): Promise<void> {
    if (this.take !== take) return;
    this.take = undefined;
    this.stopTimers();
    await this.camera.stop({ discard: true });
    this.camera.close();
    this.fail(error, text);
    await this.discard(take);
  }

  private async resumePending(transport: ReelTransport): Promise<void> {
    const conversation = this.conversation;
    if (!conversation) return;
    this.resumeController?.abort();
    const controller = (this.resumeController = new AbortController());
    await resumePendingUploads(transport, this.outbox, {
      conversation,
      user: this.session?.user,
      signal: controller.signal,
      // Only `reel-message`: `reel-upload-complete` is about the take on screen (a host
      // may close the recorder on it).
      onSent: (_take, message) => emit(this, 'reel-message', { message }),
      onError: (_take, error) => this.report(error),
    }).catch((error: unknown) => this.report(ReelError.from(error)));
  }

  private fail(error: ReelError, text?: keyof RecorderStrings): void {
    this.stopTimers();
    this.error = error;
    this.errorText = text;
    this.current = 'error';
    this.report(error);
  }

  private report(error: ReelError): void {
    emit(this, 'reel-error', { error });
  }

  private stopTimers(): void {
    clearInterval(this.tick);
    clearTimeout(this.limit);
    this.tick = undefined;
    this.limit = undefined;
  }

  private setReviewUrl(url: string | undefined): void {
    if (this.reviewUrl) URL.revokeObjectURL(this.reviewUrl);
    this.reviewUrl = url;
  }

  // ——— devices ———

  private async listDevices(): Promise<void> {
    const { cameras, microphones } = await CameraRecorder.devices().catch(() => ({
      cameras: [],
      microphones: [],
    }));
    this.cameras = cameras;
    this.microphones = microphones;
  }

  /** Phones name their cameras' directions: they get a switch instead of a list. */
  private get canSwitch(): boolean {
    return (
      this.cameras.length > 1 &&
      this.cameras.some((camera) => {
        const capabilities = (camera as InputDeviceInfo).getCapabilities?.();
        return (capabilities?.facingMode?.length ?? 0) > 0;
      })
    );
  }

  private async chooseDevice(kind: 'camera' | 'microphone', deviceId: string): Promise<void> {
    this.choice = { ...this.choice, [kind]: deviceId };
    await saveDeviceChoice(this.choice);
    if (this.current === 'previewing') await this.open();
  }

  private async switchCamera(): Promise<void> {
    const next = this.facing === 'environment' ? 'user' : 'environment';
    this.choice = { ...this.choice, camera: undefined };
    await this.open(next);
    await saveDeviceChoice(this.choice);
  }

  // ——— rendering ———

  private t(key: keyof RecorderStrings, values?: Record<string, string | number>): string {
    return format(mergeStrings(recorderStrings, this.strings)[key], values);
  }

  private statusText(): string {
    const max = formatDuration(this.maxSeconds);
    switch (this.current) {
      case 'idle':
        return this.t('idle', { max });
      case 'asking-permission':
        return this.t('askingPermission');
      case 'previewing':
        return this.t('previewing', { max });
      case 'recording':
        return this.t('recording');
      case 'reviewing':
        return this.t('reviewing');
      case 'uploading':
        return this.percent === undefined
          ? this.t('uploadingUnknown')
          : this.t('uploading', { percent: this.percent });
      case 'sent':
        return this.t('sent');
      case 'error': {
        if (this.errorText) return this.t(this.errorText);
        const code = this.error?.code;
        // The server's limits (it answered): its message says which and for how long;
        // the device's own storage quota has no status.
        if (code === 'quota-exceeded' && this.error?.status !== undefined)
          return this.t('errorLimit', { reason: this.error.message });
        const key = code ? ERROR_STRINGS[code] : undefined;
        if (key) return this.t(key);
        if (code === 'bad-request' && !this.take) return this.t('errorNotConfigured');
        return this.t('errorUpload');
      }
    }
  }

  override render(): TemplateResult {
    const state = this.current;
    const live = state === 'previewing' || state === 'recording' || state === 'asking-permission';
    const isError = state === 'error';
    return html`<div
      part="base"
      class="base"
      data-state=${state}
      role="group"
      aria-label=${this.t('label')}
      @keydown=${this.onKeydown}
    >
      <div part="stage" class="stage">
        <video
          part="preview"
          class="preview ${this.mirrored ? 'mirrored' : ''}"
          ?hidden=${!live}
          aria-label=${this.t('preview')}
          muted
          autoplay
          playsinline
          .muted=${true}
        ></video>
        ${
          state === 'reviewing' && this.reviewUrl
            ? html`<video
                part="review"
                class="review"
                src=${this.reviewUrl}
                aria-label=${this.t('review')}
                controls
                playsinline
              ></video>`
            : nothing
        }
        ${state === 'recording' ? this.renderTimer() : nothing}
        <div
          part=${isError ? 'status error' : 'status'}
          class="status ${isError ? 'error' : ''}"
          role=${isError ? 'alert' : 'status'}
        >
          ${this.statusText()}
        </div>
      </div>
      ${
        state === 'uploading'
          ? html`<progress
              part="progress"
              class="progress"
              max="100"
              .value=${this.percent ?? 0}
              aria-label=${this.t('progress')}
            ></progress>`
          : nothing
      }
      ${this.renderDevices()}
      <div part="controls" class="controls">${this.renderButtons()}</div>
    </div>`;
  }

  private renderTimer(): TemplateResult {
    const left = Math.max(0, this.maxSeconds - this.elapsed);
    const ending = left <= 10;
    return html`<div part="timer" class="timer" role="timer">
      <span part="indicator" class="indicator" aria-hidden="true"></span>
      <span part="elapsed" class="elapsed"
        >${this.t('elapsed', { time: formatDuration(this.elapsed) })}</span
      >
      <span
        part=${ending ? 'countdown countdown-ending' : 'countdown'}
        class="countdown ${ending ? 'ending' : ''}"
        >${this.t('remaining', { time: formatDuration(Math.ceil(left)) })}</span
      >
    </div>`;
  }

  private renderDevices(): TemplateResult | typeof nothing {
    if (this.current !== 'previewing') return nothing;
    const switchable = this.canSwitch;
    const cameraList = !switchable && this.cameras.length > 1;
    const micList = this.microphones.length > 1;
    if (!switchable && !cameraList && !micList) return nothing;
    const options = (devices: MediaDeviceInfo[], selected: string | undefined, fallback: string) =>
      devices.map(
        (device, index) =>
          html`<option value=${device.deviceId} ?selected=${device.deviceId === selected}>
            ${device.label || `${fallback} ${index + 1}`}
          </option>`,
      );
    return html`<div part="devices" class="devices">
      ${
        cameraList
          ? html`<label part="device-label"
              >${this.t('camera')}
              <select
                part="camera-select"
                @change=${(event: Event) =>
                  this.chooseDevice('camera', (event.target as HTMLSelectElement).value)}
              >
                ${options(this.cameras, this.choice.camera, this.t('camera'))}
              </select></label
            >`
          : nothing
      }
      ${
        micList
          ? html`<label part="device-label"
              >${this.t('microphone')}
              <select
                part="microphone-select"
                @change=${(event: Event) =>
                  this.chooseDevice('microphone', (event.target as HTMLSelectElement).value)}
              >
                ${options(this.microphones, this.choice.microphone, this.t('microphone'))}
              </select></label
            >`
          : nothing
      }
      ${
        switchable
          ? html`<button part="button switch-button" type="button" @click=${this.switchCamera}>
              ${this.t('switchCamera')}
            </button>`
          : nothing
      }
    </div>`;
  }

  private renderButtons(): TemplateResult {
    // The primary button is one element whose job changes with the state, so keyboard
    // focus stays on it from record to stop to send.
    const primary = this.primaryAction();
    const secondary = this.secondaryAction();
    return html`${
      primary
        ? html`<button
            part="button primary-button ${primary.name}-button"
            class="primary ${primary.name}"
            type="button"
            ?disabled=${primary.disabled ?? false}
            @click=${primary.run}
          >
            ${primary.label}
          </button>`
        : nothing
    }${
      secondary
        ? html`<button
            part="button secondary-button ${secondary.name}-button"
            class="secondary ${secondary.name}"
            type="button"
            @click=${secondary.run}
          >
            ${secondary.label}
          </button>`
        : nothing
    }`;
  }

  private primaryAction():
    { name: string; label: string; run: () => unknown; disabled?: boolean } | undefined {
    switch (this.current) {
      case 'idle':
        return { name: 'start', label: this.t('start'), run: () => this.open() };
      case 'asking-permission':
        return { name: 'start', label: this.t('start'), run: () => undefined, disabled: true };
      case 'previewing':
        return { name: 'record', label: this.t('record'), run: () => this.record() };
      case 'recording':
        return { name: 'stop', label: this.t('stop'), run: () => this.stop() };
      case 'reviewing':
        return { name: 'send', label: this.t('send'), run: () => this.send() };
      case 'uploading':
        return { name: 'send', label: this.t('send'), run: () => undefined, disabled: true };
      case 'sent':
        return { name: 'again', label: this.t('again'), run: () => this.open(this.facing) };
      case 'error':
        return { name: 'retry', label: this.t('retry'), run: () => this.retry() };
    }
  }

  private secondaryAction(): { name: string; label: string; run: () => unknown } | undefined {
    switch (this.current) {
      case 'previewing':
      case 'recording':
        return { name: 'cancel', label: this.t('cancel'), run: () => this.cancel() };
      case 'reviewing':
        return { name: 'retake', label: this.t('retake'), run: () => this.retake() };
      case 'error':
        return this.take
          ? { name: 'retake', label: this.t('retake'), run: () => this.retakeFailed() }
          : undefined;
      default:
        return undefined;
    }
  }

  /** After an error: send the take again if there is one, otherwise turn the camera on again. */
  private async retry(): Promise<void> {
    if (this.take) await this.deliver(this.take);
    else await this.open(this.facing);
  }

  /** After a failed send: give up on that take and record another. */
  private async retakeFailed(): Promise<void> {
    const take = this.take;
    if (!take) return;
    this.take = undefined;
    await this.discard(take);
    await this.open(this.facing);
  }

  private onKeydown = (event: KeyboardEvent) => {
    if (event.key === 'Escape' && this.current === 'recording') {
      event.preventDefault();
      event.stopPropagation();
      void this.cancel();
    }
  };
}
