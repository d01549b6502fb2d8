/**
 * The transport contract suite: what every ReelTransport must do. Each implementation's
 * test file calls `transportContract(harness)`; the suite runs in the browser (mocha).
 */
import { expect, waitUntil } from '@open-wc/testing';
import { nanoid } from 'nanoid';
import { ReelError, type ReelErrorCode } from './errors.js';
import type { ReelEvent, ReelTransport, Video } from './types.js';

export interface ContractWorld {
  /** A transport for `user`, a member of `conversations`, in this world. */
  transportFor(user: string, conversations: string[]): Promise<ReelTransport>;
  teardown?(): Promise<void>;
}

export interface ContractHarness {
  name: string;
  /** A fresh world per test: nothing one test does is seen by another. */
  setup(): Promise<ContractWorld>;
  /** A small real video file the backend accepts. */
  sampleVideo(): Promise<Blob>;
  /** How long a video may take to become ready (ms). */
  readyTimeout?: number;
}

async function expectReelError(promise: Promise<unknown>, code: ReelErrorCode): Promise<ReelError> {
  try {
    await promise;
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(ReelError);
    expect((error as ReelError).code, (error as Error).message).to.equal(code);
    return error as ReelError;
  }
  throw new Error(`expected a ReelError "${code}", but it succeeded`);
}

/** Collects a subscription's events so tests can wait for the one they expect. */
function record(transport: ReelTransport, conversation: string) {
  const events: ReelEvent[] = [];
  const unsubscribe = transport.subscribe(conversation, (event) => events.push(event));
  return { events, unsubscribe };
}

async function* chunksOf(blob: Blob, size: number, gapMs = 5): AsyncIterable<Uint8Array> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  for (let offset = 0; offset < bytes.length; offset += size) {
    await new Promise((resolve) => setTimeout(resolve, gapMs));
    yield bytes.slice(offset, offset + size);
  }
}

