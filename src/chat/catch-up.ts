import { ReelError } from '../transport/errors.js';
import type { Page, Message } from '../transport/types.js';
import type { SessionTarget } from './session-types.js';

/** Page size when catching up after a reconnect. */
const CATCH_UP_PAGE = 100;

/** What catching up reads from and tells its session. */
export interface CatchUpHost {
  stopped(): boolean;
  /** The newest message in the list, if any. */
  newestId(): string | undefined;
  /** Messages listed while catching up, oldest first. */
  receive(messages: readonly Message[]): void;
  /** The first page, when the list was empty: where older pages start. */
  firstPage(page: Page<Message>): void;
  /** After the messages: whatever else may have changed while away (videos, the buddy's clips). */
  refresh(): Promise<void>;
  succeeded(): void;
  failed(error: ReelError): void;
}

/**
 * After a reconnect: every message after the newest one known, page by page, each once.
 * Asked again while running, it runs once more after, so nothing that arrived meanwhile is missed.
 */
export class CatchUp {
  private running?: Promise<void>;
  private again = false;

  constructor(
    private readonly target: SessionTarget,
    private readonly host: CatchUpHost,
    private readonly pageSize: number,
  ) {}

  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.pages()
      .catch((error: unknown) => {
        if (!this.host.stopped()) this.host.failed(ReelError.from(error, 'network'));
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async pages(): Promise<void> {
    const { transport, conversation } = this.target;
    do {
      this.again = false;
      let cursor = this.host.newestId();
      if (cursor === undefined) {
        const page = await transport.listMessages(conversation, { limit: this.pageSize });
        if (this.host.stopped()) return;
        this.host.receive(page.items);
        this.host.firstPage(page);
      }
      while (cursor !== undefined) {
        const page = await transport.listMessages(conversation, {
          after: cursor,
          limit: CATCH_UP_PAGE,
        });
        if (this.host.stopped()) return;
        this.host.receive(page.items);
        cursor = page.next === null || page.items.length === 0 ? undefined : page.next;
      }
      await this.host.refresh();
    } while (this.again && !this.host.stopped());
    if (!this.host.stopped()) this.host.succeeded();
  }
}
