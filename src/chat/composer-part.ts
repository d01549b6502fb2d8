import { html, nothing, type TemplateResult } from 'lit';
import { cutToGraphemes } from './graphemes.js';
import type { ChatStrings } from './strings.js';

export interface Composer {
  t(key: keyof ChatStrings, values?: Record<string, string | number>): string;
  text: string;
  limit: number;
  /** The last paste was cut to fit `limit`: the counter says so. */
  cut: boolean;
  /** A session is running: the buttons work. */
  enabled: boolean;
  /** The text changed (`cut`: a paste was cut to fit). */
  input(text: string, cut?: boolean): void;
  send(): void;
  record(): void;
  /** The pointer or focus is on the record button: the recorder can start loading. */
  prefetchRecorder(): void;
}

/** The form at the bottom: record button, textarea with its counter, send button. */
export function renderComposer(c: Composer): TemplateResult {
  const left = c.limit - c.text.length;
  const near = left <= Math.max(20, Math.floor(c.limit * 0.1));
  const onKeydown = (event: KeyboardEvent) => {
    // Enter sends, Shift+Enter is a new line; nothing while an input method composes.
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    c.send();
  };
  // A paste longer than the room left is cut here, not silently by `maxlength` (which may
  // split an emoji), and the person is told.
  const onPaste = (event: ClipboardEvent) => {
    const field = event.target as HTMLTextAreaElement;
    const pasted = event.clipboardData?.getData('text/plain');
    if (!pasted) return;
    const { selectionStart: start, selectionEnd: end } = field;
    const room = c.limit - (field.value.length - (end - start));
    if (pasted.length <= room) return;
    event.preventDefault();
    field.setRangeText(cutToGraphemes(pasted, Math.max(0, room)), start, end, 'end');
    c.input(field.value, true);
  };
  const onSubmit = (event: Event) => {
    event.preventDefault();
    c.send();
  };
  return html`<form part="composer" class="composer" @submit=${onSubmit}>
    <button
      part="record-button"
      class="record"
      type="button"
      aria-label=${c.t('record')}
      title=${c.t('record')}
      ?disabled=${!c.enabled}
      @pointerenter=${c.prefetchRecorder}
      @focus=${c.prefetchRecorder}
      @click=${c.record}
    >
      <span aria-hidden="true" class="record-dot"></span>
    </button>
    <div class="field">
      <textarea
        part="input"
        class="input"
        rows="1"
        aria-label=${c.t('composerLabel')}
        aria-describedby="counter"
        placeholder=${c.t('placeholder')}
        maxlength=${c.limit}
        .value=${c.text}
        @input=${(event: Event) => c.input((event.target as HTMLTextAreaElement).value)}
        @keydown=${onKeydown}
        @paste=${onPaste}
      ></textarea>
      <span part="counter" id="counter" class="counter ${left < 0 ? 'over' : ''}" aria-live="polite"
        >${
          c.cut
            ? c.t('textCut', { count: c.limit })
            : near
              ? left < 0
                ? c.t('tooLong', { count: -left })
                : c.t('charactersLeft', { count: left })
              : nothing
        }</span
      >
    </div>
    <button
      part="send-button"
      class="send"
      type="submit"
      ?disabled=${!c.enabled || !c.text.trim() || left < 0}
    >
      ${c.t('send')}
    </button>
  </form>`;
}
