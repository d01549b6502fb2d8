import type { ReactiveController } from 'lit';
import { nanoid } from 'nanoid';
import { emit } from '../internal/events.js';
import { adoptLazyStyles } from '../internal/lazy-styles.js';
import { TransportController } from '../internal/transport-controller.js';
import { defaultOutbox, resumePendingUploads, withTakeLock } from '../outbox/deliver.js';
import type { Outbox } from '../outbox/outbox.js';
import { ReelError } from '../transport/errors.js';
import type { ReelTransport, Session } from '../transport/types.js';
import { CameraRecorder, canRecord } from './camera-recorder.js';
import { loadDeviceChoice, saveDeviceChoice } from './device-prefs.js';
import { recorderPartStyles, recorderParts } from './recorder-parts.js';
import type { RecorderHost, RecorderPort, RecorderView } from './recorder-view.js';
import { deviceLostError } from './device-lost.js';
import type { UpFrontRecorderStrings } from './strings.js';
import { HoldToRecord } from './hold-to-record.js';
import { ReviewState } from './review-part.js';
import { SHAPE_RATIO, takeShape } from './take-shape.js';
import { TakeDelivery, type Take } from './take.js';
import { storedUplink, UplinkEstimate } from './uplink-estimate.js';

const TICK_MS = 250;
/** While recording, a wait after Stop longer than this is said (slow connection). */
const SLOW_WARNING_S = 3;

/**
 * The take lifecycle of one `<reel-recorder>`, loaded when the element first needs it (it
 * connects with a transport, or the person turns the camera on): the camera and its
 * encoders (camera-recorder.ts: WebCodecs where it can, MediaRecorder elsewhere), the take's
 * outbox writes, the upload while recording, review, delivery and the resume of takes a
 * previous page left. It owns the element's transport and sets the
 * element's view; the element renders that and forwards the person's requests here.
 */
export class RecorderSession implements ReactiveController {
  /** The parts, texts and buttons after the first state (the element renders them through this). */
  readonly parts = recorderParts;
  readonly camera = new CameraRecorder();
  /** The review's own controls (its time, whether it plays, its length). */
  readonly review = new ReviewState(() => this.host.requestUpdate());
  take?: Take;
  private readonly delivery: TakeDelivery;
  private session?: Session;
  private tick?: ReturnType<typeof setInterval>;
  private limit?: ReturnType<typeof setTimeout>;
  private resumeController?: AbortController;
  /** Bumped whenever the camera is (re)opened or closed, so a stale open gives up. */
  private openGeneration = 0;
  private busy = false;
  private readonly transports: TransportController;

  constructor(
    private readonly host: RecorderHost,
    private readonly port: RecorderPort,
  ) {
    // Registered before this controller, so the transport is released first when the
    // element leaves (as when both lived in the element).
    this.transports = new TransportController(
      host,
      (transport, session) => {
        this.session = session;
        void this.resumePending(transport);
      },
      (error) => this.report(error),
    );
    this.delivery = new TakeDelivery(this);
    new HoldToRecord(host);
    host.addController(this);
    // Before the first view this lifecycle sets: the styles of every state after idle.
    adoptLazyStyles(host.shadowRoot, recorderPartStyles);
  }

  get view(): RecorderView {
    return this.port.view();
  }

  set(patch: Partial<RecorderView>): void {
    this.port.setView({ ...this.port.view(), ...patch });
  }

  get outbox(): Outbox {
    return this.port.outbox() ?? defaultOutbox();
  }

  get element(): RecorderHost {
    return this.host;
  }

  get mimeType(): string | undefined {
    return this.take?.mimeType;
  }

  get maxSeconds(): number {
    const max = this.host.maxDuration;
    return Number.isFinite(max) && max > 0 ? max : 60;
  }

  hostConnected(): void {
    this.camera.onDeviceLost = () => {
      if (this.view.state !== 'previewing') return;
      void deviceLostError().then((error) => {
        if (this.view.state !== 'previewing') return;
        this.fail(error, error.code === 'no-device' ? 'errorDeviceLost' : undefined);
      });
    };
  }

  hostDisconnected(): void {
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
    this.set({ state: 'idle' });
  }

  /** The element's conversation changed: resume what is pending there. */
  conversationChanged(): void {
    const transport = this.transports.transport;
    if (transport && this.session) void this.resumePending(transport);
  }

  // ——— the person's requests ———

