// Runs conversion jobs from the durable queue: claims due jobs up to the concurrency,
// converts the uploaded file into the media store, records the outcome. A bad upload
// fails at once; any other error is retried with backoff, then fails — no video stays
// processing forever. Jobs interrupted by shutdown (or kill -9) run again after restart.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ConvertError, type ConvertResult } from '../convert/index.js';
import type { MediaStore } from '../media/store.js';
import type { MetadataStore } from '../store/types.js';
import type { JobQueue } from './queue.js';

/** The part of the converter the worker uses (the real one is convert/Converter). */
export interface VideoConverter {
  convert(inputPath: string, outputDir: string, signal?: AbortSignal): Promise<ConvertResult>;
}

export interface WorkerOptions {
  queue: JobQueue;
  store: MetadataStore;
  media: MediaStore;
  converter: VideoConverter;
  /** Where the uploaded file of a video is. */
  uploadPath(videoId: string): string;
  /** Removes the uploaded bytes once they are no longer needed. */
  discardUpload(videoId: string): Promise<void>;
  concurrency: number;
  /** Delay before each retry; its length is the number of retries. */
  retryDelaysMs?: number[];
}

const DEFAULT_RETRY_DELAYS_MS = [5_000, 30_000, 120_000];

export class ConversionWorker {
  private readonly running = new Map<string, AbortController>();
  private readonly retryDelaysMs: number[];
  private timer: NodeJS.Timeout | undefined;
  private pumping = false;
  private again = false;
  private stopped = false;
  private readonly settled = new Set<Promise<void>>();

  constructor(private readonly options: WorkerOptions) {
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  }

  async start(): Promise<void> {
    await this.options.queue.recover();
    this.kick();
  }

  /** Looks for due jobs now (after an upload completed, a job finished, a timer fired). */
  kick(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void this.pump()
      .catch((error) => console.error('reelchat: the job queue failed', error))
      .finally(() => {
        this.pumping = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Stops the conversion of a video that is being terminated. */
  cancel(videoId: string): void {
    this.running.get(videoId)?.abort(new Error('The upload was terminated.'));
  }

  /** Stops taking jobs and aborts running ones; they stay queued for the next start. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const controller of this.running.values()) controller.abort(new Error('Server stopping.'));
    await Promise.all(this.settled);
  }

  private async pump(): Promise<void> {
    const { queue, concurrency } = this.options;
    while (!this.stopped && this.running.size < concurrency) {
      const job = await queue.claim(Date.now());
      if (!job) break;
      const controller = new AbortController();
      this.running.set(job.videoId, controller);
      const done = this.run(job.videoId, job.attempts, controller.signal).finally(() => {
        this.running.delete(job.videoId);
        this.settled.delete(done);
        this.kick();
      });
      this.settled.add(done);
    }
    const due = await queue.nextDue();
    clearTimeout(this.timer);
    if (due !== undefined && !this.stopped) {
      this.timer = setTimeout(() => this.kick(), Math.max(due - Date.now(), 0) + 10);
      this.timer.unref();
    }
  }

  private async run(videoId: string, attempt: number, signal: AbortSignal): Promise<void> {
    const { store, media, converter } = this.options;
    const outputDir = media.outputDir(videoId);
    const input = this.options.uploadPath(videoId);
    let result: ConvertResult;
    let sha256: string | null;
    try {
      // A previous attempt may have left a complete folder (killed before recording it).
      await media.remove(videoId);
      // The checksum is read beside the conversion, so it costs no wall-clock time.
      const hashing = hashFile(input).catch(() => null);
      result = await converter.convert(input, outputDir, signal);
      sha256 = await hashing;
    } catch (error) {
      if (signal.aborted) return; // shutdown (job stays queued) or termination (rows gone)
      await this.failed(videoId, attempt, error);
      return;
    }
    await media.publish(videoId);
    const video = await store.markVideoReady(videoId, { ...result, sha256 });
    if (!video) await media.remove(videoId); // terminated while converting
    await this.options.discardUpload(videoId);
  }

  private async failed(videoId: string, attempt: number, error: unknown): Promise<void> {
    const { store, media, queue } = this.options;
    const badInput = error instanceof ConvertError || isMissingUpload(error);
    const retries = this.retryDelaysMs.length;
    if (!badInput && attempt <= retries) {
      console.error(
        `reelchat: converting ${videoId} failed (attempt ${attempt}), will retry`,
        error,
      );
      await queue.retry(videoId, Date.now() + this.retryDelaysMs[attempt - 1]!, String(error));
      return;
    }
    const reason =
      error instanceof ConvertError
        ? error.reason
        : isMissingUpload(error)
          ? 'The uploaded file is missing.'
          : 'The video could not be converted; please try again.';
    if (!badInput) console.error(`reelchat: converting ${videoId} failed for good`, error);
    // Bytes go first, so a client that sees `failed` never finds anything left behind.
    await media.remove(videoId);
    await this.options.discardUpload(videoId);
    await store.markVideoFailed(videoId, reason);
  }
}

/** SHA-256 (hex) of a file, streamed. */
async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function isMissingUpload(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