export function transportContract(harness: ContractHarness): void {
  describe(`transport contract: ${harness.name}`, function () {
    this.timeout((harness.readyTimeout ?? 20_000) + 10_000);
    let world: ContractWorld;
    let alice: ReelTransport;
    let bob: ReelTransport;
    let conversation: string;

    beforeEach(async () => {
      world = await harness.setup();
      conversation = `c-${nanoid(8)}`;
      alice = await world.transportFor('alice', [conversation]);
      bob = await world.transportFor('bob', [conversation]);
    });

    afterEach(async () => {
      await alice?.close();
      await bob?.close();
      await world?.teardown?.();
    });

    it('connects as the given user', async () => {
      expect((await alice.connect()).user).to.equal('alice');
    });

    it('lists messages oldest first and pages both ways', async () => {
      for (const text of ['one', 'two', 'three', 'four', 'five']) {
        await alice.sendMessage(conversation, { clientId: nanoid(), text });
      }
      const all = await bob.listMessages(conversation);
      expect(all.items.map((m) => m.text)).to.deep.equal(['one', 'two', 'three', 'four', 'five']);
      expect(
        all.items.every((m) => m.author === 'alice' && m.conversation === conversation),
      ).to.equal(true);
      expect(all.next).to.equal(null);

      const newest = await bob.listMessages(conversation, { limit: 2 });
      expect(newest.items.map((m) => m.text)).to.deep.equal(['four', 'five']);
      expect(newest.next).to.be.a('string');
      const older = await bob.listMessages(conversation, { before: newest.next!, limit: 2 });
      expect(older.items.map((m) => m.text)).to.deep.equal(['two', 'three']);
      const oldest = await bob.listMessages(conversation, { before: older.next!, limit: 2 });
      expect(oldest.items.map((m) => m.text)).to.deep.equal(['one']);
      expect(oldest.next).to.equal(null);

      const after = await bob.listMessages(conversation, { after: all.items[1].id, limit: 2 });
      expect(after.items.map((m) => m.text)).to.deep.equal(['three', 'four']);
      const rest = await bob.listMessages(conversation, { after: after.next!, limit: 2 });
      expect(rest.items.map((m) => m.text)).to.deep.equal(['five']);
      expect(rest.next).to.equal(null);
    });

    it('makes one message of one clientId, however often it is sent', async () => {
      const clientId = nanoid();
      const first = await alice.sendMessage(conversation, { clientId, text: 'hello' });
      const again = await alice.sendMessage(conversation, { clientId, text: 'hello' });
      const concurrent = await Promise.all([
        alice.sendMessage(conversation, { clientId, text: 'hello' }),
        alice.sendMessage(conversation, { clientId, text: 'changed' }),
      ]);
      expect([again.id, ...concurrent.map((m) => m.id)]).to.deep.equal([
        first.id,
        first.id,
        first.id,
      ]);
      expect(concurrent[1].text).to.equal('hello');
      const page = await bob.listMessages(conversation);
      expect(page.items).to.have.length(1);
      expect(page.items[0]).to.include({ id: first.id, clientId, text: 'hello' });
    });

    it('delivers events after subscribe and none after unsubscribe', async () => {
      const early = await alice.sendMessage(conversation, { clientId: nanoid(), text: 'before' });
      const first = record(bob, conversation);
      const witness = record(bob, conversation);
      await waitUntil(
        () => online(first.events) && online(witness.events),
        'subscriptions online',
        { timeout: 10_000 },
      );
      const sent = await alice.sendMessage(conversation, { clientId: nanoid(), text: 'live' });
      await waitUntil(() => created(first.events).includes(sent.id), 'event after subscribe', {
        timeout: 10_000,
      });
      expect(created(first.events)).to.not.include(early.id);

      first.unsubscribe();
      const unheard = await alice.sendMessage(conversation, {
        clientId: nanoid(),
        text: 'unheard',
      });
      // The witness still listens: once it has the event, the unsubscribed listener would have too.
      await waitUntil(() => created(witness.events).includes(unheard.id), 'witness event', {
        timeout: 10_000,
      });
      expect(created(first.events)).to.not.include(unheard.id);
      witness.unsubscribe();
    });

    it('uploads a file with progress rising to the total, and the video becomes ready', async () => {
      const sample = await harness.sampleVideo();
      const mine = record(alice, conversation);
      const theirs = record(bob, conversation);
      await waitUntil(() => online(mine.events) && online(theirs.events), 'subscriptions online', {
        timeout: 10_000,
      });
      const progress: [number, number | undefined][] = [];
      const video = await alice.upload(conversation, sample, {
        clientId: nanoid(),
        type: sample.type || 'video/webm',
        onProgress: (sent, total) => progress.push([sent, total]),
      });
      expect(video).to.include({ owner: 'alice', conversation });
      expect(['processing', 'ready']).to.include(video.state);
      expect(progress.length).to.be.greaterThan(0);
      const sents = progress.map(([sent]) => sent);
      expect([...sents].sort((a, b) => a - b)).to.deep.equal(sents);
      expect(progress.at(-1)).to.deep.equal([sample.size, sample.size]);

      const ready = await readyVideo(
        alice,
        conversation,
        video.id,
        mine.events,
        harness.readyTimeout,
      );
      expect(ready.playlist).to.be.a('string');

      // Until it is attached to a message the clip is Alice's alone: Bob neither hears of it
      // nor finds it. Events come in order, so once Bob has a message Alice sent after the
      // video was ready, he would have had the video's events too.
      const later = await alice.sendMessage(conversation, { clientId: nanoid(), text: 'later' });
      await waitUntil(() => created(theirs.events).includes(later.id), 'the later message', {
        timeout: 10_000,
      });
      expect(videoUpdates(theirs.events, video.id)).to.deep.equal([]);
      await expectReelError(bob.getVideo(conversation, video.id), 'not-found');
      expect(await bob.listVideos(conversation, 'alice')).to.deep.equal([]);

      // Attached, it is everyone's; shared clips are the ones attached to messages.
      await alice.sendMessage(conversation, { clientId: nanoid(), video: video.id });
      const seen = await bob.getVideo(conversation, video.id);
      expect(seen).to.include({ id: video.id, owner: 'alice', state: 'ready' });
      expect(seen.playlist).to.be.a('string');
      const shared = await bob.listVideos(conversation, 'alice');
      expect(shared.map((v) => v.id)).to.deep.equal([video.id]);
      expect(await bob.listVideos(conversation, 'bob')).to.deep.equal([]);
      mine.unsubscribe();
      theirs.unsubscribe();
    });

    it('tells everyone when a clip attached while processing becomes ready', async () => {
      const sample = await harness.sampleVideo();
      const theirs = record(bob, conversation);
      await waitUntil(() => online(theirs.events), 'subscription online', { timeout: 10_000 });
      const video = await alice.upload(conversation, sample, {
        clientId: nanoid(),
        type: sample.type || 'video/webm',
      });
      const message = await alice.sendMessage(conversation, {
        clientId: nanoid(),
        video: video.id,
      });
      const stateWhenAttached = (await alice.getVideo(conversation, video.id)).state;
      await waitUntil(() => created(theirs.events).includes(message.id), 'the video message', {
        timeout: 10_000,
      });
      const ready = await readyVideo(
        bob,
        conversation,
        video.id,
        theirs.events,
        harness.readyTimeout,
      );
      expect(ready.playlist).to.be.a('string');
      if (stateWhenAttached === 'processing') {
        // Converted after it was attached: Bob hears that, and nothing from before.
        await waitUntil(() => videoUpdates(theirs.events, video.id).length > 0, 'the ready event', {
          timeout: 10_000,
        });
        expect(videoUpdates(theirs.events, video.id)).to.deep.equal(['ready']);
      }
      theirs.unsubscribe();
    });

    it('uploads a live stream of chunks', async () => {
      const sample = await harness.sampleVideo();
      const sent: number[] = [];
      const video = await alice.upload(conversation, chunksOf(sample, 16 * 1024), {
        clientId: nanoid(),
        type: sample.type || 'video/webm',
        onProgress: (bytes) => sent.push(bytes),
      });
      expect(sent.at(-1)).to.equal(sample.size);
      const ready = await readyVideo(alice, conversation, video.id, [], harness.readyTimeout);
      expect(ready.owner).to.equal('alice');
    });

    it('stops an upload when its signal aborts', async () => {
      const sample = await harness.sampleVideo();
      const controller = new AbortController();
      async function* stalls(): AsyncIterable<Uint8Array> {
        yield new Uint8Array(await sample.slice(0, 1024).arrayBuffer());
        await new Promise((resolve) => setTimeout(resolve, 60_000));
      }
      const upload = alice.upload(conversation, stalls(), {
        clientId: nanoid(),
        type: 'video/webm',
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(), 100);
      await expectReelError(upload, 'aborted');
    });

    it('answers bad requests with typed errors', async () => {
      await expectReelError(
        alice.sendMessage(conversation, { clientId: nanoid(), text: '   ' }),
        'bad-request',
      );
      await expectReelError(
        alice.sendMessage(conversation, { clientId: 'bad/id', text: 'x' }),
        'bad-request',
      );
      await expectReelError(
        alice.sendMessage(conversation, { clientId: nanoid(), text: 'x'.repeat(4001) }),
        'too-large',
      );
      await expectReelError(alice.getVideo(conversation, nanoid()), 'not-found');
      await expectReelError(
        alice.upload(conversation, new Blob(['not a video'], { type: 'text/plain' }), {
          clientId: nanoid(),
          type: 'text/plain',
        }),
        'bad-request',
      );
    });

    it('unsends a message: it keeps its place as deleted, its clip is gone, everyone hears it', async () => {
      const sample = await harness.sampleVideo();
      const theirs = record(bob, conversation);
      await waitUntil(() => online(theirs.events), 'subscription online', { timeout: 10_000 });
      const video = await alice.upload(conversation, sample, {
        clientId: nanoid(),
        type: sample.type || 'video/webm',
      });
      await readyVideo(alice, conversation, video.id, [], harness.readyTimeout);
      const clientId = nanoid();
      const clip = await alice.sendMessage(conversation, { clientId, video: video.id });
      const after = await alice.sendMessage(conversation, { clientId: nanoid(), text: 'after' });
      expect((await bob.listVideos(conversation, 'alice')).map((v) => v.id)).to.deep.equal([
        video.id,
      ]);

      await unsendOf(alice)(conversation, clip.id);
      await waitUntil(() => deletedIds(theirs.events).includes(clip.id), 'message.deleted', {
        timeout: 10_000,
      });
      const heard = theirs.events.find(
        (event) => event.type === 'message.deleted' && event.message.id === clip.id,
      );
      expect(heard?.type === 'message.deleted' && heard.message).to.deep.include({
        id: clip.id,
        author: 'alice',
        deleted: true,
      });
      // In its place in the timeline, without its clip; the clip itself is gone.
      const page = await bob.listMessages(conversation);
      expect(page.items.map((m) => m.id)).to.deep.equal([clip.id, after.id]);
      expect(page.items[0]).to.include({ id: clip.id, deleted: true });
      expect(page.items[0].deletedAt).to.be.a('string');
      expect(page.items[0].video).to.equal(undefined);
      expect(page.items[0].text).to.equal(undefined);
      await expectReelError(bob.getVideo(conversation, video.id), 'not-found');
      await expectReelError(alice.getVideo(conversation, video.id), 'not-found');
      expect(await bob.listVideos(conversation, 'alice')).to.deep.equal([]);

      // Idempotent, and a retry of the original send does not bring it back.
      await unsendOf(alice)(conversation, clip.id);
      const resent = await alice.sendMessage(conversation, { clientId, video: video.id });
      expect(resent).to.include({ id: clip.id, deleted: true });
      expect(resent.video).to.equal(undefined);
      // Only the author may; an unknown id is not found.
      await expectReelError(unsendOf(bob)(conversation, after.id), 'forbidden');
      await expectReelError(unsendOf(alice)(conversation, nanoid()), 'not-found');
      expect((await bob.listMessages(conversation)).items[1]).to.include({ text: 'after' });
      theirs.unsubscribe();
    });

    it('records who watched a clip: the owner hears it and sees everyone, others see themselves', async () => {
      const sample = await harness.sampleVideo();
      const carol = await world.transportFor('carol', [conversation]);
      const bobElsewhere = await world.transportFor('bob', [conversation]);
      try {
        const video = await alice.upload(conversation, sample, {
          clientId: nanoid(),
          type: sample.type || 'video/webm',
        });
        await readyVideo(alice, conversation, video.id, [], harness.readyTimeout);
        await alice.sendMessage(conversation, { clientId: nanoid(), video: video.id });
        const owner = record(alice, conversation);
        const otherDevice = record(bobElsewhere, conversation);
        await waitUntil(() => online(owner.events) && online(otherDevice.events), 'online', {
          timeout: 10_000,
        });
        expect((await bob.getVideo(conversation, video.id)).watchedBy).to.deep.equal([]);

        await watchOf(bob)(conversation, video.id);
        await watchOf(bob)(conversation, video.id);
        await waitUntil(() => watchedBy(owner.events, video.id).includes('bob'), 'video.watched', {
          timeout: 10_000,
        });
        // Bob's other device hears it too, so both start "play all" at the same place.
        await waitUntil(
          () => watchedBy(otherDevice.events, video.id).includes('bob'),
          'video.watched on the other device',
          { timeout: 10_000 },
        );
        expect((await alice.getVideo(conversation, video.id)).watchedBy).to.deep.equal(['bob']);
        expect((await bob.getVideo(conversation, video.id)).watchedBy).to.deep.equal(['bob']);
        const reel = await bobElsewhere.listVideos(conversation, 'alice');
        expect(reel.map((v) => [v.id, v.watchedBy])).to.deep.equal([[video.id, ['bob']]]);
        expect((await carol.getVideo(conversation, video.id)).watchedBy).to.deep.equal([]);

        await watchOf(carol)(conversation, video.id);
        await waitUntil(() => watchedBy(owner.events, video.id).includes('carol'), 'carol', {
          timeout: 10_000,
        });
        expect((await alice.getVideo(conversation, video.id)).watchedBy).to.deep.equal([
          'bob',
          'carol',
        ]);
        expect((await carol.getVideo(conversation, video.id)).watchedBy).to.deep.equal(['carol']);
        // Marked twice, heard once; a clip nobody can see is not found.
        expect(watchedBy(owner.events, video.id)).to.deep.equal(['bob', 'carol']);
        await expectReelError(watchOf(bob)(conversation, nanoid()), 'not-found');
        owner.unsubscribe();
        otherDevice.unsubscribe();
      } finally {
        await carol.close();
        await bobElsewhere.close();
      }
    });

    it('keeps people out of conversations they do not belong to', async () => {
      const outsider = await world.transportFor('mallory', [`c-${nanoid(8)}`]);
      try {
        await expectReelError(outsider.listMessages(conversation), 'forbidden');
        await expectReelError(
          outsider.sendMessage(conversation, { clientId: nanoid(), text: 'hi' }),
          'forbidden',
        );
        await expectReelError(outsider.listVideos(conversation, 'alice'), 'forbidden');
      } finally {
        await outsider.close();
      }
    });
  });
}

function unsendOf(transport: ReelTransport): NonNullable<ReelTransport['deleteMessage']> {
  if (!transport.deleteMessage) throw new Error('This transport does not implement deleteMessage.');
  return transport.deleteMessage.bind(transport);
}

function watchOf(transport: ReelTransport): NonNullable<ReelTransport['markWatched']> {
  if (!transport.markWatched) throw new Error('This transport does not implement markWatched.');
  return transport.markWatched.bind(transport);
}

function deletedIds(events: ReelEvent[]): string[] {
  return events.flatMap((event) => (event.type === 'message.deleted' ? [event.message.id] : []));
}

/** The watchers named by one video's video.watched events, in order. */
function watchedBy(events: ReelEvent[], id: string): string[] {
  return events.flatMap((event) =>
    event.type === 'video.watched' && event.watch.video === id ? [event.watch.user] : [],
  );
}

function online(events: ReelEvent[]): boolean {
  return events.some((event) => event.type === 'connection' && event.state === 'online');
}

function created(events: ReelEvent[]): string[] {
  return events.flatMap((event) => (event.type === 'message.created' ? [event.message.id] : []));
}

/** The states of one video's video.updated events, in order. */
function videoUpdates(events: ReelEvent[], id: string): string[] {
  return events.flatMap((event) =>
    event.type === 'video.updated' && event.video.id === id ? [event.video.state] : [],
  );
}

/** Waits for the video to be ready, from events or by asking. */
async function readyVideo(
  transport: ReelTransport,
  conversation: string,
  id: string,
  events: ReelEvent[],
  timeout = 20_000,
): Promise<Video> {
  let latest: Video | undefined;
  await waitUntil(
    async () => {
      const fromEvent = events.find(
        (event) =>
          event.type === 'video.updated' &&
          event.video.id === id &&
          event.video.state !== 'processing',
      );
      latest =
        fromEvent?.type === 'video.updated'
          ? fromEvent.video
          : await transport.getVideo(conversation, id);
      return latest.state !== 'processing';
    },
    `video ${id} ready`,
    { timeout, interval: 100 },
  );
  expect(latest!.state, latest!.reason).to.equal('ready');
  return latest!;
}
