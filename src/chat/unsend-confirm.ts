// The "Unsend this message for everyone?" confirm — its state, focus, request and styles:
// loaded when the person first presses "Unsend" (`unsend-parts.ts`), not with the dialog.
import { css, html, type ReactiveControllerHost, type TemplateResult } from 'lit';
import { adoptLazyStyles } from '../internal/lazy-styles.js';
import type { ChatStrings } from './strings.js';
import type { UnsendOptions } from './unsend-parts.js';

type T = (key: keyof ChatStrings, values?: Record<string, string | number>) => string;

// Its buttons look like the dialog's small round ones (`.retry`, `.unsend`).
const confirmStyles = css`
  .unsend-confirm {
    display: inline-flex;
    flex-wrap: wrap;
    gap: 0.4rem;
    align-items: center;
    color: var(--_fg);
  }
  .unsend-confirm button {
    display: inline-flex;
    align-items: center;
    gap: 0.35rem;
    max-inline-size: 100%;
    padding: 0.1rem 0.5rem;
    border: 1px solid var(--_border);
    border-radius: 999px;
    background: transparent;
    font-size: 0.75rem;
    text-align: start;
  }
  .unsend-confirm .unsend-yes {
    border-color: var(--_danger);
    color: var(--_danger);
    font-weight: 600;
  }
`;

/** Which message's confirm is open, and where the focus goes as it opens and closes. */
export class ConfirmControl {
  /** The message whose "Unsend this message?" is open. */
  confirming?: string;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: UnsendOptions,
  ) {
    adoptLazyStyles(options.root(), confirmStyles);
  }

  ask(id: string): void {
    this.confirming = id;
    void this.focus(id, 'unsend-yes');
  }

  /** In place of the "Unsend" button: the question, "Unsend" and "Cancel" (or Escape). */
  render(t: T, id: string): TemplateResult {
    const onKeydown = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      event.stopPropagation();
      this.cancel(id);
    };
    return html`<span
      part="unsend-confirm"
      class="unsend-confirm"
      role="group"
      aria-labelledby="unsend-question"
      @keydown=${onKeydown}
    >
      <span id="unsend-question">${t('unsendQuestion')}</span>
      <button
        part="unsend-yes"
        class="unsend-yes"
        type="button"
        aria-describedby="unsend-question"
        @click=${() => void this.confirm(id)}
      >
        ${t('unsendConfirm')}
      </button>
      <button part="unsend-no" class="unsend-no" type="button" @click=${() => this.cancel(id)}>
        ${t('unsendCancel')}
      </button>
    </span>`;
  }

  private cancel(id: string): void {
    this.confirming = undefined;
    void this.focus(id, 'unsend-button');
  }

  private async confirm(id: string): Promise<void> {
    const session = this.options.session();
    this.confirming = undefined;
    this.host.requestUpdate();
    if (!session) return;
    this.options.focusList();
    const done = await session.unsend(id);
    // Refused: back to the message's button, beside the reason.
    if (!done && session === this.options.session()) await this.focus(id, 'unsend-button');
  }

  private async focus(id: string, part: string): Promise<void> {
    this.host.requestUpdate();
    await this.host.updateComplete;
    const rows = this.options.root()?.querySelectorAll<HTMLElement>('[data-id]') ?? [];
    const row = [...rows].find((element) => element.dataset.id === id);
    row?.querySelector<HTMLElement>(`[part~="${part}"]`)?.focus();
  }
}
