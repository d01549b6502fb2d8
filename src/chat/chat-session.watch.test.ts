// ChatSession without a DOM: unsending (both sides, refusals, catching up) and watching
// (recorded once on the backend, "seen" for the owner, every device of the watcher agreeing).
import { expect } from '@open-wc/testing';
import { nanoid } from 'nanoid';
import { ReelError } from '../transport/errors.js';
import { MemoryTransport } from '../transport/memory-transport.js';
import type { Video } from '../transport/types.js';
import { ChatSession } from './chat-session.js';
import {
  CONVERSATION,
  StubTransport,
  ids,
  message,
  recordingHost,
  sendClip,
  until,
  scratchOutbox,
} from './chat-session.fixtures.js';

describe('ChatSession (no DOM): unsend and seen', () => {
  it('unsends: the author’s and the buddy’s timelines say deleted, the clip leaves a playing reel and the badge', async () => {
    const room = `session-${nanoid(6)}`;
    const alice = new MemoryTransport({ room, user: 'alice', processingDelay: 5 });
    const bob = new MemoryTransport({ room, user: 'bob' });
    const a = recordingHost();
    const b = recordingHost();
    const aliceSession = new ChatSession(
      {
        transport: alice,
        conversation: CONVERSATION,
        me: 'alice',
        buddy: 'bob',
        outbox: scratchOutbox(),
      },
      a.host,
    );
    const bobSession = new ChatSession(
      {
        transport: bob,
        conversation: CONVERSATION,
        me: 'bob',
        buddy: 'alice',
        outbox: scratchOutbox(),
      },
      b.host,
    );
    try {
      aliceSession.start();
      bobSession.start();
      await until(() => a.seen.loaded === 1 && b.seen.loaded === 1, 'the first pages');
      const first = await sendClip(alice);
      const second = await sendClip(alice);
      const text = await alice.sendMessage(CONVERSATION, { clientId: nanoid(), text: 'hi' });
      await until(() => bobSession.buddyClips.size === 2, 'both clips at Bob’s');
      await until(() => ids(bobSession).includes(text.id), 'the text at Bob’s');
      expect(bobSession.unwatchedCount).to.equal(2);
      const reel = await bobSession.openReel('Alice');
      expect(reel!.map((clip) => clip.id)).to.deep.equal([first.video.id, second.video.id]);
      expect(aliceSession.canUnsend).to.equal(true);

      const unsending = aliceSession.unsend(first.message.id);
      expect(aliceSession.unsending.get(first.message.id)).to.deep.equal({});
      expect(await unsending).to.equal(true);
      expect(aliceSession.unsending.has(first.message.id)).to.equal(false);
      const entryOf = (session: ChatSession, id: string) =>
        session.timeline.entries().find((entry) => entry.key === id)!;
      expect(entryOf(aliceSession, first.message.id).deleted).to.equal(true);
      expect(aliceSession.videos.has(first.video.id)).to.equal(false);

      // Bob hears message.deleted: his row stays, as deleted; the clip leaves the open reel.
      await until(() => entryOf(bobSession, first.message.id).deleted === true, 'deleted at Bob’s');
      const row = entryOf(bobSession, first.message.id);
      expect([row.video, row.text]).to.deep.equal([undefined, undefined]);
      expect(ids(bobSession)).to.deep.equal([first.message.id, second.message.id, text.id]);
      expect(bobSession.reelClips.map((clip) => clip.id)).to.deep.equal([second.video.id]);
      expect([...bobSession.buddyClips.keys()]).to.deep.equal([second.video.id]);
      expect(bobSession.unwatchedCount).to.equal(1);
      expect(bobSession.videos.has(first.video.id)).to.equal(false);
      // A late answer about the clip does not bring it back.
      bobSession.rememberVideo(first.video);
      expect(bobSession.buddyClips.has(first.video.id)).to.equal(false);

      // A text too; and a session started afterwards lists both as deleted (replay).
      await aliceSession.unsend(text.id);
      await until(() => entryOf(bobSession, text.id).deleted === true, 'the text deleted');
      const later = new ChatSession(
        {
          transport: bob,
          conversation: CONVERSATION,
          me: 'bob',
          buddy: 'alice',
          outbox: scratchOutbox(),
        },
        recordingHost().host,
      );
      later.start();
      await until(() => later.timeline.size === 3 && later.buddyClips.size === 1, 'a new session');
      expect(later.timeline.entries().map((entry) => !!entry.deleted)).to.deep.equal([
        true,
        false,
        true,
      ]);
      later.stop();
    } finally {
      aliceSession.stop();
      bobSession.stop();
      await alice.close();
      await bob.close();
      MemoryTransport.resetRoom(room);
    }
  });

  it('keeps a refused unsend with the backend’s reason, and offers none without deleteMessage', async () => {
    const transport = new StubTransport();
    const { host, seen } = recordingHost();
    transport.pages.push(() => ({ items: [message(1, 'alice')], next: null }));
    const session = new ChatSession(
      { transport, conversation: CONVERSATION, me: 'alice', outbox: scratchOutbox() },
      host,
    );
    session.start();
    await until(() => seen.loaded === 1, 'the first page');
    expect(session.canUnsend).to.equal(false);
    expect(await session.unsend('m0001')).to.equal(false);
    transport.deleteMessage = () =>
      Promise.reject(new ReelError('forbidden', 'Only its author can unsend a message.'));
    expect(session.canUnsend).to.equal(true);
    expect(await session.unsend('m0001')).to.equal(false);
    expect(session.unsending.get('m0001')).to.deep.equal({
      error: 'Only its author can unsend a message.',
    });
    expect(seen.errors.map((e) => [e.error.code, e.visible])).to.deep.equal([['forbidden', false]]);
    expect(session.timeline.entries()[0].deleted).to.equal(undefined);
  });

  it('drops a buddy’s clip unsent while offline when it catches up (the listing no longer has it)', async () => {
    const transport = new StubTransport();
    const { host, seen } = recordingHost();
    const clip = (id: string): Video => ({
      id,
      conversation: CONVERSATION,
      owner: 'bob',
      state: 'ready',
      playlist: `/media/${id}/index.m3u8`,
      createdAt: new Date().toISOString(),
    });
    let listed = [clip('v1'), clip('v2')];
    transport.listVideos = async () => listed;
    transport.pages.push(() => ({ items: [], next: null }));
    const session = new ChatSession(
      { transport, conversation: CONVERSATION, me: 'alice', buddy: 'bob', outbox: scratchOutbox() },
      host,
    );
    session.start();
    await until(() => seen.loaded === 1 && session.buddyClips.size === 2, 'the clips');
    await session.openReel('Bob');
    listed = [clip('v2')];
    transport.pages.push(() => ({ items: [], next: null }));
    transport.listener!({ type: 'connection', state: 'online' });
    await until(() => session.buddyClips.size === 1, 'the unsent clip dropped');
    expect(session.reelClips.map((c) => c.id)).to.deep.equal(['v2']);
  });

  it('records watching on the backend once; the owner sees "seen"; another device starts past it', async () => {
    const room = `session-${nanoid(6)}`;
    const alice = new MemoryTransport({ room, user: 'alice', processingDelay: 5 });
    const bob = new MemoryTransport({ room, user: 'bob' });
    const marks: string[] = [];
    const mark = bob.markWatched.bind(bob);
    bob.markWatched = (conversation, id) => {
      marks.push(id);
      return mark(conversation, id);
    };
    const a = recordingHost();
    const aliceSession = new ChatSession(
      {
        transport: alice,
        conversation: CONVERSATION,
        me: 'alice',
        buddy: 'bob',
        outbox: scratchOutbox(),
      },
      a.host,
    );
    const bobSession = new ChatSession(
      {
        transport: bob,
        conversation: CONVERSATION,
        me: 'bob',
        buddy: 'alice',
        outbox: scratchOutbox(),
      },
      recordingHost().host,
    );
    try {
      aliceSession.start();
      bobSession.start();
      await until(() => a.seen.loaded === 1, 'the first page');
      const first = await sendClip(alice);
      const second = await sendClip(alice);
      await until(() => bobSession.buddyClips.size === 2, 'both clips at Bob’s');
      await bobSession.openReel('Alice');
      expect(bobSession.reel.startIndex).to.equal(0);
      bobSession.markWatched(first.video.id);
      bobSession.markWatched(first.video.id);
      expect(bobSession.unwatchedCount).to.equal(1);
      // Not this person's own clip: nothing to record.
      aliceSession.markWatched(first.video.id);
      await until(() => aliceSession.watch.seen.has(first.video.id), 'Alice sees it was seen');
      expect(aliceSession.watch.seen.has(second.video.id)).to.equal(false);
      expect(marks).to.deep.equal([first.video.id]);
      expect(bobSession.reelClips.map((clip) => clip.watched)).to.deep.equal([true, false]);

      // Bob's other device, with nothing in its own cache: the backend's watchedBy tells it.
      localStorage.removeItem(`reelchat:watched:bob:${CONVERSATION}:alice`);
      const phone = new MemoryTransport({ room, user: 'bob' });
      const other = new ChatSession(
        {
          transport: phone,
          conversation: CONVERSATION,
          me: 'bob',
          buddy: 'alice',
          outbox: scratchOutbox(),
        },
        recordingHost().host,
      );
      other.start();
      await until(() => other.buddyClips.size === 2, 'the clips on the other device');
      expect(other.unwatchedCount).to.equal(1);
      await other.openReel('Alice');
      expect(other.reelClips.map((clip) => clip.watched)).to.deep.equal([true, false]);
      expect(other.reel.startIndex).to.equal(1);
      // Watched there: the first device hears video.watched and moves its badge.
      other.markWatched(second.video.id);
      await until(() => bobSession.unwatchedCount === 0, 'the first device follows');
      // A new session of Alice's reads "seen" from watchedBy.
      const again = new ChatSession(
        {
          transport: alice,
          conversation: CONVERSATION,
          me: 'alice',
          buddy: 'bob',
          outbox: scratchOutbox(),
        },
        recordingHost().host,
      );
      again.start();
      await until(
        () => again.watch.seen.has(first.video.id) && again.watch.seen.has(second.video.id),
        'seen from watchedBy',
      );
      other.stop();
      again.stop();
      await phone.close();
    } finally {
      aliceSession.stop();
      bobSession.stop();
      await alice.close();
      await bob.close();
      MemoryTransport.resetRoom(room);
    }
  });

  it('keeps a mark that could not be sent and sends it on the next connection, playback untouched', async () => {
    const transport = new StubTransport();
    const { host, seen } = recordingHost();
    const video: Video = {
      id: `v${nanoid(6)}`,
      conversation: CONVERSATION,
      owner: 'bob',
      state: 'ready',
      playlist: '/media/v/index.m3u8',
      createdAt: new Date().toISOString(),
      watchedBy: [],
    };
    transport.listVideos = async () => [video];
    let refuse = true;
    const marks: string[] = [];
    transport.markWatched = async (_conversation, id) => {
      marks.push(id);
      if (refuse) throw new ReelError('network', 'The network is down.');
    };
    transport.pages.push(() => ({ items: [], next: null }));
    const session = new ChatSession(
      { transport, conversation: CONVERSATION, me: 'alice', buddy: 'bob', outbox: scratchOutbox() },
      host,
    );
    session.start();
    await until(() => seen.loaded === 1 && session.buddyClips.size === 1, 'the clip');
    session.markWatched(video.id);
    expect(session.watched.has(video.id)).to.equal(true);
    await until(() => marks.length === 1, 'the first try');
    // A lost connection is no error to show or report.
    expect(seen.errors).to.deep.equal([]);
    refuse = false;
    transport.pages.push(() => ({ items: [], next: null }));
    transport.listener!({ type: 'connection', state: 'online' });
    await until(() => marks.length === 2, 'sent again on the next connection');
    transport.pages.push(() => ({ items: [], next: null }));
    transport.listener!({ type: 'connection', state: 'online' });
    await session.catchUp();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Confirmed: never sent again in this session.
    expect(marks).to.deep.equal([video.id, video.id]);
    session.stop();
  });
});
