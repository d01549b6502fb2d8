// Event fan-out: the store appends an event to the log, then publishes it here, and every
// open SSE stream hears it. LocalFanout serves one process; several server instances
// would put a shared channel (PostgreSQL LISTEN/NOTIFY, Redis) behind the same interface.
import type { StoredEvent } from '../store/types.js';

export type EventListener = (event: StoredEvent) => void;

export interface EventFanout {
  /** Called in log order (ascending seq) for events already committed to the log. */
  publish(event: StoredEvent): void;
  subscribe(listener: EventListener): () => void;
}

export class LocalFanout implements EventFanout {
  private readonly listeners = new Set<EventListener>();

  publish(event: StoredEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        console.error('reelchat: an event listener failed', error);
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
