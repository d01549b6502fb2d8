// Retention (issue 15): with REELCHAT_RETENTION_DAYS set, a periodic sweep removes messages
// older than that, their clips (rows, media, signed links), clips never sent, and old log
// events; each removed message is announced with message.deleted, so open dialogs drop it.
// The test makes data old by moving its times back in the database.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HeldConverter } from './held-converter.js';
import {
  auth,
  json,
  openTestDatabase,
  SseReader,
  startServer,
  uploadBytes,
  waitFor,
  type TestServer,
} from './helpers.js';

describe('retention: REELCHAT_RETENTION_DAYS', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;

  before(async () => {
    server = await startServer(
      { REELCHAT_RETENTION_DAYS: '30', REELCHAT_RETENTION_SWEEP_S: '1' },
      { converter: new HeldConverter() },
    );
    alice = await server.token('alice', ['c1'], 'Alice');
    bob = await server.token('bob', ['c1'], 'Bob');
  });
  after(() => server.close());

  const post = async (token: string, body: Record<string, string>) => {
    const response = await fetch(`${server.url}/v1/conversations/c1/messages`, {
      method: 'POST',
      headers: auth(token, { 'Content-Type': 'application/json' }),
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 201);
    return json<{ id: string }>(response);
  };
  const getVideo = (token: string, id: string) =>
    fetch(`${server.url}/v1/conversations/c1/videos/${id}`, { headers: auth(token) });
  const clip = async (clientId: string) => {
    const id = await uploadBytes(server.url, alice, new Uint8Array(600).fill(5), {
      conversation: 'c1',
      clientId,
      filetype: 'video/webm',
    });
    return waitFor(async () => {
      const video = await json<{ state: string; playlist?: string }>(await getVideo(alice, id));
      return video.state === 'ready' ? { id, playlist: video.playlist! } : undefined;
    }, 'ready');
  };

  it('removes what is older than the period, tells open dialogs, keeps the rest', async () => {
    const oldText = await post(alice, { clientId: 'r-old-text', text: 'old news' });
    const oldClip = await clip('r-old-clip');
    const oldClipMessage = await post(alice, { clientId: 'r-old-clip-msg', video: oldClip.id });
    const draft = await clip('r-draft');
    const recent = await post(bob, { clientId: 'r-recent', text: 'still here' });
    const recentClip = await clip('r-recent-clip');
    await post(alice, { clientId: 'r-recent-clip-msg', video: recentClip.id });
    const live = await new SseReader().open(`${server.url}/v1/events?conversation=c1`, auth(bob));
    assert.equal(live.status, 200);

    // Forty days pass for the old ones.
    const longAgo = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const db = await openTestDatabase(server.dataDir);
    await db.query(
      'UPDATE messages SET created_at = ? WHERE id IN (?, ?)',
      longAgo,
      oldText.id,
      oldClipMessage.id,
    );
    await db.query(
      'UPDATE videos SET created_at = ? WHERE id IN (?, ?)',
      longAgo,
      oldClip.id,
      draft.id,
    );
    await db.close();

    const deleted = await waitFor(
      () => {
        const ids = live.events
          .filter((event) => event.event === 'message.deleted')
          .map((event) => (JSON.parse(event.data) as { message: { id: string } }).message.id);
        return ids.length >= 2 ? ids : undefined;
      },
      'message.deleted of the old messages',
      30_000,
    );
    assert.deepEqual(deleted.sort(), [oldText.id, oldClipMessage.id].sort());

    const page = await json<{ messages: { id: string }[] }>(
      await fetch(`${server.url}/v1/conversations/c1/messages`, { headers: auth(bob) }),
    );
    const ids = page.messages.map((m) => m.id);
    assert.equal(ids.includes(oldText.id), false);
    assert.equal(ids.includes(oldClipMessage.id), false);
    assert.equal(ids.includes(recent.id), true);
    for (const gone of [oldClip, draft]) {
      assert.equal((await getVideo(alice, gone.id)).status, 404);
      assert.equal((await fetch(server.url + gone.playlist)).status, 404, 'signed link');
      await waitFor(
        () => (existsSync(join(server.dataDir, 'media', gone.id)) ? undefined : true),
        'media folder removed',
        10_000,
      );
    }
    assert.equal((await getVideo(bob, recentClip.id)).status, 200);
    assert.equal((await fetch(server.url + recentClip.playlist)).status, 200);
    await live.close();
  });
});
