// <reel-chat>'s state without a DOM: a ChatSession driven by a transport alone (the memory
// transport, or a stub whose answers the test hands out one by one). Nothing here renders.
import { expect } from '@open-wc/testing';
import { nanoid } from 'nanoid';
import { MemoryTransport } from '../transport/memory-transport.js';
import { ChatSession } from './chat-session.js';
import {
  CONVERSATION,
  StubTransport,
  created,
  ids,
  message,
  recordingHost,
  until,
  scratchOutbox,
} from './chat-session.fixtures.js';

describe('ChatSession (no DOM)', () => {
  it('subscribes before the first page and applies events that came meanwhile after it, each once', async () => {
    const transport = new StubTransport();
    const { host, seen } = recordingHost();
    let answerFirstPage!: () => void;
    const firstPage = new Promise<void>((resolve) => (answerFirstPage = resolve));
    transport.pages.push(() => ({ items: [message(1), message(2)], next: null }));
    const listMessages = transport.listMessages.bind(transport);
    transport.listMessages = async (conversation, options) => {
      await firstPage;
      return listMessages(conversation, options);
    };
    const session = new ChatSession(
      { transport, conversation: CONVERSATION, me: 'alice', outbox: scratchOutbox() },
      host,
      20,
    );
    session.start();
    expect(session.loading).to.equal('initial');
    // Arrives while the page loads: one already in the page, one newer.
    transport.listener!(created(message(2)));
    transport.listener!(created(message(3)));
    expect(ids(session)).to.deep.equal([]);
    answerFirstPage();
    await until(() => seen.loaded === 1, 'the first page');
    expect(transport.subscribedBeforeList).to.equal(true);
    expect(transport.calls[0].options).to.deep.equal({ limit: 20 });
    expect(ids(session)).to.deep.equal(['m0001', 'm0002', 'm0003']);
    expect(session.loading).to.equal('idle');
    expect(session.hasOlder).to.equal(false);
    // The queued ones are not live: not announced.
    expect(seen.announced).to.deep.equal([]);

    transport.listener!(created(message(4)));
    transport.listener!(created(message(4)));
    expect(ids(session)).to.deep.equal(['m0001', 'm0002', 'm0003', 'm0004']);
    expect(seen.announced).to.deep.equal(['m0004']);
    expect(seen.appended.at(-1)).to.deep.equal({ ids: ['m0004'], live: true });
  });

  it('pages back with the `before` cursor until the beginning', async () => {
    const transport = new StubTransport();
    const { host, seen } = recordingHost();
    transport.pages.push(
      () => ({ items: [message(5), message(6)], next: 'm0005' }),
      (options) => {
        expect(options).to.deep.equal({ before: 'm0005', limit: 2 });
        return { items: [message(3), message(4)], next: 'm0003' };
      },
      () => ({ items: [message(2)], next: null }),
    );
    const session = new ChatSession(
      { transport, conversation: CONVERSATION, me: 'alice', outbox: scratchOutbox() },
      host,
      2,
    );
    session.start();
    await until(() => seen.loaded === 1, 'the first page');
    expect(session.hasOlder).to.equal(true);
    let applied = 0;
    expect(await session.loadOlder(() => applied++)).to.equal(true);
    expect(applied).to.equal(1);
    expect(await session.loadOlder()).to.equal(true);
    expect(ids(session)).to.deep.equal(['m0002', 'm0003', 'm0004', 'm0005', 'm0006']);
    expect(session.hasOlder).to.equal(false);
    // Nothing more to load: no request.
    const calls = transport.calls.length;
    expect(await session.loadOlder()).to.equal(false);
    expect(transport.calls.length).to.equal(calls);
  });

  it('catches up page by page after each `online`, and sends what failed offline again with its clientId', async () => {
    const transport = new StubTransport();
    const { host, seen } = recordingHost();
    transport.pages.push(() => ({ items: [message(1)], next: null }));
    const session = new ChatSession(
      { transport, conversation: CONVERSATION, me: 'alice', outbox: scratchOutbox() },
      host,
    );
    session.start();
    await until(() => seen.loaded === 1, 'the first page');

    transport.listener!({ type: 'connection', state: 'offline' });
    expect(session.connection).to.equal('offline');
    transport.failSends = 1;
    const draft = session.draft('  sent while offline  ', 4000)!;
    expect(draft.text).to.equal('sent while offline');
    await session.send(draft, 'Alice');
    const [local] = session.timeline.entries().filter((entry) => entry.status !== 'sent');
    expect(local.status).to.equal('failed');
    expect(local.retryable).to.equal(true);
    expect(seen.errors.map((e) => [e.error.code, e.visible])).to.deep.equal([['network', false]]);

    transport.pages.push(
      (options) => {
        expect(options).to.deep.equal({ after: 'm0001', limit: 100 });
        return { items: [message(2), message(3)], next: 'm0003' };
      },
      (options) => {
        expect(options).to.deep.equal({ after: 'm0003', limit: 100 });
        return { items: [message(3), message(4)], next: null };
      },
    );
    transport.listener!({ type: 'connection', state: 'online' });
    expect(session.connection).to.equal('online');
    await until(() => ids(session).includes('m0900'), 'the retried message');
    await session.catchUp();
    // Each once, in the order they arrived (the retried message came back first).
    expect([...ids(session)].sort()).to.deep.equal(['m0001', 'm0002', 'm0003', 'm0004', 'm0900']);
    const sends = transport.calls.filter((call) => call.method === 'sendMessage');
    expect(sends.map((call) => call.draft!.clientId)).to.deep.equal([
      draft.clientId,
      draft.clientId,
    ]);
  });

  it('shows a failed first page as a visible, restartable problem', async () => {
    const transport = new StubTransport();
    const { host, seen } = recordingHost();
    const session = new ChatSession(
      { transport, conversation: CONVERSATION, me: 'alice', outbox: scratchOutbox() },
      host,
    );
    session.start();
    await until(() => seen.errors.length === 1, 'the error');
    expect(seen.errors[0].visible).to.equal(true);
    expect(seen.errors[0].restartable).to.equal(true);
    expect(session.loading).to.equal('idle');
  });

  it('keeps the buddy’s ready clips and what this person watched, with the memory transport', async () => {
    const room = `session-${nanoid(6)}`;
    const bob = new MemoryTransport({ room, user: 'bob', processingDelay: 5 });
    const alice = new MemoryTransport({ room, user: 'alice' });
    const { host, seen } = recordingHost();
    const session = new ChatSession(
      {
        transport: alice,
        conversation: CONVERSATION,
        me: 'alice',
        buddy: 'bob',
        outbox: scratchOutbox(),
      },
      host,
    );
    try {
      session.start();
      await until(() => seen.loaded === 1, 'the first page');
      const clientId = nanoid();
      const bytes = new Blob([new Uint8Array(1000)], { type: 'video/webm' });
      const video = await bob.upload(CONVERSATION, bytes, { clientId, type: 'video/webm' });
      const sent = await bob.sendMessage(CONVERSATION, { clientId, video: video.id });
      await until(() => session.buddyClips.has(video.id), 'the buddy’s clip');
      expect(ids(session)).to.deep.equal([sent.id]);
      expect(session.videos.get(video.id)?.state).to.equal('ready');
      expect(session.unwatchedCount).to.equal(1);

      const clips = await session.openReel('Bob');
      expect(clips!.map((clip) => [clip.id, clip.ownerName, clip.watched])).to.deep.equal([
        [video.id, 'Bob', false],
      ]);
      session.markWatched(video.id);
      expect(session.unwatchedCount).to.equal(0);
      session.closeReel();
      // Remembered per user, conversation and buddy: a new session starts with it.
      const next = new ChatSession(
        {
          transport: alice,
          conversation: CONVERSATION,
          me: 'alice',
          buddy: 'bob',
          outbox: scratchOutbox(),
        },
        recordingHost().host,
      );
      expect(next.watched.has(video.id)).to.equal(true);
    } finally {
      session.stop();
      await alice.close();
      await bob.close();
      MemoryTransport.resetRoom(room);
    }
  });

  it('changes nothing once stopped', async () => {
    const transport = new StubTransport();
    const { host, seen } = recordingHost();
    transport.pages.push(() => ({ items: [], next: null }));
    const session = new ChatSession(
      { transport, conversation: CONVERSATION, me: 'alice', outbox: scratchOutbox() },
      host,
    );
    session.start();
    await until(() => seen.loaded === 1, 'the first page');
    const listener = transport.listener!;
    session.stop();
    expect(transport.listener).to.equal(undefined);
    listener(created(message(1)));
    expect(ids(session)).to.deep.equal([]);
    await session.send({ clientId: 'x', text: 'late' });
    expect(transport.calls.some((call) => call.method === 'sendMessage')).to.equal(false);
  });
});
