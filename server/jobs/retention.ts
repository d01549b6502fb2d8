// Retention (REELCHAT_RETENTION_DAYS): every sweep removes messages older than the period,
// their videos, clips never sent, and old log events; each removed message gets a
// message.deleted event so open dialogs drop it. Files go after their rows, so nothing can
// serve them meanwhile (media answer 404 once the row is gone).
import type { RemovalStore } from '../store/types.js';
import { RETENTION_BATCH } from '../store/types.js';

export interface RetentionOptions {
  store: { readonly removal: Pick<RemovalStore, 'expireBefore'> };
  days: number;
  /** Removes a video's files once its rows are gone (conversion, media, upload bytes). */
  discardVideo(videoId: string): Promise<void>;
}

export interface SweepTotals {
  messages: number;
  videos: number;
  events: number;
}

export class RetentionSweeper {
  private running: Promise<SweepTotals> | undefined;

  constructor(private readonly options: RetentionOptions) {}

  /** One sweep (a sweep already under way is joined, not doubled). */
  sweep(at = Date.now()): Promise<SweepTotals> {
    this.running ??= this.run(at).finally(() => (this.running = undefined));
    return this.running;
  }

  /** Resolves once no sweep is running (shutdown waits for it before closing the database). */
  async settled(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async run(at: number): Promise<SweepTotals> {
    const cutoff = new Date(at - this.options.days * 86_400_000).toISOString();
    const totals: SweepTotals = { messages: 0, videos: 0, events: 0 };
    // In batches, so one transaction never holds the write lock for long.
    for (;;) {
      const report = await this.options.store.removal.expireBefore(cutoff);
      totals.messages += report.messages;
      totals.videos += report.videos.length;
      totals.events += report.events;
      for (const video of report.videos) await this.options.discardVideo(video);
      if (report.messages < RETENTION_BATCH && report.videos.length < RETENTION_BATCH)
        return totals;
    }
  }
}
