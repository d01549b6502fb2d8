// Chooses the backends from the configuration. The metadata store, job queue and event
// fan-out: SQLite in the data folder with the in-process fan-out (the embedded default), or,
// with REELCHAT_DATABASE_URL, PostgreSQL shared by every instance — PgStore, PgJobs (leased
// jobs for several workers) and PgFanout (events from the shared log). Where bytes live: the
// embedded default keeps uploads and media in the data folder; scaled mode keeps unfinished
// uploads in PostgreSQL (uploads/pg-upload-store.ts) and converted media in the bucket
// (media/s3-store.ts), so REELCHAT_DATA_DIR holds only instance-local scratch.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerConfig } from './config.js';
import { LocalFanout, type EventFanout } from './events/fanout.js';
import { PgFanout } from './events/pg-fanout.js';
import type { JobQueue } from './store/jobs.js';
import { S3MediaStore } from './media/s3-store.js';
import { LocalMediaStore, type MediaStore } from './media/store.js';
import { S3ObjectStore } from './media/s3-object-store.js';
import { LIMITS_MIGRATIONS } from './limits/pg-token-buckets.js';
import { PgDatabase } from './store/pg-database.js';
import { PgStore } from './store/postgres.js';
import { PgJobs } from './store/postgres-jobs.js';
import { LIVE_MIGRATIONS } from './store/postgres-live.js';
import { SqliteStore } from './store/sqlite.js';
import type { MetadataStore } from './store/types.js';
import { PgUploadStore, UPLOAD_MIGRATIONS } from './uploads/pg-upload-store.js';
import type { UploadsOptions } from './uploads/tus.js';

/** Every backend the configuration chose; `close` closes them all. */
export type Backends = Omit<OpenedStore, 'close'> &
  Omit<Storage, 'close'> & { close(): Promise<void> };

export async function openBackends(config: ServerConfig): Promise<Backends> {
  const { close: closeStore, ...opened } = await openStore(config);
  const { close: closeStorage, ...storage } = await openStorage(config, opened.database).catch(
    async (error: unknown) => {
      await closeStore();
      throw error;
    },
  );
  return {
    ...opened,
    ...storage,
    async close() {
      await closeStore();
      await closeStorage();
    },
  };
}

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
    return { store, queue: store.jobs, fanout, close: () => store.close() };
  }
  const database = await PgDatabase.connect(config.databaseUrl);
  try {
    // The store does not publish itself: every instance's fan-out reads the shared log, the
    // local one just sooner (publish nudges it), so each event is delivered once, in order.
    const local: { fanout?: PgFanout } = {};
    const store = await PgStore.open(database, (event) => local.fanout?.publish(event));
    const fanout = (local.fanout = await PgFanout.start(database, store));
    // Jobs of uploads a worker converts live wait while its lease holds (openStorage makes the table).
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

export interface Storage {
  media: MediaStore;
  /** The upload bytes' store for Uploads (undefined: files in the data folder). */
  uploadBytes?: UploadsOptions['datastore'];
  /** The bucket, in scaled mode with REELCHAT_S3_BUCKET. */
  objects?: S3ObjectStore;
  /** What /readyz checks besides the database. */
  ready(): Promise<string | undefined>;
  close(): Promise<void>;
}

export async function openStorage(
  config: Pick<ServerConfig, 'dataDir' | 's3'>,
  database: PgDatabase | undefined,
): Promise<Storage> {
  const mediaDir = join(config.dataDir, config.s3 ? 'media-scratch' : 'media');
  await mkdir(join(config.dataDir, 'uploads'), { recursive: true });
  await mkdir(mediaDir, { recursive: true });
  await removeTemporaryFolders(mediaDir, Boolean(config.s3));
  if (database) await database.migrate(UPLOAD_MIGRATIONS, LIVE_MIGRATIONS, LIMITS_MIGRATIONS);
  const objects = config.s3 ? new S3ObjectStore(config.s3) : undefined;
  const media = objects ? new S3MediaStore(objects, mediaDir) : new LocalMediaStore(mediaDir);
  return {
    media,
    objects,
    uploadBytes: database
      ? (settings) =>
          new PgUploadStore(database, {
            expiryMs: settings.expiryMs,
            onTerminated: settings.onTerminated,
          })
      : undefined,
    async ready() {
      if (!objects) return undefined;
      try {
        await objects.ping();
        return undefined;
      } catch (error) {
        console.error('reelchat: readiness check failed (bucket)', error);
        return 'bucket';
      }
    },
    async close() {
      objects?.close();
    },
  };
}

/**
 * Converters write into dot-folders beside the final one; a killed server leaves them. In
 * scaled mode the whole scratch folder is leftovers: published media live in the bucket.
 */
async function removeTemporaryFolders(mediaDir: string, everything: boolean): Promise<void> {
  for (const name of await readdir(mediaDir)) {
    if (everything || name.startsWith('.')) {
      await rm(join(mediaDir, name), { recursive: true, force: true });
    }
  }
}
