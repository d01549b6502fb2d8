/**
 * An upload with no byte through for this long is said to wait for the connection (a stalled
 * link shows no error: its requests just hang), instead of a percentage that stands still.
 */
export const STALL_MS = 6000;

/**
 * One timer per upload, re-armed by each progress: `stalled(key)` runs when an upload made
 * none for `STALL_MS`. The session and its outgoing takes each keep one, stopped with them.
 */
export class StallWatch {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly stalled: (key: string) => void,
    private readonly ms = STALL_MS,
  ) {}

  /** Bytes went through (or the upload began): the clock starts again. */
  moved(key: string): void {
    this.clear(key);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.stalled(key);
      }, this.ms),
    );
  }

  /** The upload is through, failed or gone: nothing to watch. */
  clear(key: string): void {
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
  }

  stop(): void {
    for (const key of [...this.timers.keys()]) this.clear(key);
  }
}
