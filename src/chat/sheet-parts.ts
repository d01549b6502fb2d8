// The recorder's and the reel's sheets over the dialog, with their styles: loaded when the
// person first opens a sheet (`sheets.ts`), not with the dialog. The recorder and the reel take
// the sheet's height below its title bar (the recorder scales its picture down to fit, the
// reel's picture fills it), so their buttons and the close button stay in view.
import { css, html, nothing, type TemplateResult } from 'lit';
import type { Clip, ReelEventDetails } from '../internal/events.js';
import type { Outbox } from '../outbox/outbox.js';
import type { ReelTransport } from '../transport/types.js';
import { adoptLazyStyles } from '../internal/lazy-styles.js';
import type { ChatStrings } from './strings.js';

type T = (key: keyof ChatStrings, values?: Record<string, string | number>) => string;

const RECORDER_PARTS =
  'base:recorder-base,stage:recorder-stage,preview:recorder-preview,review:recorder-review,status:recorder-status,controls:recorder-controls,button:recorder-button,primary-button:recorder-primary-button';
const REEL_PARTS =
  'base:reel-base,progress:reel-progress,segment:reel-segment,stage:reel-stage,video:reel-video,controls:reel-controls,button:reel-button';

const sheetStyles = css`
  .sheet {
    position: absolute;
    inset: 0;
    z-index: 2;
    display: flex;
    flex-direction: column;
    background: var(--_bg);
    overflow: auto;
  }
  .sheet[hidden] {
    display: none;
  }
  .reel-sheet {
    background: #000;
    color: #fff;
  }
  .sheet-header {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    padding: 0.5rem 0.75rem;
  }
  .sheet-header h2 {
    flex: 1;
    min-inline-size: 0;
    margin: 0;
    font-size: 1rem;
    overflow-wrap: anywhere;
  }
  .close {
    inline-size: 2.25rem;
    block-size: 2.25rem;
    border: 1px solid currentColor;
    border-radius: 50%;
    background: transparent;
    color: inherit;
  }
  .recorder,
  .reel {
    flex: auto;
    min-block-size: 0;
    inline-size: 100%;
  }
  .reel::part(base) {
    aspect-ratio: auto;
    block-size: 100%;
  }
  .no-clips {
    padding: 1rem;
    text-align: center;
  }
`;

/** Adds the sheets' styles to a `<reel-chat>`'s shadow root (once) before one shows. */
export function adoptSheetStyles(root: ShadowRoot | null): void {
  adoptLazyStyles(root, sheetStyles);
}

/** A panel's title bar with its close button. */
function sheetHeader(t: T, id: string, title: string, close: () => void): TemplateResult {
  return html`<div part="sheet-header" class="sheet-header">
    <h2 id=${id}>${title}</h2>
    <button
      part="close-button"
      class="close"
      type="button"
      aria-label=${t('close')}
      @click=${close}
    >
      <span aria-hidden="true">✕</span>
    </button>
  </div>`;
}

function closeOnEscape(close: () => void) {
  return (event: KeyboardEvent) => {
    if (event.key !== 'Escape') return;
    event.stopPropagation();
    close();
  };
}

export interface RecorderSheet {
  open: boolean;
  transport?: ReelTransport;
  conversation?: string;
  outbox?: Outbox;
  /** Takes shared live (`<reel-chat live>`): the buddy can watch while they are recorded. */
  live: boolean;
  /** The recorder's `shape` attribute (none: the recorder's default for the screen). */
  shape?: string;
  close(): void;
  progress(event: CustomEvent<ReelEventDetails['reel-upload-progress']>): void;
  complete(event: CustomEvent<ReelEventDetails['reel-upload-complete']>): void;
  message(event: CustomEvent<ReelEventDetails['reel-message']>): void;
  failed(): void;
}

/**
 * The recorder's panel. `<reel-recorder>` is rendered at once; its code loads when the panel
 * first opens (the element upgrades then, keeping the properties set here).
 */
export function renderRecorderSheet(t: T, sheet: RecorderSheet): TemplateResult {
  return html`<div
    part="sheet recorder-sheet"
    class="sheet"
    ?hidden=${!sheet.open}
    role="dialog"
    aria-labelledby="recorder-title"
    @keydown=${closeOnEscape(sheet.close)}
  >
    ${sheetHeader(t, 'recorder-title', t('recorderTitle'), sheet.close)}
    <reel-recorder
      part="recorder"
      class="recorder"
      autostart
      ?live=${sheet.live}
      shape=${sheet.shape || nothing}
      exportparts=${RECORDER_PARTS}
      .transport=${sheet.transport}
      .conversation=${sheet.conversation}
      .outbox=${sheet.outbox}
      @reel-upload-progress=${sheet.progress}
      @reel-upload-complete=${sheet.complete}
      @reel-error=${sheet.failed}
      @reel-message=${sheet.message}
      @reel-record-cancel=${sheet.close}
    ></reel-recorder>
  </div>`;
}

export interface ReelSheet {
  buddy: string;
  clips: Clip[];
  /** The reel had clips when it opened and every one was unsent since. */
  emptied?: boolean;
  close(): void;
  watched(event: CustomEvent<ReelEventDetails['reel-clip-watched']>): void;
}

/** The panel with the buddy's reel: every clip they shared, back to back. */
export function renderReelSheet(t: T, sheet: ReelSheet): TemplateResult {
  const { buddy } = sheet;
  return html`<div
    part="sheet reel-sheet"
    class="sheet reel-sheet"
    role="dialog"
    aria-labelledby="reel-title"
    @keydown=${closeOnEscape(sheet.close)}
  >
    ${sheetHeader(t, 'reel-title', t('reelTitle', { buddy }), sheet.close)}
    ${
      sheet.clips.length
        ? html`<reel-player
            part="reel"
            class="reel"
            exportparts=${REEL_PARTS}
            .clips=${sheet.clips}
            autoplay
            @reel-clip-watched=${sheet.watched}
          ></reel-player>`
        : html`<p class="no-clips" role="status">
            ${t(sheet.emptied ? 'noClipsLeft' : 'noClips', { buddy })}
          </p>`
    }
  </div>`;
}
