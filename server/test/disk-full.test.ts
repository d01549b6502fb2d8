// The data folder's disk fills up (issue 26), on a real 64 MB tmpfs (small-disk.ts), embedded
// mode (SQLite, media on disk), the server a child process. Held: uploads are refused with 507
// and Retry-After before their bytes are read; a PATCH sent without a length that meets ENOSPC
// mid-way answers 507 and its upload's offset is what reached the disk, so it resumes from
// there; messages get 201 or 503, never 500; /readyz and /metrics tell the free space; once
// space is freed every upload completes byte-identical (sha256) and every video is ready; a
// conversion that runs out of space is tried again (never failed, nothing half-published)
// and is ready soon after the space is freed; SQLite passes integrity_check; the process
// never exits.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  auth,
  createUpload,
  headUpload,
  json,
  makeClip,
  patchUpload,
  removeClips,
  SECRET,
  startChildServer,
  waitFor,
  type ChildServer,
} from './helpers.js';
import { signToken } from '../auth/tokens.js';
import { mountSmallDisk, type SmallDisk } from './small-disk.js';

const KB = 1024;
const RESERVE = 128 * KB;
const CHUNK = 32 * KB;

interface VideoBody {
  state: string;
  sha256?: string;
  reason?: string;
}

describe('the data folder’s disk full (embedded mode, a 64 MB tmpfs)', () => {
  let disk: SmallDisk;
  let server: ChildServer;
  let dataDir: string;
  let token: string;

  before(async () => {
    disk = await mountSmallDisk(64);
    dataDir = join(disk.path, 'data');
    server = await startChildServer({
      REELCHAT_DATA_DIR: dataDir,
      REELCHAT_DATABASE_URL: '',
      REELCHAT_DISK_RESERVE_BYTES: String(RESERVE),
      REELCHAT_RATE_MESSAGES_PER_MINUTE: '0',
    });
    token = await signToken(SECRET, { user: 'alice', name: 'Alice', conversations: ['c1'] });
  });
  after(async () => {
    await server?.stop();
    await disk?.remove();
    await removeClips();
  });

  const headOffset = async (id: string) =>
    Number((await headUpload(server.url, token, id)).headers.get('upload-offset'));
  const create = async (length: number) => {
    const created = await createUpload(
      server.url,
      token,
      {
        conversation: 'c1',
        clientId: `up-${Math.random().toString(36).slice(2)}`,
        filetype: 'video/mp4',
      },
      length,
    );
    assert.equal(created.status, 201, await created.text());
    return created.headers.get('location')!.split('/').pop()!;
  };
  /** PATCHes `bytes` from the server's offset up to `until`, in CHUNKs; each must be taken. */
  const sendUpTo = async (id: string, bytes: Buffer, until: number) => {
    for (let offset = await headOffset(id); offset < until;) {
      const end = Math.min(offset + CHUNK, until);
      const response = await patchUpload(
        server.url,
        token,
        id,
        offset,
        bytes.subarray(offset, end),
      );
      assert.equal(response.status, 204, await response.text());
      offset = Number(response.headers.get('upload-offset'));
    }
  };
  const video = async (id: string) =>
    json<VideoBody>(
      await fetch(`${server.url}/v1/conversations/c1/videos/${id}`, { headers: auth(token) }),
    );
  const ready = (id: string) =>
    waitFor(async () => {
      const body = await video(id);
      return body.state === 'processing' ? undefined : body;
    }, `video ${id} to settle`);
  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  const post = async (clientId: string) => {
    const response = await fetch(`${server.url}/v1/conversations/c1/messages`, {
      method: 'POST',
      headers: auth(token, { 'Content-Type': 'application/json' }),
      body: JSON.stringify({ clientId, text: clientId }),
    });
    await response.arrayBuffer();
    return response.status;
  };

  it('refuses with 507 while full, keeps what reached the disk, and completes every upload byte-identical once freed', async () => {
    const clips = await Promise.all([
      makeClip('mp4', 6, '640x480'),
      makeClip('mp4', 10, '1280x720'),
      makeClip('webm-vp8', 6, '640x480'),
    ]);
    const files = await Promise.all(clips.map((path) => readFile(path)));
    const ids: string[] = [];
    for (const bytes of files) {
      const id = await create(bytes.length);
      await sendUpTo(id, bytes, Math.floor(bytes.length / 2));
      ids.push(id);
    }
    const before = await Promise.all(ids.map(headOffset));

    // Full but for the reserve and a little: a PATCH that says its length is refused unread.
    await disk.fill(RESERVE + 32 * KB);
    const [a, b] = ids as [string, string];
    const refused = await patchUpload(
      server.url,
      token,
      a,
      before[0]!,
      files[0]!.subarray(before[0]!, before[0]! + CHUNK * 8),
    );
    assert.equal(refused.status, 507);
    assert.equal(refused.headers.get('retry-after'), '30');
    const body = await json<{ error: { code: string; storage: string } }>(refused);
    assert.equal(body.error.code, 'quota-exceeded');
    assert.equal(body.error.storage, 'full');
    assert.equal(await headOffset(a), before[0]);

    // A PATCH without a length is admitted while the reserve is free, then meets ENOSPC.
    const rest = files[1]!.subarray(before[1]!);
    assert.ok(rest.length > RESERVE + 32 * KB, 'the rest is more than the disk holds');
    const streamed = await fetch(`${server.url}/v1/uploads/${b}`, {
      method: 'PATCH',
      headers: auth(token, {
        'Tus-Resumable': '1.0.0',
        'Upload-Offset': String(before[1]),
        'Content-Type': 'application/offset+octet-stream',
      }),
      body: new ReadableStream({
        start(controller) {
          for (let at = 0; at < rest.length; at += 16 * KB) {
            controller.enqueue(new Uint8Array(rest.subarray(at, at + 16 * KB)));
          }
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(streamed.status, 507, await streamed.text());
    // Its offset is what is really on disk, and those bytes are the clip's.
    const kept = await headOffset(b);
    assert.ok(kept >= before[1]! && kept < files[1]!.length);
    const onDisk = await readFile(join(dataDir, 'uploads', b));
    assert.equal(onDisk.length, kept);
    assert.ok(onDisk.equals(files[1]!.subarray(0, kept)));

    // A new upload is refused too; messages are taken or refused with 503, never 500.
    const creation = await createUpload(
      server.url,
      token,
      { conversation: 'c1', clientId: 'while-full', filetype: 'video/mp4' },
      1000,
    );
    assert.equal(creation.status, 507);
    const statuses = [];
    for (let i = 0; i < 20; i++) statuses.push(await post(`full-${i}`));
    assert.ok(
      statuses.every((s) => s === 201 || s === 503),
      `messages while full: ${statuses.join(' ')}`,
    );

    const readyz = await fetch(`${server.url}/readyz`);
    const readiness = await json<{
      degraded?: string[];
      disk?: { full: boolean; freeBytes: number };
    }>(readyz);
    assert.equal(readyz.status, 200, 'reads still work: not a reason to stop routing here');
    assert.deepEqual(readiness.degraded, ['disk']);
    assert.equal(readiness.disk?.full, true);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const free = Number(/^reelchat_disk_free_bytes (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(free < RESERVE, `reelchat_disk_free_bytes ${free}`);
    assert.match(metrics, new RegExp(`^reelchat_disk_reserve_bytes ${RESERVE}$`, 'm'));

    // Space freed: everything resumes from the server's offsets and completes.
    await disk.freeUp();
    const freedAt = Date.now();
    await Promise.all(ids.map((id, i) => sendUpTo(id, files[i]!, files[i]!.length)));
    assert.ok(Date.now() - freedAt < 5_000, 'uploads resumed within 5 s of the space freed');
    for (const [i, id] of ids.entries()) {
      const settled = await ready(id);
      assert.equal(settled.state, 'ready', settled.reason);
      assert.equal(settled.sha256, sha256(files[i]!));
    }
    for (let i = 0; i < statuses.length; i++) {
      if (statuses[i] === 503) assert.equal(await post(`full-${i}`), 201);
    }
    const listed = await json<{ messages: { clientId: string }[] }>(
      await fetch(`${server.url}/v1/conversations/c1/messages?limit=200`, { headers: auth(token) }),
    );
    const full = listed.messages.map((m) => m.clientId).filter((c) => c.startsWith('full-'));
    assert.deepEqual(full.toSorted(), statuses.map((_s, i) => `full-${i}`).toSorted());
    assert.deepEqual(
      (await json<{ degraded?: string[] }>(await fetch(`${server.url}/readyz`))).degraded,
      undefined,
    );
    assert.ok(server.running(), server.output());
  });

  it('tries a conversion that ran out of space again, never fails it or publishes half of it', async () => {
    await disk.freeUp();
    const bytes = await readFile(await makeClip('mp4', 10, '1280x720'));
    // Room for the upload above the reserve, not for its converted copy as well.
    await disk.fill(RESERVE + bytes.length + 48 * KB);
    const id = await create(bytes.length);
    await sendUpTo(id, bytes, bytes.length);
    await waitFor(
      // Ids are nanoids: `-` and `_` too (\w alone missed 2 in 5, and the test waited for ever).
      () => (/converting [\w-]+ ran out of disk space/.test(server.output()) ? true : undefined),
      'a conversion to run out of space',
    ).catch(async (error: Error) => {
      const state = JSON.stringify(await video(id));
      throw new Error(
        `${error.message}: ${state}; the server said:\n${server
          .output()
          .split('\n')
          .filter((l) => l.startsWith('reelchat') && !l.includes('the disk is full'))
          .slice(-30)
          .join('\n')}`,
      );
    });
    assert.equal((await video(id)).state, 'processing');
    assert.equal(existsSync(join(dataDir, 'media', id)), false, 'nothing half-written published');

    await disk.freeUp();
    const freedAt = Date.now();
    const settled = await ready(id);
    const readyMs = Date.now() - freedAt;
    console.log(`# ready ${readyMs} ms after the space was freed`);
    assert.equal(settled.state, 'ready', settled.reason);
    assert.equal(settled.sha256, sha256(bytes));
    // Tried again within 4 s of the space freed (not after minutes), plus the conversion.
    assert.ok(readyMs < 20_000, `ready ${readyMs} ms after the space was freed`);
    assert.ok((await stat(join(dataDir, 'media', id, 'index.m3u8'))).size > 0);

    const db = new Database(join(dataDir, 'reelchat.db'), { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      db.close();
    }
    assert.ok(server.running(), server.output());
  });
});
