import { nothing, type ReactiveControllerHost, type TemplateResult } from 'lit';
import type { ReelEventDetails } from '../internal/events.js';
import type { ReelError } from '../transport/errors.js';
import type { ChatSession } from './chat-session.js';
import { renderReelSheet } from './sheet-parts.js';
import type { ChatStrings } from './strings.js';

/** What the reel's panel needs from `<reel-chat>`. */
export interface ReelPanelOptions {
  session(): ChatSession | undefined;
  /** The buddy's name as the dialog shows it. */
  buddyLabel(): string;
  report(error: ReelError): void;
  /** Focus moves into the panel when it opens, back to "Play all" when it closes. */
  focusPanel(): void;
  focusPlayAll(): void;
  /**
   * Loads `<reel-player>`: false (and the error reported) if it could not (`playerLoaded` of
   * `inline-players.ts`, given by `sheets.ts`, which keeps that module in the code up front).
   */
  playerLoaded(report: (error: ReelError) => void): Promise<boolean>;
}

/**
 * The panel with the buddy's reel (this module loads when it first opens, `sheets.ts`). It
 * opens once the player's code is in (fetched already when the pointer or focus reached
 * "Play all") and the clips are fresh.
 */
export class ReelPanel {
  open = false;
  /** The reel opened with clips (so an empty list later means they were unsent). */
  private hadClips = false;
  /** Every clip of the open reel was unsent. */
  private emptied = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: ReelPanelOptions,
  ) {}

  readonly show = async (): Promise<void> => {
    const session = this.options.session();
    if (!session || this.open) return;
    const [clips, loaded] = await Promise.all([
      session.openReel(this.options.buddyLabel()),
      this.options.playerLoaded(this.options.report),
    ]);
    if (clips && !loaded) session.closeReel();
    if (!clips || !loaded || session !== this.options.session()) return;
    this.open = true;
    this.hadClips = clips.length > 0;
    this.emptied = false;
    this.host.requestUpdate();
    void this.host.updateComplete.then(() => this.options.focusPanel());
  };

  readonly close = (): void => {
    if (!this.open) return;
    this.open = false;
    this.options.session()?.closeReel();
    this.host.requestUpdate();
    void this.host.updateComplete.then(() => this.options.focusPlayAll());
  };

  private readonly onWatched = (event: CustomEvent<ReelEventDetails['reel-clip-watched']>) =>
    this.options.session()?.markWatched(event.detail.clip.id);

  render(
    t: (key: keyof ChatStrings, values?: Record<string, string | number>) => string,
  ): TemplateResult | typeof nothing {
    const session = this.options.session();
    if (!this.open || !session) return nothing;
    if (this.hadClips && !this.emptied && session.reelClips.length === 0) {
      // The player (perhaps with the focus) goes: the focus stays in the panel.
      this.emptied = true;
      void this.host.updateComplete.then(() => this.options.focusPanel());
    }
    return renderReelSheet(t, {
      buddy: this.options.buddyLabel(),
      clips: session.reelClips,
      emptied: this.emptied,
      close: this.close,
      watched: this.onWatched,
    });
  }
}
