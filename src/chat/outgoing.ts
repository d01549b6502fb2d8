import { defaultOutbox, resumePendingUploads } from '../outbox/deliver.js';
import type { Outbox } from '../outbox/outbox.js';
import { PendingTexts } from '../outbox/texts.js';
import { ReelError } from '../transport/errors.js';
import type { Message, MessageDraft, Video } from '../transport/types.js';
import type { SessionTarget, Upload } from './session-types.js';
import { StallWatch } from './stall-watch.js';
import type { Timeline } from './timeline.js';

/** A take an earlier page (or this page's recorder, gone since) left in the outbox, on its way. */
export interface OutgoingTake extends Upload {
  clientId: string;
  /** Why its last attempt failed, when the backend refused it. */
  error?: string;
}

/** What `Outgoing` needs from its session. */
export interface OutgoingHost {
  stopped(): boolean;
  readonly timeline: Timeline;
  changed(): void;
  /** Messages the backend confirmed: a text's answer, a resumed take's message. */
  receive(messages: Message[]): void;
  rememberVideo(video: Video): void;
  /** A request failed (reported, not shown as the dialog's problem). */
  failed(error: ReelError): void;
  /** A request went through. */
  succeeded(): void;
}

/**
 * What this person sends that the backend has not confirmed yet, kept so that nothing looks
 * lost or goes twice: texts (kept in the outbox's database until confirmed, sent again after
 * a reload with the same clientId) and the takes an earlier page left in the outbox (shown at
 * once, with their progress, and delivered here without the recorder being opened). A take
 * is delivered under its Web Lock (`resumePendingUploads`), so a recorder or another tab
 * delivering it at the same time never sends it twice.
 */
export class Outgoing {
  readonly takes = new Map<string, OutgoingTake>();
  readonly outbox: Outbox;
  private readonly texts: PendingTexts;
  /** Stops waiting for takes others hold when the session stops (uploads in flight go on). */
  private readonly stopping = new AbortController();
  private resuming?: Promise<void>;
  private resumeAgain = false;
  /** The delivery runs under way: a take's Cancel stops them, then the other takes go on. */
  private readonly runs = new Set<AbortController>();
  /** Takes the person cancelled: what their stopped runs still report is not shown. */
  private readonly cancelled = new Set<string>();
  /** A take with no byte through for a while is shown waiting for the connection. */
  private readonly stall = new StallWatch((clientId) => {
    const take = this.takes.get(clientId);
    if (!take || take.video || take.error || this.host.stopped()) return;
    this.takes.set(clientId, { ...take, waiting: true });
    this.host.changed();
  });

  constructor(
    private readonly target: SessionTarget,
    private readonly host: OutgoingHost,
  ) {
    this.outbox = target.outbox ?? defaultOutbox();
    this.texts = new PendingTexts(this.outbox.name);
  }

  /** What an earlier page left: its texts shown pending and sent, its takes shown and delivered. */
  async start(): Promise<void> {
    await Promise.all([this.restoreTexts(), this.showTakes()]);
    if (this.host.stopped()) return;
    // Takes a closing page (or another tab) still holds are waited for, and sent here if it
    // lets go of them unsent.
    void this.deliverTakes('wait');
  }

  stop(): void {
    this.stopping.abort();
    this.stall.stop();
  }

  // ——— texts ———

  /** Shows the draft as pending at once, keeps it, then sends it. */
  async send(draft: MessageDraft, authorName?: string): Promise<void> {
    if (this.host.stopped()) return;
    this.host.timeline.addLocal(draft, authorName);
    this.host.changed();
    const { conversation, me } = this.target;
    this.texts
      .keep({ conversation, user: me, draft, createdAt: new Date().toISOString() })
      .catch((error: unknown) => this.host.failed(ReelError.from(error)));
    await this.deliver(draft);
  }

  /** Sends a failed message again with the same clientId. */
  retry(clientId: string): void {
    const draft = this.host.timeline.retry(clientId);
    if (!draft) return;
    this.host.changed();
    void this.deliver(draft);
  }

  /** The backend has these messages: this person's are not kept (or shown as on their way) any more. */
  confirmed(messages: readonly Message[]): void {
    for (const message of messages) {
      if (message.author !== this.target.me) continue;
      if (this.takes.delete(message.clientId)) this.host.changed();
      if (message.text !== undefined) this.dropText(message.clientId);
    }
  }

  private async deliver(draft: MessageDraft): Promise<void> {
    const { transport, conversation } = this.target;
    try {
      const message = await transport.sendMessage(conversation, draft);
      if (this.host.stopped()) return;
      this.host.succeeded();
      this.host.receive([message]);
      // An answer for a message listed already changes no list: drop its keeping here.
      this.dropText(draft.clientId);
    } catch (error) {
      if (this.host.stopped()) return;
      const reelError = ReelError.from(error, 'network');
      const retryable = reelError.code === 'network' || reelError.code === 'internal';
      this.host.timeline.fail(draft.clientId, reelError.message, retryable);
      // A refusal is final: it is not sent again after a reload either.
      if (!retryable) this.dropText(draft.clientId);
      this.host.changed();
      this.host.failed(reelError);
    }
  }

