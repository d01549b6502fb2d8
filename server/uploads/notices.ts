// What the uploads tell the parts that convert them. Uploads is built before those parts
// (they read its files), so it tells an UploadNotices, which they join once they are built
// (compose.ts): no part calls one declared after it.

/** Told of an upload's progress; every method is optional. */
export interface UploadListener {
  /** The upload completed and its conversion job is queued. */
  queued?(videoId: string): void;
  /** A complete upload is being terminated: its conversion stops. */
  terminating?(videoId: string): void;
  /**
   * Bytes of an unfinished deferred-length upload (a recording) were stored; after each
   * PATCH that did not complete it. The live conversion reads them (convert/live.ts).
   */
  written?(videoId: string, owner: string, live: boolean): void;
  /** An unfinished upload is being removed (terminated or expired). */
  removing?(videoId: string): void;
}

/** Passes each notice on to the listeners that joined, in the order they joined. */
export class UploadNotices implements Required<UploadListener> {
  private readonly listeners: UploadListener[] = [];

  listen(listener: UploadListener): void {
    this.listeners.push(listener);
  }

  queued(videoId: string): void {
    for (const listener of this.listeners) listener.queued?.(videoId);
  }

  terminating(videoId: string): void {
    for (const listener of this.listeners) listener.terminating?.(videoId);
  }

  written(videoId: string, owner: string, live: boolean): void {
    for (const listener of this.listeners) listener.written?.(videoId, owner, live);
  }

  removing(videoId: string): void {
    for (const listener of this.listeners) listener.removing?.(videoId);
  }
}
