import { html, nothing, type ReactiveControllerHost, type TemplateResult } from 'lit';
import { ReelError } from '../transport/errors.js';
import type { ChatSession, Unsending } from './chat-session.js';
import { loadUnsendConfirm, type UnsendConfirm } from './lazy-parts.js';
import type { ChatStrings } from './strings.js';
import type { Entry } from './timeline.js';

type T = (key: keyof ChatStrings, values?: Record<string, string | number>) => string;

/** What a message's unsend control needs. */
export interface UnsendContext {
  t: T;
  state(id: string): Unsending | undefined;
  ask(id: string): void;
  /** The message whose "Unsend this message?" is open (once the confirm's code is in). */
  confirming?: string;
  /** The open confirm, in place of the message's "Unsend". */
  renderConfirm?(id: string): TemplateResult;
}

/**
 * The unsend control on one of this person's stored messages: an "Unsend" button, then in
 * its place a small confirm (`unsend-confirm.ts`, loaded on the first "Unsend"; Escape or
 * "Cancel" takes it back), "Unsending…" while on its way, and the backend's reason if it
 * was refused.
 */
export function renderUnsend(u: UnsendContext, entry: Entry): TemplateResult | typeof nothing {
  if (entry.deleted || entry.status !== 'sent') return nothing;
  const { t } = u;
  const id = entry.key;
  const state = u.state(id);
  if (state && state.error === undefined) {
    return html`<span part="status" class="status">${t('unsending')}</span>`;
  }
  if (u.confirming === id && u.renderConfirm) return u.renderConfirm(id);
  return html`${
      state?.error !== undefined
        ? html`<span part="status unsend-error" class="status failed" role="alert"
            >${t('unsendFailed', { reason: state.error })}</span
          >`
        : nothing
    }<button
      part="unsend-button"
      class="unsend"
      type="button"
      aria-label=${t('unsendLabel')}
      @click=${() => u.ask(id)}
    >
      ${t('unsend')}
    </button>`;
}

/** What `<reel-chat>` gives the unsend control. */
export interface UnsendOptions {
  session(): ChatSession | undefined;
  /** The element's shadow root: where the messages are, and where the confirm's styles go. */
  root(): ShadowRoot | null;
  /** The confirm's code could not be loaded. */
  report(error: ReelError): void;
  /** Where the focus goes while the message is being unsent (its controls go away). */
  focusList(): void;
}

/**
 * The unsend control as the dialog has it up front: the "Unsend" buttons. The confirm —
 * which message's is open, where the focus goes as it opens and closes, the request —
 * loads on the first "Unsend" (`unsend-confirm.ts`); it opens once its code is in.
 */
export class UnsendControl {
  private confirm?: UnsendConfirm.ConfirmControl;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: UnsendOptions,
  ) {}

  /** The context for the message parts, or undefined where the backend cannot unsend. */
  context(t: T): UnsendContext | undefined {
    const session = this.options.session();
    if (!session?.canUnsend) return undefined;
    return {
      t,
      state: (id) => session.unsending.get(id),
      ask: this.ask,
      confirming: this.confirm?.confirming,
      renderConfirm: this.confirm && ((id) => this.confirm!.render(t, id)),
    };
  }

  private readonly ask = (id: string): void => {
    loadUnsendConfirm().then(
      (parts) => {
        this.confirm ??= new parts.ConfirmControl(this.host, this.options);
        this.confirm.ask(id);
      },
      (error: unknown) => this.options.report(ReelError.from(error, 'network')),
    );
  };
}
