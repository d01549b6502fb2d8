// Runs conversion jobs from the durable queue: claims due jobs up to the concurrency (at
// most `perOwner` of one owner at once, owners in turn), converts the uploaded file into
// the media store, records the outcome. A bad upload fails at once; any other conversion
// error is retried with backoff, then fails — no video stays processing forever. Jobs
// interrupted by a graceful stop go back to the queue at once (queue.release: due now, the
// attempt not counted); after kill -9 they run again after restart, or once their lease
// lapses on a shared queue.
//
// Recording an outcome (database, media store) can fail too, e.g. while another connection
// holds the database's write lock. Such a job goes back to the queue and runs again later,
// reusing the outcome it already has (the converted folder is kept), so a video ends ready
// exactly once. Nothing here may reject unhandled: every promise ends in a catch that logs.
//
// The media bucket unavailable (scaled mode: 503 SlowDown, time-outs, refused connections) is
// waited out where it happens — publishing or removing a video's media — with backoff and
// jitter up to STORAGE_WAIT_MS (10 min), the job keeping its lease but not its slot: a job
// that converts nothing (it publishes, or waits for a conversion done while uploading) is
// "waiting", and its slot and its owner's share go to the next conversion, so an outage holds
// no conversion back and all are published once the bucket is back. Past the wait the job
// goes back to the queue, due in 0.5–1 s, the attempt not counted. PostgreSQL unreachable
// while a job records its outcome or updates the queue is tried again as soon. A video never
// fails because its bucket was away — nor because the disk filled while it converted
// (ENOSPC, ffmpeg's "No space left on device"): the job goes back to the queue.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConvertError, type ConvertResult } from '../convert/index.js';
import { isDiskFull } from '../media/disk-space.js';
import type { MediaStore } from '../media/store.js';
import { backoffWithJitter, isStorageUnavailable } from '../media/unavailable.js';
import { isDatabaseUnreachable } from '../store/pg-database.js';
import type { ReadyMeta, VideoStore } from '../store/types.js';
import type { Job, JobQueue } from '../store/jobs.js';

/** The part of the converter the worker uses (the real one is convert/Converter). */
export interface VideoConverter {
  convert(inputPath: string, outputDir: string, signal?: AbortSignal): Promise<ConvertResult>;
}

export interface WorkerOptions {
  queue: JobQueue;
  store: VideoStore;
  media: MediaStore;
  converter: VideoConverter;
  /** Where the uploaded file of a video is (scaled mode: copied to local scratch first). */
  uploadPath(videoId: string): string | Promise<string>;
  /** Removes the uploaded bytes once they are no longer needed. */
  discardUpload(videoId: string): Promise<void>;
  concurrency: number;
  /** Conversions of one owner at once; the owner's others wait while other owners' run. */
  perOwner?: number;
  /** Delay before each retry of a failed conversion; its length is the number of retries. */
  retryDelaysMs?: number[];
  /**
   * Delays before a job whose outcome could not be recorded (or whose queue update
   * failed) runs again; the last one repeats. Not counted against the retries.
   */
  bookkeepingDelaysMs?: number[];
  /** How long one job waits for an unavailable bucket before going back to the queue. */
  storageWaitMs?: number;
  /** Waits before a job that met a passing outage runs again (default 500 ms doubling to 1 s). */
  outageRetryMs?: { baseMs: number; capMs: number };
  /** Told of each outcome once recorded (for /metrics and the job log). */
  onRecorded?(videoId: string, outcome: RecordedOutcome): void;
}

/** A recorded outcome: how it ended, whether a job or the live path converted it, how long the job took. */
export interface RecordedOutcome {
  state: 'ready' | 'failed';
  path: 'job' | 'live';
  /** From the job's claim to its outcome recorded (jobs only). */
  seconds?: number;
  reason?: string;
}

