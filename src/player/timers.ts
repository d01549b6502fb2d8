/**
 * Every timer the player starts goes through one of these, so the element can clear them all
 * when it leaves the page, and tests can check that none is left (`Timers.live`).
 */
export class Timers {
  /** Timers pending across every registry on the page (a test hook). */
  static live = 0;
  private readonly pending = new Set<number>();

  /** Runs `task` once after `ms`. Returns an id for `clear`. */
  set(task: () => void, ms: number): number {
    const id = window.setTimeout(() => {
      if (this.pending.delete(id)) Timers.live--;
      task();
    }, ms);
    this.pending.add(id);
    Timers.live++;
    return id;
  }

  clear(id: number | undefined): void {
    if (id === undefined || !this.pending.delete(id)) return;
    window.clearTimeout(id);
    Timers.live--;
  }

  clearAll(): void {
    for (const id of this.pending) window.clearTimeout(id);
    Timers.live -= this.pending.size;
    this.pending.clear();
  }

  get size(): number {
    return this.pending.size;
  }
}
