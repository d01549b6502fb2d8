// PgUploadStore under real @tus/server on two loopback HTTP servers ("instances" A and B)
// sharing one real PostgreSQL database (server/test/pg-test-database.ts), each with its own connection
// pool. PostgreSQL unreachable: every test here fails.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, request, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Server, Upload } from '@tus/server';
import { PgDatabase, type Sql } from '../store/pg-database.js';
import { createTestDatabase, type TestDatabase } from '../test/pg-test-database.js';
import {
  PgUploadStore,
  PIECE_BYTES,
  UPLOAD_MIGRATIONS,
  UPLOAD_WRITTEN_CHANNEL,
} from './pg-upload-store.js';

const PATH = '/files';
const EXPIRY_MS = 60_000;

interface Instance {
  url: string;
  db: PgDatabase;
  store: PgUploadStore;
  /** Statements this instance's store sent to PostgreSQL. */
  statements: { count: number };
  finished: string[];
  terminated: string[];
  http: HttpServer;
}

let database: TestDatabase;
let admin: PgDatabase;
let a: Instance;
let b: Instance;
let scratch: string;

async function startInstance(url: string): Promise<Instance> {
  const db = await PgDatabase.connect(url, { max: 4 });
  const statements = { count: 0 };
  const counted: Sql = {
    query: (text, values) => {
      statements.count++;
      return db.query(text, values);
    },
  };
  const finished: string[] = [];
  const terminated: string[] = [];
  const store = new PgUploadStore(counted, {
    expiryMs: EXPIRY_MS,
    onTerminated: async (id) => void terminated.push(id),
  });
  const tus = new Server({
    path: PATH,
    datastore: store,
    relativeLocation: true,
    onUploadFinish: async (_req, upload) => {
      finished.push(upload.id);
      return {};
    },
  });
  const http = createServer((req, res) => void tus.handle(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, db, store, statements, finished, terminated, http };
}

async function stopInstance(instance: Instance | undefined): Promise<void> {
  if (!instance) return;
  instance.http.closeAllConnections();
  await new Promise((resolve) => instance.http.close(resolve));
  await instance.db.close();
}

function tus(
  instance: Instance,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<Response> {
  return fetch(instance.url + path, {
    method,
    headers: { 'Tus-Resumable': '1.0.0', ...headers },
    body,
  });
}

async function createUpload(instance: Instance, size?: number): Promise<string> {
  const res = await tus(
    instance,
    'POST',
    PATH,
    size === undefined ? { 'Upload-Defer-Length': '1' } : { 'Upload-Length': String(size) },
  );
  assert.equal(res.status, 201, await res.text());
  const location = res.headers.get('location') ?? '';
  assert.ok(location.startsWith(`${PATH}/`), location);
  return location;
}

function patch(
  instance: Instance,
  location: string,
  offset: number,
  body: Buffer,
  extra: Record<string, string> = {},
): Promise<Response> {
  return tus(
    instance,
    'PATCH',
    location,
    {
      'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream',
      ...extra,
    },
    body,
  );
}

async function headOffset(instance: Instance, location: string): Promise<number> {
  const res = await tus(instance, 'HEAD', location);
  assert.equal(res.status, 200);
  return Number(res.headers.get('upload-offset'));
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const idOf = (location: string) => location.slice(PATH.length + 1);

async function rowCounts(id: string): Promise<{ uploads: number; chunks: number }> {
  const [row] = await admin.query<{ uploads: number; chunks: number }>(
    `SELECT (SELECT count(*)::int FROM tus_uploads WHERE id = $1) AS uploads,
            (SELECT count(*)::int FROM tus_upload_chunks WHERE upload_id = $1) AS chunks`,
    [id],
  );
  return row!;
}

before(async () => {
  database = await createTestDatabase('reelchat_pg_uploads');
  const url = new URL(database.url);
  admin = await PgDatabase.connect(url.href, { max: 2 });
  // Both instances migrate at once, as instances that start together would.
  await Promise.all([
    admin.migrate(UPLOAD_MIGRATIONS),
    PgDatabase.connect(url.href, { max: 1 }).then(async (other) => {
      await other.migrate(UPLOAD_MIGRATIONS);
      await other.close();
    }),
  ]);
  a = await startInstance(url.href);
  b = await startInstance(url.href);
  scratch = await mkdtemp(join(tmpdir(), 'reelchat-pg-uploads-'));
});

after(async () => {
  await stopInstance(a);
  await stopInstance(b);
  await admin?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
  await database?.drop();
});

describe('PgUploadStore across two tus instances', () => {
  test('created on A, continued on B, HEAD on A sees it, finished on A', async () => {
    const data = randomBytes(PIECE_BYTES * 2 + 12_345);
    const location = await createUpload(a, data.length);
    const half = 1_500_000;
    const first = await patch(b, location, 0, data.subarray(0, half));
    assert.equal(first.status, 204);
    assert.equal(first.headers.get('upload-offset'), String(half));
    assert.equal(await headOffset(a, location), half);
    const head = await tus(a, 'HEAD', location);
    assert.equal(head.headers.get('upload-length'), String(data.length));
    const last = await patch(a, location, half, data.subarray(half));
    assert.equal(last.status, 204);
    assert.equal(last.headers.get('upload-offset'), String(data.length));
    const id = idOf(location);
    assert.deepEqual(a.finished.includes(id), true);
    assert.equal(b.finished.includes(id), false);
    // Pieces of at most 1 MiB: 1.5 MB became two rows, the rest two more.
    const pieces = await admin.query<{ length: number }>(
      'SELECT octet_length(data) AS length FROM tus_upload_chunks WHERE upload_id = $1 ORDER BY start',
      [id],
    );
    assert.ok(pieces.every((piece) => piece.length <= PIECE_BYTES));
    assert.equal(
      pieces.reduce((sum, piece) => sum + piece.length, 0),
      data.length,
    );
    const local = join(scratch, id);
    const copy = await a.store.copyToLocal(id, local);
    assert.deepEqual(copy, { bytes: data.length, copied: data.length, complete: true });
    assert.equal(sha256(await readFile(local)), sha256(data));
    const again = await b.store.copyToLocal(id, local);
    assert.deepEqual(again, { bytes: data.length, copied: 0, complete: true });
  });

  test('a deferred upload in 30 small PATCHes alternating A and B, copied as it grows', async () => {
    const location = await createUpload(a);
    const id = idOf(location);
    const heard: string[] = [];
    const stopListening = await a.db.listen(UPLOAD_WRITTEN_CHANNEL, (payload) =>
      heard.push(payload),
    );
    const local = join(scratch, `${id}-live`);
    const sent: Buffer[] = [];
    let offset = 0;
    let patchStatements = 0;
    for (let i = 0; i < 30; i++) {
      const body = randomBytes(20_000 + ((i * 37_919) % 280_000));
      const instance = i % 2 === 0 ? a : b;
      const counted = a.statements.count + b.statements.count;
      const res = await patch(instance, location, offset, body);
      patchStatements += a.statements.count + b.statements.count - counted;
      assert.equal(res.status, 204, `PATCH ${i}`);
      offset += body.length;
      sent.push(body);
      assert.equal(res.headers.get('upload-offset'), String(offset));
      // Every other PATCH the worker syncs: only the new bytes are copied.
      if (i % 2 === 1) {
        const copy = await b.store.copyToLocal(id, local);
        assert.equal(copy.bytes, offset);
        assert.equal(copy.complete, false);
        assert.equal(copy.copied, sent[i - 1]!.length + body.length);
      }
    }
    const statementsPerPatch = patchStatements / 30;
    // tus reads the upload (1) and the piece is stored with its offset and NOTIFY (1).
    assert.equal(statementsPerPatch, 2);
    console.log(`# statements per small PATCH: ${statementsPerPatch}`);

    const head = await tus(b, 'HEAD', location);
    assert.equal(head.headers.get('upload-defer-length'), '1');
    assert.equal(head.headers.get('upload-offset'), String(offset));
    const end = await patch(a, location, offset, Buffer.alloc(0), {
      'Upload-Length': String(offset),
    });
    assert.equal(end.status, 204);
    assert.ok(a.finished.includes(id));
    const copy = await a.store.copyToLocal(id, local);
    assert.deepEqual(copy, { bytes: offset, copied: 0, complete: true });
    const whole = Buffer.concat(sent);
    assert.equal(sha256(await readFile(local)), sha256(whole));
    // A fresh copy in one go is the same.
    const fresh = join(scratch, `${id}-fresh`);
    await a.store.copyToLocal(id, fresh);
    assert.equal(sha256(await readFile(fresh)), sha256(whole));
    await waitFor(() => heard.filter((payload) => payload === id).length >= 30);
    await stopListening();
  });

  test('a PATCH cut mid-body keeps what arrived; the client resumes from HEAD', async () => {
    const data = randomBytes(PIECE_BYTES * 3);
    const location = await createUpload(b, data.length);
    const id = idOf(location);
    const sentBeforeCut = Math.floor(PIECE_BYTES * 1.6);
    await cutPatch(b, location, data, sentBeforeCut);
    // B stores what it read once it notices the cut; the offset then stays put.
    const offset = await waitForStableOffset(a, location);
    // All of it arrived on loopback before the cut: the first 1 MiB piece and the rest.
    assert.equal(offset, sentBeforeCut);
    const rest = await patch(a, location, offset, data.subarray(offset));
    assert.equal(rest.status, 204);
    assert.equal(rest.headers.get('upload-offset'), String(data.length));
    const local = join(scratch, id);
    const copy = await b.store.copyToLocal(id, local);
    assert.equal(copy.complete, true);
    assert.equal(sha256(await readFile(local)), sha256(data));
  });

  test('an instance killed (SIGKILL) mid-PATCH loses only its uncommitted piece', async () => {
    const victim = await spawnInstance(database.url);
    try {
      const data = randomBytes(PIECE_BYTES * 4);
      const location = await createUpload(a, data.length);
      const id = idOf(location);
      const req = request(victim.url + location, {
        method: 'PATCH',
        headers: {
          'Tus-Resumable': '1.0.0',
          'Upload-Offset': '0',
          'Content-Type': 'application/offset+octet-stream',
          'Content-Length': String(data.length),
        },
      });
      req.on('error', () => undefined);
      const sent = Math.floor(PIECE_BYTES * 2.5);
      req.write(data.subarray(0, sent));
      // Two whole pieces are committed; the half piece is only in the victim's memory.
      await waitFor(async () => (await headOffset(a, location)) === 2 * PIECE_BYTES);
      victim.child.kill('SIGKILL');
      await once(victim.child, 'exit');
      req.destroy();
      assert.equal(await headOffset(b, location), 2 * PIECE_BYTES);
      const rest = await patch(b, location, 2 * PIECE_BYTES, data.subarray(2 * PIECE_BYTES));
      assert.equal(rest.status, 204);
      const local = join(scratch, id);
      assert.equal((await a.store.copyToLocal(id, local)).complete, true);
      assert.equal(sha256(await readFile(local)), sha256(data));
    } finally {
      victim.child.kill('SIGKILL');
    }
  });

  test('two PATCHes at the same offset on A and B: exactly one wins', async () => {
    const location = await createUpload(a);
    const id = idOf(location);
    const start = randomBytes(50_000);
    assert.equal((await patch(b, location, 0, start)).status, 204);
    for (let round = 0; round < 5; round++) {
      const offset = await headOffset(a, location);
      const [one, two] = [randomBytes(400_000), randomBytes(400_000)];
      const results = await Promise.all([
        patch(a, location, offset, one),
        patch(b, location, offset, two),
      ]);
      const statuses = results.map((res) => res.status).sort();
      assert.deepEqual(statuses, [204, 409], `round ${round}`);
      const winner = results[0]!.status === 204 ? one : two;
      assert.equal(await headOffset(b, location), offset + winner.length);
      const [stored] = await admin.query<{ data: Buffer }>(
        'SELECT data FROM tus_upload_chunks WHERE upload_id = $1 AND start = $2',
        [id, offset],
      );
      assert.equal(sha256(stored!.data), sha256(winner));
    }
  });

  test('DELETE (termination) on B removes the rows; discard is idempotent', async () => {
    const location = await createUpload(a, 900_000);
    const id = idOf(location);
    assert.equal((await patch(a, location, 0, randomBytes(300_000))).status, 204);
    assert.deepEqual(await rowCounts(id), { uploads: 1, chunks: 1 });
    const res = await tus(b, 'DELETE', location);
    assert.equal(res.status, 204);
    assert.deepEqual(await rowCounts(id), { uploads: 0, chunks: 0 });
    assert.deepEqual(b.terminated, [id]);
    assert.equal((await tus(a, 'HEAD', location)).status, 404);
    assert.equal((await patch(a, location, 300_000, randomBytes(10))).status, 404);
    await a.store.discard(id);
    await b.store.discard(id);
    await assert.rejects(a.store.copyToLocal(id, join(scratch, 'gone')), { status_code: 404 });
  });

  test('expiry: an unfinished upload past it answers 410 and deleteExpired removes its rows', async () => {
    const old = new Date(Date.now() - EXPIRY_MS - 5_000).toISOString();
    const expired = new Upload({
      id: `old-${randomBytes(4).toString('hex')}`,
      offset: 0,
      size: 1000,
      creation_date: old,
    });
    const oldComplete = new Upload({
      id: `done-${randomBytes(4).toString('hex')}`,
      offset: 0,
      size: 10,
      creation_date: old,
    });
    const fresh = new Upload({ id: `new-${randomBytes(4).toString('hex')}`, offset: 0 });
    for (const upload of [expired, oldComplete, fresh]) await a.store.create(upload);
    assert.equal(await a.store.write(Readable.from([randomBytes(100)]), expired.id, 0), 100);
    assert.equal(await a.store.write(Readable.from([randomBytes(10)]), oldComplete.id, 0), 10);
    assert.equal(await a.store.write(Readable.from([randomBytes(10)]), fresh.id, 0), 10);
    assert.equal((await tus(b, 'HEAD', `${PATH}/${expired.id}`)).status, 410);
    assert.equal((await patch(b, `${PATH}/${expired.id}`, 100, randomBytes(5))).status, 410);
    const removed = await b.store.deleteExpired();
    assert.ok(removed >= 1);
    assert.deepEqual(await rowCounts(expired.id), { uploads: 0, chunks: 0 });
    // Complete uploads wait for their conversion; fresh ones are not due.
    assert.deepEqual(await rowCounts(oldComplete.id), { uploads: 1, chunks: 1 });
    assert.deepEqual(await rowCounts(fresh.id), { uploads: 1, chunks: 1 });
  });

  test('the store refuses a write at a stale offset or past the declared length', async () => {
    const upload = new Upload({ id: `w-${randomBytes(4).toString('hex')}`, offset: 0 });
    await b.store.create(upload);
    assert.equal(await b.store.write(Readable.from([randomBytes(10)]), upload.id, 0), 10);
    await assert.rejects(b.store.write(Readable.from([randomBytes(10)]), upload.id, 0), {
      status_code: 409,
    });
    await assert.rejects(b.store.declareUploadLength(upload.id, 5), { status_code: 400 });
    await b.store.declareUploadLength(upload.id, 15);
    await assert.rejects(b.store.write(Readable.from([randomBytes(10)]), upload.id, 10), {
      status_code: 413,
    });
    assert.equal((await b.store.getUpload(upload.id)).offset, 10);
    const local = join(scratch, upload.id);
    await b.store.copyToLocal(upload.id, local);
    assert.equal((await stat(local)).size, 10);
  });
});

/** Sends the headers and the first `sent` bytes of a PATCH with the whole body, then cuts. */
async function cutPatch(
  instance: Instance,
  location: string,
  data: Buffer,
  sent: number,
): Promise<void> {
  const req = request(instance.url + location, {
    method: 'PATCH',
    headers: {
      'Tus-Resumable': '1.0.0',
      'Upload-Offset': '0',
      'Content-Type': 'application/offset+octet-stream',
      'Content-Length': String(data.length),
    },
  });
  req.on('error', () => undefined);
  await new Promise<void>((resolve) => req.write(data.subarray(0, sent), () => resolve()));
  await new Promise((resolve) => setTimeout(resolve, 300));
  req.destroy();
}

async function waitForStableOffset(instance: Instance, location: string): Promise<number> {
  let last = -1;
  for (let i = 0; i < 50; i++) {
    const offset = await headOffset(instance, location);
    if (offset > 0 && offset === last) return offset;
    last = offset;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`The offset did not settle (last ${last})`);
}

/** A tus instance in a child process (server/test/pg-upload-instance.fixture.ts), to be killed. */
async function spawnInstance(url: string): Promise<{ url: string; child: ChildProcess }> {
  const fixture = fileURLToPath(new URL('../test/pg-upload-instance.fixture.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await Promise.race([
    once(child.stdout!, 'data'),
    once(child, 'exit').then(() => {
      throw new Error('The tus instance exited before listening');
    }),
  ])) as [Buffer];
  return { url: `http://127.0.0.1:${Number(String(line).trim())}`, child };
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('Timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
