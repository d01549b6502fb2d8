// S3MediaStore against a real OpenStack Swift (S3 API) started by scripts/services.mjs, with
// a folder the real converter (ffmpeg) made.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { Converter } from '../convert/converter.js';
import { sendBody, contentTypeFor } from '../http/files.js';
import { newId } from '../ids.js';
import { S3ObjectStore } from './s3-object-store.js';
import { makeClip, removeClips } from '../test/helpers.js';
import { S3MediaStore } from './s3-store.js';
import { s3ForTests, type S3TestService } from '../test/s3-test-services.js';

/** The real store, noting the order in which uploads begin. */
class RecordingStore extends S3ObjectStore {
  readonly puts: string[] = [];
  override put(...args: Parameters<S3ObjectStore['put']>): Promise<void> {
    this.puts.push(args[0]);
    return super.put(...args);
  }
}

describe('S3MediaStore on Swift', () => {
  let services: S3TestService;
  let objects: RecordingStore;
  let media: S3MediaStore;
  let scratch: string;
  let server: Server;
  let url: string;

  before(async () => {
    services = await s3ForTests();
    objects = new RecordingStore({
      bucket: services.env.REELCHAT_TEST_S3_BUCKET,
      endpoint: services.env.REELCHAT_S3_ENDPOINT,
      forcePathStyle: true,
    });
    scratch = await mkdtemp(join(tmpdir(), 'reelchat-s3-media-'));
    media = new S3MediaStore(objects, scratch);
    // Serves /<video>/<file> the way routes.ts does, to check Range end to end.
    server = createServer((req, res) => {
      const [, video, name] = (req.url ?? '').split('/');
      media.file(video!, name!).then(async (file) => {
        if (!file) return void res.writeHead(404).end();
        await sendBody(req, res, file, contentTypeFor(name!));
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server?.close();
    objects?.close();
    await services?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
    await removeClips();
  });

  /** Converts a real clip into the store's scratch folder; returns its files' bytes. */
  async function converted(videoId: string): Promise<Map<string, Buffer>> {
    const converter = new Converter({
      ffmpegPath: 'ffmpeg',
      ffprobePath: 'ffprobe',
      concurrency: 1,
      maxDurationS: 60,
    });
    await converter.convert(await makeClip('mp4', 3), media.outputDir(videoId));
    const dir = media.outputDir(videoId);
    const files = new Map<string, Buffer>();
    for (const name of await readdir(dir)) files.set(name, await readFile(join(dir, name)));
    return files;
  }

  it('publishes a converted folder to media/<id>/ and removes it locally', async () => {
    const videoId = newId();
    const files = await converted(videoId);
    assert.ok(files.has('index.m3u8') && files.has('init.mp4') && files.has('seg0.m4s'));
    assert.ok(files.has('poster.jpg'));

    objects.puts.length = 0;
    await media.publish(videoId);
    assert.equal(existsSync(media.outputDir(videoId)), false);
    // Everything the playlist names is there before it: the poster, then the playlist, last.
    assert.equal(objects.puts.length, files.size);
    assert.deepEqual(objects.puts.slice(-2), [
      `media/${videoId}/poster.jpg`,
      `media/${videoId}/index.m3u8`,
    ]);
    const listed = await objects.list(`media/${videoId}/`);
    assert.deepEqual(
      listed.map((o) => o.key),
      [...files.keys()].sort().map((name) => `media/${videoId}/${name}`),
    );
    for (const [name, bytes] of files) {
      const file = await media.file(videoId, name);
      assert.ok(file, name);
      assert.equal(file.size, bytes.length);
      assert.deepEqual(await buffer(file.open()), bytes, name);
    }
    // Published already (a retried job): nothing to do, no error.
    await media.publish(videoId);

    // Through HTTP: whole, a range, a suffix range, and one past the end.
    const segment = files.get('seg0.m4s')!;
    const whole = await fetch(`${url}/${videoId}/seg0.m4s`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-type'), 'video/mp4');
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), segment);
    const part = await fetch(`${url}/${videoId}/seg0.m4s`, { headers: { range: 'bytes=10-99' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 10-99/${segment.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), segment.subarray(10, 100));
    const suffix = await fetch(`${url}/${videoId}/seg0.m4s`, { headers: { range: 'bytes=-16' } });
    assert.equal(suffix.status, 206);
    assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), segment.subarray(-16));
    const past = await fetch(`${url}/${videoId}/seg0.m4s`, {
      headers: { range: `bytes=${segment.length}-` },
    });
    assert.equal(past.status, 416);
    await past.arrayBuffer();

    await media.remove(videoId);
    assert.deepEqual(await objects.list(`media/${videoId}/`), []);
    for (const name of files.keys()) assert.equal(await media.file(videoId, name), undefined);
    const gone = await fetch(`${url}/${videoId}/seg0.m4s`);
    assert.equal(gone.status, 404);
    await gone.arrayBuffer();
  });

  it('publishes one file early, keeping the scratch folder', async () => {
    const videoId = newId();
    const files = await converted(videoId);
    await media.publishFile(videoId, 'poster.jpg');
    assert.ok(existsSync(join(media.outputDir(videoId), 'poster.jpg')));
    const poster = await media.file(videoId, 'poster.jpg');
    assert.deepEqual(await buffer(poster!.open()), files.get('poster.jpg'));
    assert.equal(await media.file(videoId, 'index.m3u8'), undefined);
    await assert.rejects(media.publishFile(videoId, '../secret'), /Not a media file/);
    // remove() clears the bucket and the scratch folder alike.
    await media.remove(videoId);
    assert.equal(existsSync(media.outputDir(videoId)), false);
    assert.equal(await media.file(videoId, 'poster.jpg'), undefined);
  });

  it('serves only media file names and refuses to publish what was never converted', async () => {
    assert.equal(await media.file(newId(), 'index.m3u8'), undefined);
    assert.equal(await media.file('../x', 'index.m3u8'), undefined);
    assert.equal(await media.file(newId(), 'notes.txt'), undefined);
    await assert.rejects(media.publish(newId()), /Nothing to publish/);
  });
});
