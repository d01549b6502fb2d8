// A graceful stop (SIGTERM, as a deploy or a scale-down sends): what the instance took on
// before goes to its end — a PATCH of an upload finishes — while anything new is answered
// 503 with Retry-After, so clients go to another instance at once. Bounded: a stop never
// waits for ever on an upload that streams a whole recording (tus resumes it elsewhere).
import type { ServerResponse } from 'node:http';
import { HttpError } from './errors.js';

/** Another instance takes the request at once: the wait only spaces out the retries. */
export const DRAIN_RETRY_AFTER_S = 1;

export class Drain {
  private readonly inFlight = new Set<ServerResponse>();
  private emptied?: () => void;
  private started = false;

  /** Whether the stop has begun: new requests are refused. */
  get draining(): boolean {
    return this.started;
  }

  /** Requests being answered now (for the stop's log line). */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Refuses a request (503, Retry-After, Connection: close) once the stop has begun; else,
   * unless `wait` is false, the stop waits for its response to close.
   */
  admit(res: ServerResponse, { wait = true } = {}): void {
    if (this.started) throw refusedWhileStopping(res);
    if (!wait) return;
    this.inFlight.add(res);
    res.once('close', () => {
      this.inFlight.delete(res);
      if (this.inFlight.size === 0) this.emptied?.();
    });
  }

  /**
   * Begins the stop and resolves once every request admitted before has been answered, or
   * after `boundMs`, with how many were still open (the caller cuts them).
   */
  async settle(boundMs: number): Promise<number> {
    this.started = true;
    if (this.inFlight.size > 0 && boundMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.emptied = resolve;
        timer = setTimeout(resolve, boundMs);
      });
      clearTimeout(timer);
      this.emptied = undefined;
    }
    return this.inFlight.size;
  }
}

/** The refusal of a request that arrived after the stop began. */
export function refusedWhileStopping(res: ServerResponse): HttpError {
  if (!res.headersSent) {
    res.setHeader('Retry-After', String(DRAIN_RETRY_AFTER_S));
    res.setHeader('Connection', 'close');
  }
  return new HttpError(503, 'This server is stopping; please try again (another one answers).', {
    retryAfter: DRAIN_RETRY_AFTER_S,
  });
}
