// Erasure (issue 15): `reelchat-server erase-user <id>` (npm run server -- erase-user <id>)
// on the data of a stopped server removes everything of that person — messages, videos,
// media, upload remains, watched marks, memberships and the events about them — reports
// what it removed, and leaves the others' data as it was. Proven by reading every row of
// every table, the database files' raw bytes, and the media and upload folders.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { HeldConverter } from './held-converter.js';
import {
  auth,
  createUpload,
  json,
  patchUpload,
  startServer,
  uploadBytes,
  waitFor,
  type TestServer,
} from './helpers.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Distinctive, so a match anywhere can only be theirs. */
const ERIN = 'erin-Q7zX3k';
const ERIN_NAME = 'Erin Vq4Lm';
const ERIN_TEXT = 'erins-words-8Jd2Kp';

describe('erase-user', () => {
  let dataDir: string;
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('removes everything of one person and nothing of anyone else’s', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'reelchat-erase-'));
    let server: TestServer = await startServer({}, { converter: new HeldConverter(), dataDir });
    const erin = await server.token(ERIN, ['c1', 'c2'], ERIN_NAME);
    const bob = await server.token('bob', ['c1'], 'Bob');
    const post = async (token: string, body: Record<string, string>, conversation = 'c1') => {
      const response = await fetch(`${server.url}/v1/conversations/${conversation}/messages`, {
        method: 'POST',
        headers: auth(token, { 'Content-Type': 'application/json' }),
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 201);
      return json<{ id: string }>(response);
    };
    const ready = (token: string, id: string) =>
      waitFor(async () => {
        const response = await fetch(`${server.url}/v1/conversations/c1/videos/${id}`, {
          headers: auth(token),
        });
        return (await json<{ state: string }>(response)).state === 'ready' ? true : undefined;
      }, 'ready');
    const watch = (token: string, id: string) =>
      fetch(`${server.url}/v1/conversations/c1/videos/${id}/watched`, {
        method: 'PUT',
        headers: auth(token),
      });
    const clip = async (token: string, clientId: string) => {
      const id = await uploadBytes(server.url, token, new Uint8Array(700).fill(3), {
        conversation: 'c1',
        clientId,
        filetype: 'video/webm',
      });
      await ready(token, id);
      return id;
    };

    // Erin: texts in two conversations, a sent clip, an unsent one, a clip never sent, an
    // unfinished upload; she watches Bob's clip and Bob watches hers.
    await post(erin, { clientId: 'e1', text: `${ERIN_TEXT} one` });
    await post(erin, { clientId: 'e2', text: `${ERIN_TEXT} two` }, 'c2');
    const erinClip = await clip(erin, 'e-clip');
    await post(erin, { clientId: 'e-clip-msg', video: erinClip });
    const erinUnsent = await clip(erin, 'e-unsent');
    const unsent = await post(erin, { clientId: 'e-unsent-msg', video: erinUnsent });
    await fetch(`${server.url}/v1/conversations/c1/messages/${unsent.id}`, {
      method: 'DELETE',
      headers: auth(erin),
    });
    const erinDraft = await clip(erin, 'e-draft');
    const partial = await createUpload(
      server.url,
      erin,
      { conversation: 'c1', clientId: 'e-partial', filetype: 'video/webm' },
      5000,
    );
    const erinPartial = partial.headers.get('location')!.split('/').pop()!;
    await patchUpload(server.url, erin, erinPartial, 0, new Uint8Array(1000).fill(9));
    const bobText = await post(bob, { clientId: 'b1', text: 'bob stays' });
    const bobClip = await clip(bob, 'b-clip');
    await post(bob, { clientId: 'b-clip-msg', video: bobClip });
    assert.equal((await watch(erin, bobClip)).status, 204);
    assert.equal((await watch(bob, erinClip)).status, 204);
    const erinIds = [erinClip, erinUnsent, erinDraft, erinPartial];
    assert.equal(existsSync(join(dataDir, 'media', erinClip)), true);
    assert.equal(existsSync(join(dataDir, 'uploads', erinPartial)), true);
    await server.close();

    // The command, as an operator runs it: only the data folder configured, no keys.
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'server/main.ts'), 'erase-user', ERIN],
      { cwd: ROOT, env: { PATH: process.env.PATH, REELCHAT_DATA_DIR: dataDir } },
    );
    const counts = Object.fromEntries(
      [...stdout.matchAll(/^ {2}([a-z ]+):\s+(\d+)$/gm)].map((m) => [m[1]!.trim(), Number(m[2])]),
    );
    assert.match(stdout, new RegExp(`erased user ${ERIN}`));
    assert.deepEqual(counts, {
      messages: 4,
      videos: 3, // the unsent clip's rows went with the unsend already
      uploads: 3,
      'watched marks': 2,
      events: counts.events,
      memberships: 2,
      'media folders': 2,
      'upload files': 2, // the unfinished upload's bytes and its info file
    });
    assert.ok(counts.events! > 0);

    // Not a row of any table names her, her words, or her clips.
    const db = new Database(join(dataDir, 'reelchat.db'), { readonly: true });
    const tables = (
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]
    ).map((t) => t.name);
    const everything = JSON.stringify(
      tables.map((name) => db.prepare(`SELECT * FROM "${name}"`).all()),
      (_key, value: unknown) => (Buffer.isBuffer(value) ? value.toString('latin1') : value),
    );
    db.close();
    for (const trace of [ERIN, ERIN_NAME, ERIN_TEXT, ...erinIds])
      assert.equal(everything.includes(trace), false, `a row still holds ${trace}`);
    // Nor the file's free pages or its write-ahead log.
    for (const name of await readdir(dataDir)) {
      if (!name.startsWith('reelchat.db')) continue;
      const raw = await readFile(join(dataDir, name));
      for (const trace of [ERIN, ERIN_NAME, ERIN_TEXT, ...erinIds])
        assert.equal(raw.includes(trace), false, `${name} still holds ${trace}`);
    }
    // Nor the media or upload folders.
    const files = [
      ...(await readdir(join(dataDir, 'media'))),
      ...(await readdir(join(dataDir, 'uploads'))),
    ];
    for (const id of erinIds)
      assert.equal(
        files.some((name) => name.includes(id)),
        false,
        `a file of ${id} is left`,
      );

    // Bob's things are as they were, and the server starts on the erased data.
    assert.equal(existsSync(join(dataDir, 'media', bobClip)), true);
    server = await startServer({}, { converter: new HeldConverter(), dataDir });
    try {
      const bobNow = await server.token('bob', ['c1'], 'Bob');
      const page = await json<{ messages: { id: string; author: string }[] }>(
        await fetch(`${server.url}/v1/conversations/c1/messages`, { headers: auth(bobNow) }),
      );
      assert.deepEqual(
        page.messages.map((m) => m.author),
        ['bob', 'bob'],
      );
      assert.equal(page.messages[0]!.id, bobText.id);
      const video = await json<{ state: string; watchedBy: string[] }>(
        await fetch(`${server.url}/v1/conversations/c1/videos/${bobClip}`, {
          headers: auth(bobNow),
        }),
      );
      assert.deepEqual([video.state, video.watchedBy], ['ready', []]);
    } finally {
      await server.close();
    }
  });

  it('refuses a bad id or a missing database with a plain message', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'reelchat-erase-empty-'));
    try {
      for (const args of [['erase-user', 'bad/id'], ['erase-user', 'someone'], ['erase-user']]) {
        const failed = await run(
          process.execPath,
          ['--import', 'tsx', join(ROOT, 'server/main.ts'), ...args],
          { cwd: ROOT, env: { PATH: process.env.PATH, REELCHAT_DATA_DIR: empty } },
        ).then(
          () => undefined,
          (error: { code: number; stderr: string }) => error,
        );
        assert.equal(failed?.code, 1, args.join(' '));
        assert.match(
          failed.stderr,
          /^reelchat: (".*" is not a user id|No reelchat database|Usage)/m,
        );
      }
      assert.deepEqual(await readdir(empty), [], 'nothing created');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
