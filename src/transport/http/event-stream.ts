import { ReelError } from '../errors.js';
import { errorFromResponse, MAX_RETRY_WAIT_MS, type ApiClient } from './api-client.js';

export interface ServerSentEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * One server-sent-events subscription over fetch (EventSource cannot send the bearer
 * header): reconnects with backoff, resumes with Last-Event-ID, and reports each
 * event once even when the server replays what the client already has.
 */
export class EventStream {
  private readonly controller = new AbortController();
  private lastEventId?: string;
  private attempt = 0;
  private online?: boolean;
  /** The server is stopping and sent `event: reconnect`: reconnect without a wait. */
  private sentElsewhere = false;

  constructor(
    private readonly api: ApiClient,
    private readonly path: string,
    private readonly handlers: {
      onEvent(event: ServerSentEvent): void;
      onConnection(online: boolean): void;
      /** A refusal that retrying cannot fix (403, 404): the stream stops. */
      onFatal(error: ReelError): void;
    },
  ) {
    void this.run();
  }

  close(): void {
    this.controller.abort();
  }

  private setOnline(online: boolean): void {
    if (this.online === online) return;
    this.online = online;
    this.handlers.onConnection(online);
  }

  private async run(): Promise<void> {
    const { signal } = this.controller;
    let asked: number | undefined;
    while (!signal.aborted) {
      try {
        const headers: Record<string, string> = { Accept: 'text/event-stream' };
        if (this.lastEventId !== undefined) headers['Last-Event-ID'] = this.lastEventId;
        const response = await this.api.fetch(this.path, { headers, signal, cache: 'no-store' });
        if (response.status === 403 || response.status === 404 || response.status === 400) {
          this.handlers.onFatal(await errorFromResponse(response));
          return;
        }
        if (!response.ok || !response.body) throw await errorFromResponse(response);
        this.attempt = 0;
        this.setOnline(true);
        const opened = Date.now();
        await this.read(response.body);
        asked = undefined;
        // At once, still online; not in a loop if a server said it on every stream.
        const elsewhere = this.sentElsewhere && Date.now() - opened >= 1000;
        this.sentElsewhere = false;
        if (elsewhere) continue;
      } catch (error) {
        // A token too large for the server (431) stays too large: no point in trying again.
        if (error instanceof ReelError && error.status === 431) {
          this.handlers.onFatal(error);
          return;
        }
        // Network loss, server restart, 5xx, too many streams (429): wait and reconnect below,
        // no sooner than the server asked.
        asked = error instanceof ReelError ? error.retryAfter : undefined;
      }
      if (signal.aborted) return;
      this.setOnline(false);
      await this.backoff(asked);
    }
  }

  private backoff(asked?: number): Promise<void> {
    // 0.5 s, 1 s, 2 s … at most 10 s, with jitter so clients don't reconnect in step.
    const base = Math.min(10_000, 500 * 2 ** this.attempt++) * (0.75 + Math.random() * 0.5);
    const delay = Math.max(base, Math.min(asked ?? 0, MAX_RETRY_WAIT_MS));
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, delay);
      this.controller.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + (buffer[end] === '\r' ? 4 : 2));
          this.dispatch(block);
        }
      }
    } finally {
      reader.releaseLock();
    }
  }

  private dispatch(block: string): void {
    const event: ServerSentEvent = { event: 'message', data: '' };
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'event') event.event = value;
      else if (field === 'id') event.id = value;
    }
    if (data.length === 0) return;
    if (event.event === 'reconnect') {
      this.sentElsewhere = true;
      return;
    }
    event.data = data.join('\n');
    if (event.id !== undefined) {
      // Ids are the server's log sequence: anything not newer was delivered already.
      if (this.lastEventId !== undefined && Number(event.id) <= Number(this.lastEventId)) return;
      this.lastEventId = event.id;
    }
    this.handlers.onEvent(event);
  }
}
