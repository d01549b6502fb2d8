// Where bytes live, chosen from the configuration like the store (store/open.ts): the
// embedded default keeps uploads and media in the data folder; scaled mode keeps unfinished
// uploads in PostgreSQL (uploads/pg-upload-store.ts) and converted media in the bucket
// (media/s3-store.ts), so REELCHAT_DATA_DIR holds only instance-local scratch.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerConfig } from './config.js';
import { S3MediaStore } from './media/s3-store.js';
import { LocalMediaStore, type MediaStore } from './media/store.js';
import { S3ObjectStore } from './objects/s3-object-store.js';
import type { PgDatabase } from './store/pg-database.js';
import { LIMITS_MIGRATIONS } from './limits/pg-token-buckets.js';
import { LIVE_MIGRATIONS } from './store/postgres-live.js';
import { PgUploadStore, UPLOAD_MIGRATIONS } from './uploads/pg-upload-store.js';
import type { UploadsOptions } from './uploads/tus.js';

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
