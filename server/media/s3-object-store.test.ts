// S3ObjectStore against a real OpenStack Swift (S3 API) started by scripts/services.mjs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { S3ObjectStore } from './s3-object-store.js';
import { s3ForTests, type S3TestService } from '../test/s3-test-services.js';

// Keys under a prefix of their own: the bucket may be shared with other test files.
const run = `store-test-${randomBytes(4).toString('hex')}`;

describe('S3ObjectStore on Swift', () => {
  let services: S3TestService;
  let store: S3ObjectStore;

  before(async () => {
    services = await s3ForTests();
    store = new S3ObjectStore({
      bucket: services.env.REELCHAT_TEST_S3_BUCKET,
      endpoint: services.env.REELCHAT_S3_ENDPOINT,
      region: services.env.REELCHAT_S3_REGION,
      forcePathStyle: true,
      listPageSize: 3,
    });
  });

  after(async () => {
    store?.close();
    await services?.stop();
  });

  it('puts a buffer and gets it back whole, by range and by head', async () => {
    const bytes = randomBytes(10_000);
    await store.put(`${run}/t1/blob.bin`, bytes, { contentType: 'video/mp4' });

    const whole = await store.get(`${run}/t1/blob.bin`);
    assert.ok(whole);
    assert.equal(whole.size, bytes.length);
    assert.equal(whole.contentType, 'video/mp4');
    assert.equal(whole.range, undefined);
    assert.deepEqual(await buffer(whole.body), bytes);

    const part = await store.get(`${run}/t1/blob.bin`, { start: 100, end: 199 });
    assert.ok(part);
    assert.equal(part.size, bytes.length);
    assert.deepEqual(part.range, { start: 100, end: 199 });
    assert.deepEqual(await buffer(part.body), bytes.subarray(100, 200));

    assert.deepEqual(await store.head(`${run}/t1/blob.bin`), {
      size: bytes.length,
      contentType: 'video/mp4',
    });
  });

  it('streams a body of a known length without a Buffer (opened again for each attempt)', async () => {
    const chunks = Array.from({ length: 20 }, () => randomBytes(64 * 1024));
    const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const before = store.stats.bytesWritten;
    await store.put(`${run}/t2/stream.bin`, () => Readable.from(chunks), {
      contentType: 'application/octet-stream',
      contentLength: total,
    });
    assert.equal(store.stats.bytesWritten - before, total);
    const got = await store.get(`${run}/t2/stream.bin`);
    assert.deepEqual(await buffer(got!.body), Buffer.concat(chunks));
    await assert.rejects(
      store.put(`${run}/t2/unknown.bin`, () => Readable.from(chunks), { contentType: 'video/mp4' }),
      /needs contentLength/,
    );
  });

  it('answers undefined for what does not exist', async () => {
    assert.equal(await store.get(`${run}/t3/missing`), undefined);
    assert.equal(await store.get(`${run}/t3/missing`, { start: 0, end: 9 }), undefined);
    assert.equal(await store.head(`${run}/t3/missing`), undefined);
    assert.deepEqual(await store.list(`${run}/t3/`), []);
  });

  it('lists a prefix across pages, in key order, and only that prefix', async () => {
    const keys = Array.from({ length: 8 }, (_, i) => `${run}/t4/list/k${i}`);
    await Promise.all(
      keys.map((key, i) => store.put(key, Buffer.alloc(i + 1, 1), { contentType: 'text/plain' })),
    );
    await store.put(`${run}/t4/listing-not`, Buffer.from('x'), { contentType: 'text/plain' });
    const pagesBefore = store.stats.requests.ListObjectsV2Command ?? 0;
    const listed = await store.list(`${run}/t4/list/`);
    assert.deepEqual(
      listed,
      keys.map((key, i) => ({ key, size: i + 1 })),
    );
    // 8 keys at 3 a page.
    assert.equal((store.stats.requests.ListObjectsV2Command ?? 0) - pagesBefore, 3);
  });

  it('deletes a prefix across pages (DeleteObjects with Content-MD5) and nothing else', async () => {
    const keys = Array.from({ length: 7 }, (_, i) => `${run}/t5/gone/${i}`);
    await Promise.all(keys.map((key) => store.put(key, Buffer.from(key), { contentType: 'x/y' })));
    await store.put(`${run}/t5/kept`, Buffer.from('kept'), { contentType: 'x/y' });
    assert.equal(await store.deletePrefix(`${run}/t5/gone/`), keys.length);
    assert.deepEqual(await store.list(`${run}/t5/`), [{ key: `${run}/t5/kept`, size: 4 }]);
    assert.equal(await store.get(`${run}/t5/gone/0`), undefined);
    assert.equal(await store.deletePrefix(`${run}/t5/gone/`), 0);
  });

  it('pings the bucket, and fails to ping one that does not exist', async () => {
    await store.ping();
    const other = new S3ObjectStore({
      bucket: `missing-${randomBytes(4).toString('hex')}`,
      endpoint: services.env.REELCHAT_S3_ENDPOINT,
      forcePathStyle: true,
    });
    try {
      await assert.rejects(other.ping());
      await other.ensureBucket();
      await other.ping();
      await other.ensureBucket(); // already there: no error
    } finally {
      other.close();
    }
  });

  it('counts requests by command and the bytes it wrote', async () => {
    const counted = new S3ObjectStore({
      bucket: services.env.REELCHAT_TEST_S3_BUCKET,
      endpoint: services.env.REELCHAT_S3_ENDPOINT,
      forcePathStyle: true,
    });
    try {
      await counted.put(`${run}/t6/a`, Buffer.alloc(1000), { contentType: 'x/y' });
      await counted.put(`${run}/t6/b`, Buffer.alloc(24), { contentType: 'x/y' });
      await buffer((await counted.get(`${run}/t6/a`, { start: 0, end: 9 }))!.body);
      await counted.head(`${run}/t6/b`);
      await counted.deletePrefix(`${run}/t6/`);
      assert.deepEqual(counted.stats, {
        requests: {
          PutObjectCommand: 2,
          GetObjectCommand: 1,
          HeadObjectCommand: 1,
          ListObjectsV2Command: 1,
          DeleteObjectsCommand: 1,
        },
        bytesWritten: 1024,
        putRetries: 0,
        unavailable: 0,
      });
    } finally {
      counted.close();
    }
  });
});
