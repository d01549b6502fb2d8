// How the conversion hears of uploads (UploadNotices): a completed upload's job is run, or
// the result of its conversion while it arrived is recorded; a terminated one stops.
import type { LiveConversions } from '../convert/live-pool.js';
import type { UploadListener } from '../uploads/notices.js';
import type { ConversionWorker } from './worker.js';

export interface UploadConversionOptions {
  worker: Pick<ConversionWorker, 'recordConverted' | 'kick' | 'cancel'>;
  /** Recordings converted while they upload (undefined when that is off). */
  live?: Pick<LiveConversions, 'completed' | 'written' | 'cancel'>;
  /**
   * Scaled mode: the bytes reach an api instance and a worker's LiveRelay feeds its pool, so
   * this process's notices of written bytes and completions are not the pool's to act on.
   */
  relayed: boolean;
  /** Whether the bytes are in this process's data folder (not in PostgreSQL). */
  bytesHere: boolean;
  /** Whether this instance converts (not an api-only instance). */
  converting: boolean;
}

export class UploadConversion implements UploadListener {
  constructor(private readonly options: UploadConversionOptions) {}

  queued(videoId: string): void {
    const { worker, live, relayed, converting } = this.options;
    // Converted while it arrived: recorded once finished; the job waits for that. (In
    // scaled mode the live conversion runs on a worker, which learns of it by itself.)
    const converted = relayed ? undefined : live?.completed(videoId);
    if (converted) void worker.recordConverted(videoId, converted);
    // An api instance converts nothing: the workers hear of the job from the queue.
    if (converting) worker.kick();
  }

  terminating(videoId: string): void {
    this.options.worker.cancel(videoId);
  }

  written(videoId: string, owner: string, live: boolean): void {
    if (this.options.bytesHere) this.options.live?.written(videoId, owner, live);
  }

  removing(videoId: string): void {
    this.options.live?.cancel(videoId);
  }
}
