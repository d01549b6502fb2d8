import { html, nothing, type ReactiveControllerHost, type TemplateResult } from 'lit';
import { loadRecorder } from '../internal/lazy-elements.js';
import { ReelError } from '../transport/errors.js';
import { playerLoaded, prefetchPlayer } from './inline-players.js';
import { loadPanels } from './lazy-parts.js';
import type { RecorderPanel, RecorderPanelOptions } from './recorder-panel.js';
import type { ReelPanel, ReelPanelOptions } from './reel-panel.js';
import type { ChatStrings } from './strings.js';

/** What the panels need from `<reel-chat>`, and its shadow root (where their styles go). */
export interface SheetsOptions
  extends Omit<RecorderPanelOptions, 'loadRecorder'>, Omit<ReelPanelOptions, 'playerLoaded'> {
  root(): ShadowRoot | null;
}

const ignore = () => undefined;

/**
 * The recorder's and the reel's panels over the dialog, as `<reel-chat>` has them up front:
 * neither shows before the person opens one, so their code (`panels.ts`: state, sheets,
 * styles) loads then — already when the pointer or focus reaches the record or "Play all"
 * button, with the recorder's or the player's code. Until it is in, nothing changes (the
 * focus stays on the button); then the panel opens as before.
 */
export class Sheets {
  private recorder?: RecorderPanel;
  private reel?: ReelPanel;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: SheetsOptions,
  ) {}

  /** A panel is open: the dialog behind it is inert. */
  get open(): boolean {
    return !!(this.recorder?.open || this.reel?.open);
  }

  readonly prefetchRecorder = (): void => {
    loadRecorder().catch(ignore);
    loadPanels().catch(ignore);
  };

  readonly prefetchReel = (): void => {
    prefetchPlayer();
    loadPanels().catch(ignore);
  };

  readonly showRecorder = (): void => {
    void this.load().then((loaded) => {
      if (loaded) this.recorder!.show();
    });
  };

  readonly showReel = (): void => {
    void this.load().then((loaded) => {
      if (loaded) void this.reel!.show();
    });
  };

  /** The panels' code, in (true), or the error reported (false). */
  private async load(): Promise<boolean> {
    try {
      const parts = await loadPanels();
      parts.adoptSheetStyles(this.options.root());
      const options = { ...this.options, loadRecorder, playerLoaded };
      this.recorder ??= new parts.RecorderPanel(this.host, options);
      this.reel ??= new parts.ReelPanel(this.host, options);
      return true;
    } catch (error) {
      this.options.report(ReelError.from(error, 'network'));
      return false;
    }
  }

  render(
    t: (key: keyof ChatStrings, values?: Record<string, string | number>) => string,
  ): TemplateResult {
    return html`${this.recorder?.render(t) ?? nothing} ${this.reel?.render(t) ?? nothing}`;
  }
}
