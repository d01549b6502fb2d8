// reelchat's Uploads with its bytes in PostgreSQL (PgUploadStore through the `datastore`
// option): real @tus/server, real SQLite for our rows, real PostgreSQL for the bytes. A
// recording in small PATCHes reaches the live conversion hook, `localInput` keeps a local
// copy up to date, `discard` removes the rows and the copy; and what a PATCH costs in
// PostgreSQL statements.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Identity } from '../auth/tokens.js';
import { Cors } from '../http/cors.js';
import { HttpError } from '../http/errors.js';
import { newId } from '../ids.js';
import { LocalMediaStore } from '../media/store.js';
import { PgDatabase, type Sql } from '../store/pg-database.js';
import { SqliteStore } from '../store/sqlite.js';
import { createTestDatabase, type TestDatabase } from '../test/pg-test-database.js';
import { PgUploadStore, UPLOAD_MIGRATIONS } from './pg-upload-store.js';
import { Uploads, UPLOADS_PATH } from './tus.js';

const conversation = newId();
const identity: Identity = {
  user: 'ann',
  name: 'Ann',
  conversations: [conversation],
  exp: Math.floor(Date.now() / 1000) + 3600,
};

let database: TestDatabase;
let db: PgDatabase;
let dir: string;
let store: SqliteStore;
let uploads: Uploads;
let http: HttpServer;
let url: string;
const statements = { count: 0 };
const written: string[] = [];
const queued: string[] = [];

before(async () => {
  database = await createTestDatabase('reelchat_pg_uploads_wiring');
  db = await PgDatabase.connect(database.url, { max: 4 });
  await db.migrate(UPLOAD_MIGRATIONS);
  const counted: Sql = {
    query: (text, values) => {
      statements.count++;
      return db.query(text, values);
    },
  };
  dir = await mkdtemp(join(tmpdir(), 'reelchat-pg-uploads-wiring-'));
  store = new SqliteStore(join(dir, 'reelchat.db'), () => undefined);
  uploads = new Uploads({
    directory: join(dir, 'scratch'),
    datastore: (settings) =>
      new PgUploadStore(counted, {
        expiryMs: settings.expiryMs,
        onTerminated: settings.onTerminated,
      }),
    maxUploadBytes: 100 * 1024 * 1024,
    expiryS: 3600,
    quota: {
      unfinishedUploads: 0,
      unfinishedBytes: 0,
      storedBytes: 0,
      uploadsPerHour: 0,
      uploadsBurst: 0,
    },
    store,
    media: new LocalMediaStore(join(dir, 'media')),
    cors: new Cors([]),
    onQueued: (id) => void queued.push(id),
    onTerminating: () => undefined,
    onWritten: (id) => void written.push(id),
    touchMember: async () => undefined,
  });
  http = createServer((req, res) => {
    const id = req.url!.slice(UPLOADS_PATH.length + 1);
    const handled =
      req.method === 'POST'
        ? uploads.create(req, res, identity)
        : uploads.resume(req, res, identity, id);
    handled.catch((error: unknown) => {
      res.statusCode = error instanceof HttpError ? error.status : 500;
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

after(async () => {
  http?.closeAllConnections();
  if (http) await new Promise((resolve) => http.close(resolve));
  store?.close();
  await db?.close();
  await database?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const b64 = (value: string) => Buffer.from(value).toString('base64');

async function createRecording(): Promise<{ location: string; id: string }> {
  const created = await fetch(url + UPLOADS_PATH, {
    method: 'POST',
    headers: {
      'Tus-Resumable': '1.0.0',
      'Upload-Defer-Length': '1',
      'Upload-Metadata': [
        `conversation ${b64(conversation)}`,
        `clientId ${b64(newId())}`,
        `filetype ${b64('video/webm')}`,
      ].join(','),
    },
  });
  assert.equal(created.status, 201, await created.text());
  const location = created.headers.get('location')!;
  return { location, id: location.slice(UPLOADS_PATH.length + 1) };
}

test('a recording through Uploads with its bytes in PostgreSQL', async () => {
  const { location, id } = await createRecording();
  const sent: Buffer[] = [];
  let offset = 0;
  let patchStatements = 0;
  for (let i = 0; i < 10; i++) {
    const body = randomBytes(30_000 + i * 17_000);
    const before = statements.count;
    const res = await fetch(url + location, {
      method: 'PATCH',
      headers: {
        'Tus-Resumable': '1.0.0',
        'Upload-Offset': String(offset),
        'Content-Type': 'application/offset+octet-stream',
      },
      body,
    });
    assert.equal(res.status, 204, await res.text());
    patchStatements += statements.count - before;
    offset += body.length;
    sent.push(body);
    const path = await uploads.localInput(id);
    assert.equal(path, uploads.path(id));
    assert.equal((await stat(path)).size, offset);
  }
  // The quota's read, tus's read, and the piece with its offset: 3 statements.
  assert.equal(patchStatements / 10, 3);
  console.log(`# PostgreSQL statements per small PATCH through Uploads: ${patchStatements / 10}`);
  assert.deepEqual(written, Array(10).fill(id));
  const end = await fetch(url + location, {
    method: 'PATCH',
    headers: {
      'Tus-Resumable': '1.0.0',
      'Upload-Offset': String(offset),
      'Upload-Length': String(offset),
      'Content-Type': 'application/offset+octet-stream',
    },
  });
  assert.equal(end.status, 204, await end.text());
  assert.deepEqual(queued, [id]);
  assert.equal(written.length, 10, 'the completing PATCH is not a live write');
  const path = await uploads.localInput(id);
  assert.equal(sha256(await readFile(path)), sha256(Buffer.concat(sent)));

  await uploads.discard(id);
  await uploads.discard(id);
  const rows = await db.query('SELECT id FROM tus_uploads WHERE id = $1', [id]);
  assert.equal(rows.length, 0);
  await assert.rejects(stat(path), { code: 'ENOENT' });
});

test('DELETE of an unfinished upload removes its rows, our row and the local copy', async () => {
  const { location, id } = await createRecording();
  const res = await fetch(url + location, {
    method: 'PATCH',
    headers: {
      'Tus-Resumable': '1.0.0',
      'Upload-Offset': '0',
      'Content-Type': 'application/offset+octet-stream',
    },
    body: randomBytes(40_000),
  });
  assert.equal(res.status, 204);
  const path = await uploads.localInput(id);
  assert.equal((await stat(path)).size, 40_000);
  const deleted = await fetch(url + location, {
    method: 'DELETE',
    headers: { 'Tus-Resumable': '1.0.0' },
  });
  assert.equal(deleted.status, 204);
  assert.equal(await store.getUpload(id), undefined);
  assert.equal((await db.query('SELECT id FROM tus_uploads WHERE id = $1', [id])).length, 0);
  await assert.rejects(stat(path), { code: 'ENOENT' });
});
