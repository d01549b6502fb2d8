import { html, type TemplateResult } from 'lit';
import type { Clip, ReelEventDetails } from '../internal/events.js';
import type { ReelTransport } from '../transport/types.js';
import type { ChatStrings } from './strings.js';

type T = (key: keyof ChatStrings, values?: Record<string, string | number>) => string;

const RECORDER_PARTS =
  'base:recorder-base,stage:recorder-stage,preview:recorder-preview,review:recorder-review,status:recorder-status,controls:recorder-controls,button:recorder-button,primary-button:recorder-primary-button';
const REEL_PARTS =
  'base:reel-base,progress:reel-progress,segment:reel-segment,stage:reel-stage,video:reel-video,controls:reel-controls,button:reel-button';

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
      exportparts=${RECORDER_PARTS}
      .transport=${sheet.transport}
      .conversation=${sheet.conversation}
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
        : html`<p class="no-clips">${t('noClips', { buddy })}</p>`
    }
  </div>`;
}