const DEFAULT_RETRY_DELAYS_MS = [5_000, 30_000, 120_000];
const DEFAULT_BOOKKEEPING_DELAYS_MS = [1_000, 5_000, 30_000, 120_000];
// Past this a job waiting for the bucket goes back to the queue (handed back after 15 s, it
// was converted again: ready 6–10 s after a 30 s outage). Meanwhile it holds no slot.
const STORAGE_WAIT_MS = 10 * 60_000;
// Jobs one worker holds per slot, most of them waiting: bounds the scratch kept in an outage.
const HELD_PER_SLOT = 4;
// Waits before a job that met a passing outage runs again (its queue update too): 0.5–1 s.
const OUTAGE_RETRY_BASE_MS = 500;
const OUTAGE_RETRY_CAP_MS = 1_000;
// Waits between tries while the bucket is unavailable: 0.5–1 s, jittered: used again at once.
const STORAGE_RETRY_BASE_MS = 500;
const STORAGE_RETRY_CAP_MS = 1_000;
// A conversion that ran out of disk space: 1 s doubling to 4 s, jittered. Each try converts
// again, so not every second; never minutes, so a freed disk is used within about 5 s.
const DISK_RETRY_BASE_MS = 1_000;
const DISK_RETRY_CAP_MS = 4_000;

/** What a finished conversion decided, kept until it is recorded. */
type Outcome = { ready: ReadyMeta } | { failed: string };

export class ConversionWorker {
  private readonly running = new Map<string, AbortController>();
  /** Running jobs that convert nothing now (see above): they hold no slot. */
  private readonly waiting = new Set<string>();
  /** When each running job was claimed, for its duration. */
  private readonly claimedAt = new Map<string, number>();
  /** Outcomes not yet recorded (bookkeeping failed): the next run records them. */
  private readonly outcomes = new Map<string, Outcome>();
  private readonly retryDelaysMs: number[];
  private readonly bookkeepingDelaysMs: number[];
  private timer: NodeJS.Timeout | undefined;
  /** Renews the running jobs' leases (queues that lease them: queue.heartbeat). */
  private heartbeat: NodeJS.Timeout | undefined;
  private pumping = false;
  /** The pump now running (close waits for it, so a job it claims meanwhile is handed back). */
  private pumped: Promise<void> = Promise.resolve();
  private again = false;
  private stopped = false;
  /** Consecutive failures of the queue itself (claim, nextDue), for backoff. */
  private queueFailures = 0;
  private readonly settled = new Set<Promise<void>>();
  /** Conversions done outside a job (live, while uploading) being recorded: true once recorded. */
  private readonly recording = new Map<string, Promise<boolean>>();
  /** Aborted by close(): ends waits for the bucket outside a job (recordConverted). */
  private readonly closing = new AbortController();
  /** Tries made again because the bucket was unavailable (for benchmarks). */
  storageRetries = 0;

  constructor(private readonly options: WorkerOptions) {
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.bookkeepingDelaysMs = options.bookkeepingDelaysMs ?? DEFAULT_BOOKKEEPING_DELAYS_MS;
  }