  async open(facing?: 'user' | 'environment'): Promise<void> {
    const state = this.view.state;
    if (state === 'recording' || state === 'uploading') return;
    const generation = ++this.openGeneration;
    this.set({ error: undefined });
    if (!canRecord()) {
      this.fail(new ReelError('unsupported', 'This browser cannot record video.'));
      return;
    }
    this.set({ state: 'asking-permission' });
    const chosen = this.view.choice;
    const choice = facing ? chosen : { ...(await loadDeviceChoice()), ...chosen };
    if (generation !== this.openGeneration) return;
    let stream: MediaStream;
    try {
      stream = await this.camera.open(choice, facing, SHAPE_RATIO[takeShape(this.host)]);
    } catch (error) {
      if (ReelError.is(error, 'aborted')) return; // closed meanwhile
      if (generation === this.openGeneration) this.fail(ReelError.from(error, 'media'));
      return;
    }
    if (generation !== this.openGeneration || !this.host.isConnected) return;
    const inUse = this.camera.current();
    const faces =
      inUse.facingMode === 'environment' || inUse.facingMode === 'user' ? inUse.facingMode : facing;
    this.set({
      choice: { camera: inUse.camera, microphone: inUse.microphone },
      facing: faces,
      mirrored: faces !== 'environment',
      state: 'previewing',
    });
    await this.host.updateComplete;
    const preview = this.port.previewVideo();
    if (preview) preview.srcObject = stream;
    void this.listDevices();
  }

  async record(): Promise<void> {
    if (this.view.state !== 'previewing' || this.busy) return;
    const transport = this.transports.transport;
    const conversation = this.host.conversation;
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
      user: this.session?.user ?? this.host.user,
      mimeType: '',
      blobs: [],
      bytes: 0,
      approved: false,
      delivering: false,
      controller: new AbortController(),
      written: Promise.resolve(),
      sent: 0,
      uplink: new UplinkEstimate(),
      release,
      live: this.host.live,
    };
    const earlier = storedUplink();
    try {
      take.mimeType = this.camera.start(
        {
          onChunk: (chunk) => this.delivery.onChunk(take, chunk),
          onError: (error) => void this.takeFailed(take, error),
          live: take.live,
        },
        { uplink: take.uplink, earlierUplinkBps: earlier },
      );
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
    this.delivery.startUpload(take);
    this.set({ elapsed: 0, secondsLeft: undefined, state: 'recording' });
    this.tick = setInterval(() => {
      const wait = take.uplink.secondsToSend(earlier);
      // Said only once the wait is worth saying: a chunk or two in flight is the normal case.
      const secondsLeft = wait !== undefined && wait >= SLOW_WARNING_S ? wait : undefined;
      this.set({ elapsed: this.camera.elapsed, secondsLeft });
    }, TICK_MS);
    this.limit = setTimeout(() => void this.stop(), this.maxSeconds * 1000);
    emit(this.host, 'reel-record-start', { mimeType: take.mimeType, clientId });
  }