  private dropText(clientId: string): void {
    this.texts
      .drop(this.target.conversation, clientId)
      .catch((error: unknown) => this.host.failed(ReelError.from(error)));
  }

  private async restoreTexts(): Promise<void> {
    const { conversation, me } = this.target;
    const kept = await this.texts.list(conversation, me).catch((error: unknown) => {
      this.host.failed(ReelError.from(error));
      return [];
    });
    for (const text of kept) {
      if (this.host.stopped()) return;
      if (this.host.timeline.localEntry(text.draft.clientId)) continue;
      this.host.timeline.addLocal(text.draft);
      this.host.changed();
      void this.deliver(text.draft);
    }
  }

  // ——— takes ———

  /** The takes this person chose to send that are still in the outbox, shown at once. */
  private async showTakes(): Promise<void> {
    const { conversation, me } = this.target;
    const takes = await this.outbox.pending({ conversation, user: me }).catch((error: unknown) => {
      this.host.failed(ReelError.from(error));
      return [];
    });
    if (this.host.stopped()) return;
    for (const take of takes) {
      // A take still being recorded or reviewed is its recorder's to show.
      if (!take.send || this.outbox.isLive(take.clientId)) continue;
      this.takes.set(take.clientId, {
        clientId: take.clientId,
        sent: take.state === 'uploaded' ? take.bytes : take.confirmed,
        total: take.bytes,
      });
      if (take.state !== 'uploaded') this.stall.moved(take.clientId);
    }
    if (this.takes.size) this.host.changed();
  }

  /**
   * The connection is back: what failed goes again. Takes another element or tab holds
   * are left to it (`skip`); one run at a time.
   */
  resumeTakes(): void {
    if (this.resuming) {
      this.resumeAgain = true;
      return;
    }
    this.resuming = (async () => {
      do {
        this.resumeAgain = false;
        await this.deliverTakes('skip');
      } while (this.resumeAgain && !this.host.stopped());
    })().finally(() => (this.resuming = undefined));
  }

  /**
   * The person gave up on a take (its Cancel): the runs delivering stop (the others' takes go
   * on after), and it leaves the list and the outbox — before a run waiting for its lock gets
   * it, which then finds nothing to send.
   */
  async cancel(clientId: string): Promise<void> {
    const take = this.takes.get(clientId);
    if (!take || take.video) return;
    this.cancelled.add(clientId);
    this.takes.delete(clientId);
    this.stall.clear(clientId);
    this.host.changed();
    for (const run of this.runs) run.abort();
    await this.outbox
      .delete(clientId)
      .catch((error: unknown) => this.host.failed(ReelError.from(error)));
    if (!this.host.stopped()) this.resumeTakes();
  }

  private async deliverTakes(held: 'wait' | 'skip'): Promise<void> {
    const { transport, conversation, me } = this.target;
    const run = new AbortController();
    this.runs.add(run);
    const update = (clientId: string, patch: Partial<OutgoingTake>) => {
      const shown = this.takes.get(clientId);
      if (this.host.stopped() || this.cancelled.has(clientId)) return;
      this.takes.set(clientId, { clientId, sent: 0, ...shown, ...patch });
      this.host.changed();
    };
    await resumePendingUploads(transport, this.outbox, {
      conversation,
      user: me,
      held,
      signal: run.signal,
      stopWaiting: this.stopping.signal,
      onProgress: (take, sent, total) => {
        if (this.cancelled.has(take.clientId)) return;
        this.stall.moved(take.clientId);
        update(take.clientId, { sent, total, waiting: false, error: undefined });
      },
      onUploaded: (take, video) => {
        this.stall.clear(take.clientId);
        if (this.host.stopped()) return;
        this.host.succeeded();
        this.host.rememberVideo(video);
        update(take.clientId, { sent: take.bytes, total: take.bytes, video });
      },
      onSent: (take, message) => {
        if (this.host.stopped()) return;
        this.takes.delete(take.clientId);
        this.host.receive([message]);
      },
      onError: (take, error) => {
        this.stall.clear(take.clientId);
        const waiting = error.code === 'network';
        update(take.clientId, { waiting, error: waiting ? undefined : error.message });
        if (!this.host.stopped()) this.host.failed(error);
      },
    })
      .catch((error: unknown) => {
        if (!this.host.stopped()) this.host.failed(ReelError.from(error));
      })
      .finally(() => this.runs.delete(run));
    if (this.host.stopped()) return;
    // Rows for takes that left the outbox meanwhile (sent by the recorder or another tab).
    const left = new Set(
      (await this.outbox.pending({ conversation, user: me }).catch(() => [])).map(
        (take) => take.clientId,
      ),
    );
    let changed = false;
    for (const clientId of this.takes.keys()) {
      if (!left.has(clientId)) changed = this.takes.delete(clientId) || changed;
    }
    if (changed && !this.host.stopped()) this.host.changed();
  }
}