  async start(): Promise<void> {
    const { queue } = this.options;
    await queue.recover();
    if (queue.heartbeat) {
      this.heartbeat = setInterval(() => {
        if (this.running.size === 0) return;
        queue.heartbeat!([...this.running.keys()]).catch((error: unknown) => {
          console.error("reelchat: renewing the running jobs' leases failed", error);
        });
      }, queue.heartbeatMs ?? 5_000);
      this.heartbeat.unref();
    }
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
    this.pumped = this.pump()
      .then(
        () => {
          this.queueFailures = 0;
        },
        (error: unknown) => {
          // The queue could not be read or updated (the database is locked or gone): look
          // again later instead of waiting for a kick that may never come.
          const delay = delayAt(this.bookkeepingDelaysMs, this.queueFailures++);
          console.error(`reelchat: the job queue failed, trying again in ${delay} ms`, error);
          this.wakeAt(Date.now() + delay);
        },
      )
      .finally(() => {
        this.pumping = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /**
   * Records a conversion that was done outside a job (server/convert/live.ts, while the
   * upload arrived) as soon as it is finished, without waiting for a slot, through the same
   * bookkeeping as a job's. Its job, should it run meanwhile, waits for this and ends when it
   * is recorded; when `converted` is undefined (the live conversion gave up), or recording
   * fails, the job goes on as usual (converts the stored bytes, or records the outcome).
   */
  recordConverted(videoId: string, converted: Promise<ReadyMeta | undefined>): Promise<boolean> {
    const recorded = (async () => {
      const meta = await converted;
      if (!meta || this.stopped) return false;
      this.outcomes.set(videoId, { ready: meta });
      await this.recordReady(videoId, meta);
      return true;
    })().catch((error: unknown) => {
      console.error(
        `reelchat: recording the conversion of ${videoId} failed; its job records it`,
        error,
      );
      return false;
    });
    this.recording.set(videoId, recorded);
    void recorded.finally(() => {
      if (this.recording.get(videoId) === recorded) this.recording.delete(videoId);
      this.kick();
    });
    return recorded;
  }

  /** Stops the conversion of a video that is being terminated. */
  cancel(videoId: string): void {
    this.outcomes.delete(videoId);
    this.running.get(videoId)?.abort(new Error('The upload was terminated.'));
  }

  /**
   * Stops taking jobs and aborts running ones; they go back to the queue (queue.release),
   * or, where it cannot take them back, stay for the next start.
   */
  async close(): Promise<void> {
    this.stopped = true;
    this.closing.abort(new Error('Server stopping.'));
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    const interrupted = [...this.running.keys()];
    for (const controller of this.running.values()) controller.abort(new Error('Server stopping.'));
    await Promise.all([...this.settled, ...this.recording.values(), this.pumped]);
    await this.handBack(interrupted);
  }

  /** Hands jobs back to the queue at a stop; one that cannot be waits for its lease or a start. */
  private async handBack(videoIds: string[]): Promise<void> {
    if (videoIds.length === 0 || !this.options.queue.release) return;
    await this.options.queue.release(videoIds).catch((error: unknown) => {
      console.error(`reelchat: handing back ${videoIds.length} job(s) at stop failed`, error);
    });
  }

  private async pump(): Promise<void> {
    const { queue, concurrency } = this.options;
    const perOwner = this.options.perOwner ?? 1;
    const slotsFree = () =>
      this.running.size - this.waiting.size < concurrency &&
      this.running.size < concurrency * HELD_PER_SLOT;
    while (!this.stopped && slotsFree()) {
      const job = await queue.claim(Date.now(), perOwner, [...this.waiting]);
      // Closed while claiming: not run, but handed back (close() waits for this).
      if (job && this.stopped) await this.handBack([job.videoId]);
      if (!job || this.stopped) break;
      this.launch(job);
    }
    const due = await queue.nextDue(Date.now());
    if (due !== undefined) this.wakeAt(due);
  }

  /** Conversions this worker is running now (for /metrics). */
  get runningCount(): number {
    return this.running.size;
  }

  private launch(job: Job): void {
    const controller = new AbortController();
    this.running.set(job.videoId, controller);
    this.claimedAt.set(job.videoId, Date.now());
    const done: Promise<void> = this.run(job, controller.signal)
      .catch((error: unknown) => {
        // run() handles its own failures; this is the last line, never a crash.
        console.error(`reelchat: the job of ${job.videoId} failed unexpectedly`, error);
      })
      .finally(() => {
        this.running.delete(job.videoId);
        this.waiting.delete(job.videoId);
        this.claimedAt.delete(job.videoId);
        this.settled.delete(done);
        this.kick();
      });
    this.settled.add(done);
  }

  private wakeAt(at: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), Math.max(at - Date.now(), 0) + 10);
    this.timer.unref();
  }

  private async run({ videoId, attempts }: Job, signal: AbortSignal): Promise<void> {
    // Converted while uploading and being recorded: done once that is (the job is gone).
    const live = this.recording.get(videoId);
    if (live) {
      this.setWaiting(videoId, true);
      if (await live) return;
      this.setWaiting(videoId, false);
    }
    let outcome = this.outcomes.get(videoId);
    if (!outcome) {
      try {
        outcome = { ready: await this.convert(videoId, signal) };
      } catch (error) {
        if (signal.aborted) return; // shutdown (job stays queued) or termination (rows gone)
        if (isStorageUnavailable(error) || isDiskFull(error)) {
          // Waited storageWaitMs for the bucket already (the slot goes to other work), or
          // the disk is full (the converter left nothing half-written): later, and never a
          // failure of the video.
          const delay = isDiskFull(error)
            ? backoffWithJitter(attempts - 1, DISK_RETRY_BASE_MS, DISK_RETRY_CAP_MS)
            : this.outageDelay(attempts - 1);
          if (isDiskFull(error)) {
            console.error(
              `reelchat: converting ${videoId} ran out of disk space; again in ${delay} ms`,
            );
          }
          await this.requeue(videoId, Date.now() + delay, error, signal);
          return;
        }
        const failure = this.judge(videoId, attempts, error);
        if (failure === undefined) {
          const runAt = Date.now() + this.retryDelaysMs[attempts - 1]!;
          await this.requeue(videoId, runAt, error, signal);
          return;
        }
        outcome = { failed: failure };
      }
      // Claimed in the moment between the upload's completion and its live result being
      // handed over: that one is recorded, not this.
      if (await this.recording.get(videoId)) return;
      this.outcomes.set(videoId, outcome);
    }
    this.setWaiting(videoId, true);
    try {
      if ('ready' in outcome) await this.recordReady(videoId, outcome.ready, signal);
      else await this.recordFailed(videoId, outcome.failed, signal);
    } catch (error) {
      if (signal.aborted) return;
      const why = isPassingOutage(error) ? (error as Error).message : error;
      console.error(`reelchat: recording the conversion of ${videoId} failed; it runs again`, why);
      // A passing outage (the bucket, PostgreSQL restarting) is over soon: look again soon.
      const delay = isPassingOutage(error)
        ? this.outageDelay(attempts - 1)
        : delayAt(this.bookkeepingDelaysMs, attempts - 1);
      await this.requeue(videoId, Date.now() + delay, error, signal);
    }
  }

  /** A job waits (converts nothing) or not: a waiting one frees its slot for the next. */
  private setWaiting(videoId: string, waiting: boolean): void {
    if (!waiting) this.waiting.delete(videoId);
    else if (!this.waiting.has(videoId)) {
      this.waiting.add(videoId);
      this.kick();
    }
  }

  /** Converts into the media folder; resolves with what markVideoReady needs. */
  private async convert(videoId: string, signal: AbortSignal): Promise<ReadyMeta> {
    const { media, converter } = this.options;
    const input = await this.options.uploadPath(videoId);
    // A previous attempt may have left a complete folder (killed before recording it).
    // In a bucket's case only the scratch folder (clearOutput): converting needs no bucket.
    const clear = () => (media.clearOutput ? media.clearOutput(videoId) : media.remove(videoId));
    await this.whileStorageDown(videoId, 'clearing', clear, signal);
    // The checksum is read beside the conversion, so it costs no wall-clock time.
    const hashing = hashFile(input).catch(() => null);
    const result = await converter.convert(input, media.outputDir(videoId), signal);
    return { ...result, sha256: await hashing };
  }

  /** The reason a video fails for good, or undefined when it should be tried again. */
  private judge(videoId: string, attempt: number, error: unknown): string | undefined {
    const badInput = error instanceof ConvertError || isMissingUpload(error);
    if (!badInput && attempt <= this.retryDelaysMs.length) {
      console.error(
        `reelchat: converting ${videoId} failed (attempt ${attempt}), will retry`,
        error,
      );
      return undefined;
    }
    if (!badInput) console.error(`reelchat: converting ${videoId} failed for good`, error);
    return error instanceof ConvertError
      ? error.reason
      : isMissingUpload(error)
        ? 'The uploaded file is missing.'
        : 'The video could not be converted; please try again.';
  }

  private async recordReady(
    videoId: string,
    meta: ReadyMeta,
    signal = this.closing.signal,
  ): Promise<void> {
    const { store, media } = this.options;
    await this.whileStorageDown(videoId, 'publishing', () => media.publish(videoId), signal);
    const video = await store.markVideoReady(videoId, meta);
    this.outcomes.delete(videoId);
    if (video) this.told(videoId, { state: 'ready' });
    // Recorded (the job is gone): what follows is tidying, worth a log line at most.
    try {
      // Terminated while converting: its files go. (Not when another worker's result was
      // recorded first — the video is there, and its files are the ones being served.)
      if (!video && !(await store.getVideo(videoId))) await media.remove(videoId);
      await this.options.discardUpload(videoId);
    } catch (error) {
      console.error(`reelchat: tidying up after converting ${videoId} failed`, error);
    }
  }

  private async recordFailed(videoId: string, reason: string, signal: AbortSignal): Promise<void> {
    const { store, media } = this.options;
    // Bytes go first, so a client that sees `failed` never finds anything left behind.
    await this.whileStorageDown(videoId, 'removing', () => media.remove(videoId), signal);
    await this.options.discardUpload(videoId);
    const video = await store.markVideoFailed(videoId, reason);
    this.outcomes.delete(videoId);
    if (video) this.told(videoId, { state: 'failed', reason });
  }

  /**
   * `work`, tried again while the bucket is unavailable (backoff with jitter), for at most
   * `storageWaitMs`; then, or once `signal` aborts, its last error is thrown.
   */
  private async whileStorageDown<T>(
    videoId: string,
    doing: string,
    work: () => Promise<T>,
    signal: AbortSignal,
  ): Promise<T> {
    const until = Date.now() + (this.options.storageWaitMs ?? STORAGE_WAIT_MS);
    for (let tries = 0; ; tries++) {
      try {
        const done = await work();
        if (tries > 0) console.error(`reelchat: the bucket answers again (${doing} ${videoId})`);
        return done;
      } catch (error) {
        if (!isStorageUnavailable(error) || signal.aborted || Date.now() >= until) throw error;
        if (tries === 0) console.error(`reelchat: ${doing} ${videoId} waits, ${error.message}`);
        this.storageRetries++;
        const delay = backoffWithJitter(tries, STORAGE_RETRY_BASE_MS, STORAGE_RETRY_CAP_MS);
        await sleep(delay, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  private outageDelay(attempt: number): number {
    const { baseMs, capMs } = this.options.outageRetryMs ?? {
      baseMs: OUTAGE_RETRY_BASE_MS,
      capMs: OUTAGE_RETRY_CAP_MS,
    };
    return backoffWithJitter(Math.max(attempt, 0), baseMs, capMs);
  }

  private told(videoId: string, outcome: Pick<RecordedOutcome, 'state' | 'reason'>): void {
    const claimed = this.claimedAt.get(videoId);
    const path = claimed === undefined ? 'live' : 'job';
    const seconds = claimed === undefined ? undefined : (Date.now() - claimed) / 1000;
    try {
      this.options.onRecorded?.(videoId, { ...outcome, path, seconds });
    } catch (error) {
      console.error('reelchat: reporting a conversion outcome failed', error);
    }
  }

  /**
   * Puts the job back to run at `runAt`. When even that fails, keeps trying (with backoff)
   * while holding the job: its row says running, so nothing else claims it meanwhile, and
   * after a shutdown the next start requeues it.
   */
  private async requeue(
    videoId: string,
    runAt: number,
    error: unknown,
    signal: AbortSignal,
  ): Promise<void> {
    for (let failures = 0; !signal.aborted; failures++) {
      try {
        await this.options.queue.retry(videoId, Math.max(runAt, Date.now()), String(error));
        return;
      } catch (queueError) {
        // SQLITE_FULL: the queue's write waits for space as the bucket's wait for the bucket.
        const delay =
          isPassingOutage(queueError) || isDiskFull(queueError)
            ? this.outageDelay(failures)
            : delayAt(this.bookkeepingDelaysMs, failures);
        console.error(
          `reelchat: requeueing ${videoId} failed, trying again in ${delay} ms`,
          queueError,
        );
        await sleep(delay, undefined, { signal }).catch(() => undefined);
      }
    }
  }
}

/** The bucket unavailable or PostgreSQL unreachable: over in seconds, not a fault of the job. */
function isPassingOutage(error: unknown): boolean {
  return isStorageUnavailable(error) || isDatabaseUnreachable(error);
}

function delayAt(delays: number[], index: number): number {
  return delays[Math.min(Math.max(index, 0), delays.length - 1)]!;
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