  async stop(): Promise<void> {
    const take = this.take;
    if (this.view.state !== 'recording' || !take || this.busy) return;
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
      this.set({ elapsed: duration });
      this.openGeneration++;
      this.camera.close();
      const preview = this.port.previewVideo();
      if (preview) preview.srcObject = null;
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
      take.approved = this.host.noConfirm;
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
      emit(this.host, 'reel-record-stop', {
        duration,
        bytes: take.bytes,
        clientId: take.clientId,
        mimeType: take.mimeType,
        blob,
      });
      if (take.approved) {
        void this.delivery.deliver(take);
      } else {
        this.setReviewUrl(URL.createObjectURL(blob));
        this.set({ state: 'reviewing' });
      }
    } finally {
      this.busy = false;
    }
  }

  async send(): Promise<void> {
    const take = this.take;
    const state = this.view.state;
    if (!take || (state !== 'reviewing' && state !== 'error')) return;
    take.approved = true;
    try {
      await this.outbox.approve(take.clientId);
    } catch (error) {
      this.fail(ReelError.from(error));
      return;
    }
    await this.delivery.deliver(take);
  }

  async cancel(): Promise<void> {
    const take = this.take;
    const state = this.view.state;
    if (state === 'previewing' || state === 'asking-permission') {
      this.close();
      emit(this.host, 'reel-record-cancel', {});
      return;
    }
    if (state !== 'recording' || !take) return;
    this.stopTimers();
    this.take = undefined;
    await this.camera.stop({ discard: true });
    this.set({ elapsed: 0, state: 'previewing' });
    emit(this.host, 'reel-record-cancel', { clientId: take.clientId });
    await this.discard(take);
  }

  async retake(): Promise<void> {
    const take = this.take;
    if (this.view.state !== 'reviewing' || !take) return;
    this.take = undefined;
    this.setReviewUrl(undefined);
    void this.discard(take);
    await this.open(this.view.facing);
  }

  close(): void {
    const state = this.view.state;
    if (state === 'recording' || state === 'uploading') return;
    this.openGeneration++;
    this.camera.close();
    const preview = this.port.previewVideo();
    if (preview) preview.srcObject = null;
    this.set({ state: 'idle' });
  }

  /** After an error: send the take again if there is one, otherwise turn the camera on again. */
  async retry(): Promise<void> {
    if (this.take) await this.delivery.deliver(this.take);
    else await this.open(this.view.facing);
  }

  /** After a failed send: give up on that take and record another. */
  async retakeFailed(): Promise<void> {
    const take = this.take;
    if (!take) return;
    this.take = undefined;
    await this.discard(take);
    await this.open(this.view.facing);
  }

  /** Work that needs the transport to finish even if the element leaves meanwhile. */
  keepOpenUntil(work: Promise<unknown>): void {
    this.transports.keepOpenUntil(work);
  }

  // ——— the take's end ———

  /** Ends a take's upload (the transport ends it on the server) and deletes it from the outbox. */
  async discard(take: Take): Promise<void> {
    // A live take's message went out at Record: withdrawn first (the server then erases it).
    if (take.message)
      await take.transport
        .deleteMessage?.(take.conversation, take.message)
        .catch((error: unknown) => this.report(ReelError.from(error)));
    take.controller.abort();
    await take.written.catch(() => undefined);
    await this.outbox
      .delete(take.clientId)
      .catch((error: unknown) => this.report(ReelError.from(error)));
    take.release();
  }

  /** The recorder or the outbox failed mid-take: stop, discard, show why. */
  async takeFailed(
    take: Take,
    error: ReelError,
    text?: keyof UpFrontRecorderStrings,
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
    const conversation = this.host.conversation;
    if (!conversation) return;
    this.resumeController?.abort();
    const controller = (this.resumeController = new AbortController());
    await resumePendingUploads(transport, this.outbox, {
      conversation,
      user: this.session?.user,
      signal: controller.signal,
      // A take an earlier element of this page (or another tab) lets go of unsent is sent here.
      held: 'wait',
      // Only `reel-message`: `reel-upload-complete` is about the take on screen (a host
      // may close the recorder on it).
      onSent: (_take, message) => emit(this.host, 'reel-message', { message }),
      onError: (_take, error) => this.report(error),
    }).catch((error: unknown) => this.report(ReelError.from(error)));
  }

  fail(error: ReelError, text?: RecorderView['errorText']): void {
    this.stopTimers();
    this.set({ error, errorText: text, state: 'error' });
    this.report(error);
  }

  report(error: ReelError): void {
    emit(this.host, 'reel-error', { error });
  }

  private stopTimers(): void {
    clearInterval(this.tick);
    clearTimeout(this.limit);
    this.tick = undefined;
    this.limit = undefined;
  }

  setReviewUrl(url: string | undefined): void {
    const previous = this.view.reviewUrl;
    if (previous) URL.revokeObjectURL(previous);
    this.review.reset();
    this.set({ reviewUrl: url, confirmDiscard: false });
  }

  /** Escape in review: "Discard this recording?", with Keep focused (the safe answer). */
  async askDiscard(): Promise<void> {
    if (this.view.state !== 'reviewing') return;
    this.set({ confirmDiscard: true });
    await this.host.updateComplete;
    this.host.shadowRoot?.querySelector<HTMLElement>('[part~="keep-button"]')?.focus();
  }

  async keepReviewed(): Promise<void> {
    this.set({ confirmDiscard: false });
    await this.host.updateComplete;
    this.host.shadowRoot?.querySelector<HTMLElement>('[part~="review-play-button"]')?.focus();
  }

  /** The person confirmed: the take goes (its upload ended on the server), as Cancel does. */
  async discardReviewed(): Promise<void> {
    const take = this.take;
    if (this.view.state !== 'reviewing' || !take) return;
    this.take = undefined;
    this.setReviewUrl(undefined);
    this.set({ elapsed: 0, state: 'idle' });
    emit(this.host, 'reel-record-cancel', { clientId: take.clientId });
    await this.discard(take);
  }

  // ——— devices ———

  private async listDevices(): Promise<void> {
    const { cameras, microphones } = await CameraRecorder.devices().catch(() => ({
      cameras: [],
      microphones: [],
    }));
    this.set({ cameras, microphones });
  }

  async chooseDevice(kind: 'camera' | 'microphone', deviceId: string): Promise<void> {
    this.set({ choice: { ...this.view.choice, [kind]: deviceId } });
    await saveDeviceChoice(this.view.choice);
    if (this.view.state === 'previewing') await this.open();
  }

  async switchCamera(): Promise<void> {
    const next = this.view.facing === 'environment' ? 'user' : 'environment';
    this.set({ choice: { ...this.view.choice, camera: undefined } });
    await this.open(next);
    await saveDeviceChoice(this.view.choice);
  }
}
