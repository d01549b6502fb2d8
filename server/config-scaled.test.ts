import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readConfig } from './config.js';

const SECRET = 'a-secret-that-is-at-least-32-characters-long';
const PG = 'postgres://reelchat@db.internal:5432/reelchat';

describe('readConfig: scaled mode', () => {
  it('defaults to one process that does everything, with no request log', () => {
    const config = readConfig({ REELCHAT_JWT_SECRET: SECRET });
    assert.equal(config.role, 'all');
    assert.equal(config.s3, undefined);
    assert.equal(config.log, 'off');
  });

  it('reads the role, the bucket and turns the JSON log on with PostgreSQL', () => {
    const config = readConfig({
      REELCHAT_JWT_SECRET: SECRET,
      REELCHAT_DATABASE_URL: PG,
      REELCHAT_ROLE: 'worker',
      REELCHAT_S3_BUCKET: 'reelchat-media',
      REELCHAT_S3_ENDPOINT: 'http://127.0.0.1:9000',
      REELCHAT_S3_FORCE_PATH_STYLE: '1',
    });
    assert.equal(config.role, 'worker');
    assert.deepEqual(config.s3, {
      bucket: 'reelchat-media',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      forcePathStyle: true,
    });
    assert.equal(config.log, 'json');
  });

  it('refuses roles and buckets that cannot work, naming the variable', () => {
    const base = { REELCHAT_JWT_SECRET: SECRET };
    assert.throws(
      () => readConfig({ ...base, REELCHAT_ROLE: 'api' }),
      /needs REELCHAT_DATABASE_URL/,
    );
    assert.throws(
      () => readConfig({ ...base, REELCHAT_DATABASE_URL: PG, REELCHAT_ROLE: 'both' }),
      /REELCHAT_ROLE must be all, api or worker/,
    );
    assert.throws(
      () => readConfig({ ...base, REELCHAT_S3_BUCKET: 'media' }),
      /needs REELCHAT_DATABASE_URL/,
    );
    assert.throws(
      () =>
        readConfig({ ...base, REELCHAT_DATABASE_URL: PG, REELCHAT_S3_BUCKET: 'No_Such Bucket' }),
      /not a bucket name/,
    );
    assert.throws(
      () =>
        readConfig({
          ...base,
          REELCHAT_DATABASE_URL: PG,
          REELCHAT_S3_BUCKET: 'media',
          REELCHAT_S3_ENDPOINT: 'ftp://x',
        }),
      /REELCHAT_S3_ENDPOINT/,
    );
    assert.throws(
      () => readConfig({ ...base, REELCHAT_LOG: 'loud' }),
      /REELCHAT_LOG must be json or off/,
    );
  });
});
