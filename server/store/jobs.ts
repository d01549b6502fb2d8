// The durable conversion queue. Jobs are created by MetadataStore.completeUpload in the
// same transaction as the upload's completion, so a completed upload always has a job;
// a worker claims them from here. Each backend has its own: SqliteJobs and PgJobs.

export interface Job {
  videoId: string;
  /** Attempts started so far, including this one. */
  attempts: number;
}

export interface JobQueue {
  /**
   * Called once at start: jobs left running by a stopped or killed server become due
   * again, and every video still processing whose upload is complete gets a job.
   */
  recover(): Promise<void>;
  /**
   * Takes the next due job (marking it running and counting the attempt), if any, fairly
   * across owners: only of an owner with fewer than `perOwner` jobs running, and of those
   * owners the one whose last job started longest ago (or never), its oldest due job.
   * `waiting`: the caller's running jobs that convert nothing now (they wait for the bucket,
   * or for a conversion done while uploading) — not counted in their owners' share.
   */
  claim(now: number, perOwner: number, waiting?: readonly string[]): Promise<Job | undefined>;
  /** Puts a job back to run again at `runAt` (ms since epoch). */
  retry(videoId: string, runAt: number, error: string): Promise<void>;
  /**
   * When the next queued job becomes due after `now` (ms since epoch), if any. Jobs due
   * already but not claimed wait for a running job to end, which looks again anyway.
   */
  nextDue(now: number): Promise<number | undefined>;
  /**
   * Queues shared by several worker processes (PgJobs) lease each claimed job: the worker
   * renews the leases of the jobs it runs every `heartbeatMs`, so a job whose worker died
   * is claimed again once its lease lapses. A queue of one process (SqliteJobs) has none.
   */
  heartbeat?(videoIds: string[]): Promise<void>;
  readonly heartbeatMs?: number;
  /**
   * Hands back jobs this worker was running when it stopped gracefully: queued and due now,
   * the interrupted attempt not counted, so another worker (or the next start) runs them at
   * once rather than after their lease lapses. Jobs another worker took over stay theirs.
   */
  release?(videoIds: string[]): Promise<void>;
  /** Jobs waiting to run, across every worker (for /metrics). */
  queuedCount?(): Promise<number>;
}
