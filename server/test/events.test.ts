// Server-sent events: live delivery, membership, and a client that drops and reconnects
// with Last-Event-ID getting every event exactly once — also while new events arrive
// during its replay.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auth, json, SseReader, startServer, type TestServer } from './helpers.js';

describe('events', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;

  before(async () => {
    // The replay tests post more messages than a person could: no message rate limit here.
    server = await startServer({ REELCHAT_RATE_MESSAGES_PER_MINUTE: '0' });
    alice = await server.token('alice', ['c1', 'c2'], 'Alice');
    bob = await server.token('bob', ['c2'], 'Bob');
  });
  after(() => server.close());

  const send = async (token: string, conversation: string, clientId: string, text: string) => {
    const response = await fetch(`${server.url}/v1/conversations/${conversation}/messages`, {
      method: 'POST',
      headers: auth(token, { 'Content-Type': 'application/json' }),
      body: JSON.stringify({ clientId, text }),
    });
    assert.equal(response.status, 201);
    return json<{ id: string }>(response);
  };
  const texts = (reader: SseReader) =>
    reader.events.map(
      (event) => (JSON.parse(event.data) as { message: { text: string } }).message.text,
    );

  it('streams the events of the caller’s conversations', async () => {
    const response = await fetch(`${server.url}/v1/events`, { headers: auth(alice) });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /^text\/event-stream/);
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /^retry: 2000\n\n/);
    await reader.cancel();

    const all = await new SseReader().open(`${server.url}/v1/events`, auth(alice));
    const onlyC2 = await new SseReader().open(
      `${server.url}/v1/events?conversation=c2&access_token=${bob}`,
      {},
    );
    assert.equal(onlyC2.status, 200);
    const message = await send(alice, 'c1', 'live-1', 'to c1');
    await send(bob, 'c2', 'live-2', 'to c2');
    await all.waitForCount(2);
    await onlyC2.waitForCount(1);
    assert.deepEqual(texts(all), ['to c1', 'to c2']);
    assert.deepEqual(texts(onlyC2), ['to c2']);
    const [event] = all.events;
    assert.equal(event!.event, 'message.created');
    const data = JSON.parse(event!.data) as { type: string; id: string; message: { id: string } };
    assert.equal(data.type, 'message.created');
    assert.equal(data.id, event!.id);
    assert.equal(data.message.id, message.id);
    await all.close();
    await onlyC2.close();
  });

  it('refuses a conversation outside the token', async () => {
    const response = await fetch(`${server.url}/v1/events?conversation=c1`, { headers: auth(bob) });
    assert.equal(response.status, 403);
    const bad = await fetch(`${server.url}/v1/events`, {
      headers: auth(bob, { 'Last-Event-ID': 'abc' }),
    });
    assert.equal(bad.status, 400);
  });

  it('replays what a reconnecting client missed, exactly once, in order', async () => {
    const first = await new SseReader().open(
      `${server.url}/v1/events?conversation=c1`,
      auth(alice),
    );
    await send(alice, 'c1', 'r-0', 'r0');
    const [seen] = await first.waitForCount(1);
    await first.close();

    // Missed while away: more than one replay batch, and other conversations' events between.
    const missed = 1100;
    for (let i = 1; i <= missed; i++) {
      await send(alice, i % 10 === 0 ? 'c2' : 'c1', `r-${i}`, `r${i}`);
    }
    const expectedMissed = Array.from({ length: missed }, (_, i) => i + 1)
      .filter((i) => i % 10 !== 0)
      .map((i) => `r${i}`);

    // Reconnect while new events keep arriving during the replay.
    const second = new SseReader();
    const opening = second.open(
      `${server.url}/v1/events?conversation=c1`,
      auth(alice, { 'Last-Event-ID': seen!.id! }),
    );
    const during = Array.from({ length: 20 }, (_, i) => send(alice, 'c1', `d-${i}`, `d${i}`));
    await opening;
    await Promise.all(during);
    const total = expectedMissed.length + during.length;
    await second.waitForCount(total);
    await send(alice, 'c1', 'after', 'after');
    await second.waitForCount(total + 1);
    await second.close();

    const got = texts(second);
    assert.equal(got.length, total + 1);
    assert.equal(new Set(got).size, got.length, 'no duplicates');
    assert.deepEqual(got.slice(0, expectedMissed.length), expectedMissed);
    assert.deepEqual(
      got.slice(expectedMissed.length, total).sort(),
      during.map((_, i) => `d${i}`).sort(),
    );
    assert.equal(got.at(-1), 'after');
    const ids = second.events.map((event) => Number(event.id));
    assert.ok(
      ids.every((id, i) => i === 0 || id > ids[i - 1]!),
      'ids ascend',
    );
    assert.ok(ids[0]! > Number(seen!.id));

    // The same replay by query parameters (EventSource cannot set headers).
    const third = await new SseReader().open(
      `${server.url}/v1/events?conversation=c1&lastEventId=${seen!.id}&access_token=${alice}`,
      {},
    );
    await third.waitForCount(total + 1);
    assert.deepEqual(texts(third), got);
    await third.close();
  });
});
