// Chooses the metadata store, job queue and event fan-out from the configuration: SQLite in
// the data folder with the in-process fan-out (the embedded default), or, with
// REELCHAT_DATABASE_URL, PostgreSQL shared by every instance — PgStore, PgJobs (leased jobs
// for several workers) and PgFanout (events from the shared log).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerConfig } from '../config.js';
import { LocalFanout, type EventFanout } from '../events/fanout.js';
import { PgFanout } from '../events/pg-fanout.js';
import type { JobQueue } from '../jobs/queue.js';
import { PgDatabase } from './pg-database.js';
import { PgStore } from './postgres.js';
import { PgJobs } from './postgres-jobs.js';
import { SqliteStore } from './sqlite.js';
import type { MetadataStore } from './types.js';

export interface OpenedStore {
  store: MetadataStore;
  queue: JobQueue;
  fanout: EventFanout;
  /** PostgreSQL, when in scaled mode (for /readyz and friends). */
  database?: PgDatabase;
  /** Stops the fan-out and closes the database. */
  close(): Promise<void>;
}

export async function openStore(
  config: Pick<ServerConfig, 'dataDir' | 'dbBusyWaitMs' | 'databaseUrl' | 'jobLeaseS'>,
): Promise<OpenedStore> {
  if (config.databaseUrl === undefined) {
    // A first start: the data folder may not exist yet.
    await mkdir(config.dataDir, { recursive: true });
    const fanout = new LocalFanout();
    const store = new SqliteStore(
      join(config.dataDir, 'reelchat.db'),
      (event) => fanout.publish(event),
      { busyWaitMs: config.dbBusyWaitMs },
    );
    return { store, queue: store, fanout, close: () => store.close() };
  }
  const database = await PgDatabase.connect(config.databaseUrl);
  try {
    // The store does not publish itself: every instance's fan-out reads the shared log, the
    // local one just sooner (publish nudges it), so each event is delivered once, in order.
    const local: { fanout?: PgFanout } = {};
    const store = await PgStore.open(database, (event) => local.fanout?.publish(event));
    const fanout = (local.fanout = await PgFanout.start(database, store));
    // Jobs of uploads a worker converts live wait while its lease holds (storage.ts makes the table).
    const queue = new PgJobs(database, { leaseMs: config.jobLeaseS * 1000, liveLeases: true });
    return {
      store,
      queue,
      fanout,
      database,
      async close() {
        await fanout.close();
        await store.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
