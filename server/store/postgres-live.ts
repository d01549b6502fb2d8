// Which worker converts an upload while it arrives (scaled mode). Every worker hears of new
// bytes (NOTIFY from the upload store); the first to take the lease converts live, renews it
// with each piece it reads, and gives it back when done. While the lease holds, the video's
// job is not claimed (postgres-jobs.ts), so the stored bytes are not converted a second
// time; once it lapses (the worker was killed, or gave up) the job runs as for any upload.
import type { MigrationSet, PgDatabase } from './pg-database.js';

export const LIVE_MIGRATIONS: MigrationSet = {
  name: 'live',
  steps: [
    `CREATE TABLE live_leases (
       video_id text PRIMARY KEY,
       worker text NOT NULL,
       until_ms bigint NOT NULL)`,
  ],
};

export class PgLiveLeases {
  constructor(
    private readonly db: PgDatabase,
    /** Names this process in the lease. */
    private readonly worker: string,
  ) {}

  /** Takes the lease for `ms` unless another worker holds one that has not lapsed. */
  async take(videoId: string, ms: number): Promise<boolean> {
    const now = Date.now();
    const rows = await this.db.query(
      `INSERT INTO live_leases (video_id, worker, until_ms) VALUES ($1, $2, $3)
       ON CONFLICT (video_id) DO UPDATE SET worker = excluded.worker, until_ms = excluded.until_ms
       WHERE live_leases.until_ms <= $4 OR live_leases.worker = excluded.worker
       RETURNING video_id`,
      [videoId, this.worker, now + ms, now],
    );
    return rows.length === 1;
  }

  /** Extends a lease this worker holds; false when it lost it. */
  async renew(videoId: string, ms: number): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE live_leases SET until_ms = $3 WHERE video_id = $1 AND worker = $2 RETURNING video_id`,
      [videoId, this.worker, Date.now() + ms],
    );
    return rows.length === 1;
  }

  async release(videoId: string): Promise<void> {
    await this.db.query('DELETE FROM live_leases WHERE video_id = $1 AND worker = $2', [
      videoId,
      this.worker,
    ]);
  }
}
