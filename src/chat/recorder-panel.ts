import { nothing, type ReactiveControllerHost, type TemplateResult } from 'lit';
import type { ReelEventDetails } from '../internal/events.js';
import { ReelError } from '../transport/errors.js';
import type { Outbox } from '../outbox/outbox.js';
import type { ReelTransport } from '../transport/types.js';
import type { ChatSession } from './chat-session.js';
import { renderRecorderSheet } from './sheet-parts.js';
import type { ChatStrings } from './strings.js';

/** What the recorder's panel needs from `<reel-chat>`. */
export interface RecorderPanelOptions {
  session(): ChatSession | undefined;
  transport(): ReelTransport | undefined;
  conversation(): string | undefined;
  /** The outbox the chat was given, for its recorder (its default one otherwise). */
  outbox(): Outbox | undefined;
  /** Whether takes are shared live (`<reel-chat live>`). */
  live(): boolean;
  /** The takes' shape (`<reel-chat shape>`), for the recorder's `shape` attribute. */
  shape(): string | undefined;
  report(error: ReelError): void;
  /** The list follows the upload's progress row if it is at the bottom. */
  followUpload(): void;
  /** Focus moves into the panel when it opens, back to the record button when it closes. */
  focusPanel(): void;
  focusRecordButton(): void;
  /**
   * Loads `<reel-recorder>` (`loadRecorder` of `src/internal/lazy-elements.ts`, given by
   * `sheets.ts`: imported here, it would split that module out of the code up front).
   */
  loadRecorder(): Promise<unknown>;
}

/**
 * The recorder's panel over the dialog (its state, requests and rendering; the element
 * asks it to render and to open): open or closed, and whether `<reel-recorder>` is in
 * the page (it stays, hidden, while a take it sent still uploads). This module loads when the
 * panel first opens (`sheets.ts`); the recorder's code then, or earlier when the pointer or
 * focus reaches the record button.
 */
export class RecorderPanel {
  open = false;
  /** The recorder stays in the page while its take uploads, even with its panel closed. */
  mounted = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: RecorderPanelOptions,
  ) {}

  readonly show = (): void => {
    // Rendered at once: it upgrades (and turns the camera on) as soon as its code is in.
    this.options.loadRecorder().catch((error: unknown) => {
      // No recorder to show: the panel goes, the dialog says why.
      this.open = false;
      this.mounted = false;
      this.host.requestUpdate();
      this.options.report(ReelError.from(error, 'network'));
    });
    this.open = true;
    this.mounted = true;
    this.host.requestUpdate();
    void this.host.updateComplete.then(() => this.options.focusPanel());
  };

  readonly close = (): void => {
    if (!this.open) return;
    this.open = false;
    // A take on its way keeps its recorder (hidden) until it is sent; the list shows its progress.
    const upload = this.options.session()?.upload;
    if (!upload || upload.video) this.mounted = false;
    this.host.requestUpdate();
    void this.host.updateComplete.then(() => this.options.focusRecordButton());
  };

  private readonly onProgress = (
    event: CustomEvent<ReelEventDetails['reel-upload-progress']>,
  ): void => {
    this.options.session()?.uploadProgress(event.detail.sent, event.detail.total);
    this.options.followUpload();
  };

  private readonly onComplete = (
    event: CustomEvent<ReelEventDetails['reel-upload-complete']>,
  ): void => {
    this.options.session()?.uploadComplete(event.detail);
    this.close();
    this.mounted = false;
    this.host.requestUpdate();
  };

  private readonly onMessage = (event: CustomEvent<ReelEventDetails['reel-message']>): void => {
    this.options.session()?.recorderMessage(event.detail.message);
  };

  private readonly onError = (): void => {
    // The recorder shows its own error (the event goes on to the host): show it to the person.
    if (this.options.session()?.recorderFailed() && !this.open) this.show();
  };

  render(
    t: (key: keyof ChatStrings, values?: Record<string, string | number>) => string,
  ): TemplateResult | typeof nothing {
    if (!this.mounted) return nothing;
    return renderRecorderSheet(t, {
      open: this.open,
      transport: this.options.transport(),
      conversation: this.options.conversation(),
      outbox: this.options.outbox(),
      live: this.options.live(),
      shape: this.options.shape(),
      close: this.close,
      progress: this.onProgress,
      complete: this.onComplete,
      message: this.onMessage,
      failed: this.onError,
    });
  }
}
