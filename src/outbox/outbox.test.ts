import { expect } from '@open-wc/testing';
import { nanoid } from 'nanoid';
import sinon from 'sinon';
import { ReelError } from '../transport/errors.js';
import { MemoryTransport } from '../transport/memory-transport.js';
import type { ReelTransport, UploadOptions, UploadSource, Video } from '../transport/types.js';
import { Outbox, type OutboxSource } from './outbox.js';
import { resumePendingUploads, withTakeLock } from './deliver.js';

const bytes = (...values: number[]) => new Uint8Array(values);

async function collect(iterable: AsyncIterable<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const chunk of iterable) out.push(...chunk);
  return out;
}

async function expectReelError(promise: Promise<unknown>, code: string): Promise<ReelError> {
  try {
    await promise;
  } catch (error) {
    expect(ReelError.is(error), String(error)).to.equal(true);
    expect((error as ReelError).code).to.equal(code);
    return error as ReelError;
  }
  expect.fail(`expected a ${code} ReelError`);
  throw new Error('unreachable');
}

function freshOutbox(): Outbox {
  return new Outbox({ name: `test-outbox-${nanoid(8)}` });
}

describe('Outbox', () => {
  afterEach(() => sinon.restore());

  it('appends chunks as ArrayBuffers and reads them back from any offset', async () => {
    const outbox = freshOutbox();
    await outbox.begin({ clientId: 'take1', conversation: 'c1', type: 'video/webm' });
    await outbox.append('take1', bytes(1, 2, 3));
    await outbox.append('take1', new Blob([bytes(4, 5)]));
    await outbox.append('take1', bytes().buffer); // empty chunks are skipped
    await outbox.append('take1', bytes(6, 7, 8, 9).buffer);
    await outbox.finish('take1', { duration: 1.5, send: true });

    const take = await outbox.get('take1');
    expect(take).to.include({ state: 'recorded', chunks: 3, bytes: 9, duration: 1.5, send: true });
    expect(take!.sizes).to.deep.equal([3, 2, 4]);

    expect(await collect(outbox.readFrom('take1'))).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await collect(outbox.readFrom('take1', 4))).to.deep.equal([5, 6, 7, 8, 9]);
    expect(await collect(outbox.readFrom('take1', 5))).to.deep.equal([6, 7, 8, 9]);
    expect(await collect(outbox.readFrom('take1', 9))).to.deep.equal([]);
    await expectReelError(collect(outbox.readFrom('take1', 10)), 'bad-request');

    // What is stored really is an ArrayBuffer, readable by a second instance (a reload).
    const again = new Outbox({ name: outbox.name });
    expect(await collect(await again.source('take1'))).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('follows a live take: a reader waits for each next chunk until the take finishes', async () => {
    const outbox = freshOutbox();
    await outbox.begin({ clientId: 'live', conversation: 'c1', type: 'video/webm' });
    await outbox.append('live', bytes(1));
    const got: number[] = [];
    const reading = (async () => {
      for await (const chunk of outbox.readFrom('live')) got.push(...chunk);
    })();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(got).to.deep.equal([1]);
    await outbox.append('live', bytes(2, 3));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(got).to.deep.equal([1, 2, 3]);
    await outbox.append('live', bytes(4));
    await outbox.finish('live', { send: true });
    await reading;
    expect(got).to.deep.equal([1, 2, 3, 4]);
  });

  it('holds a live reader open after stop until the take is approved for sending', async () => {
    const outbox = freshOutbox();
    await outbox.begin({ clientId: 'review', conversation: 'c1', type: 'video/webm' });
    await outbox.append('review', bytes(1, 2));
    let ended = false;
    const reading = collect(outbox.readFrom('review')).then((all) => {
      ended = true;
      return all;
    });
    await outbox.finish('review');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(ended, 'still open while the person reviews').to.equal(false);
    expect(outbox.isLive('review')).to.equal(true);
    await outbox.approve('review');
    expect(await reading).to.deep.equal([1, 2]);
    expect(outbox.isLive('review')).to.equal(false);
  });

  it('stops a waiting live reader when its signal fires or the take is deleted', async () => {
    const outbox = freshOutbox();
    await outbox.begin({ clientId: 'a', conversation: 'c1', type: 'video/webm' });
    const controller = new AbortController();
    const aborted = collect(outbox.readFrom('a', 0, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    await expectReelError(aborted, 'aborted');

    const deleted = collect(outbox.readFrom('a'));
    setTimeout(() => void outbox.delete('a'), 20);
    await expectReelError(deleted, 'not-found');
  });

  it('ends a take that a departed page left recording at its last stored chunk', async () => {
    const first = freshOutbox();
    await first.begin({ clientId: 'cut', conversation: 'c1', type: 'video/webm' });
    await first.append('cut', bytes(1, 2));
    const second = new Outbox({ name: first.name });
    expect(second.isLive('cut')).to.equal(false);
    expect(await collect(second.readFrom('cut'))).to.deep.equal([1, 2]);
  });

  it('deletes confirmed chunks only once the transport has a resumable upload', async () => {
    const outbox = freshOutbox();
    await outbox.begin({ clientId: 't', conversation: 'c1', type: 'video/webm' });
    for (const chunk of [bytes(1, 2, 3), bytes(4, 5), bytes(6, 7, 8)])
      await outbox.append('t', chunk);
    await outbox.finish('t', { send: true });

    // Not resumable yet: the transport would start over, so every byte stays.
    await outbox.confirm('t', 5);
    expect(await outbox.get('t')).to.include({ confirmed: 5, dropped: 0 });
    expect(await collect(outbox.readFrom('t'))).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);

    const source = await outbox.source('t');
    await source.remember({ url: 'https://example.test/v1/uploads/abc' });
    await outbox.confirm('t', 4); // stale, ignored
    await outbox.confirm('t', 6); // chunk 0 (0–2) and chunk 1 (3–4) are wholly confirmed
    const take = await outbox.get('t');
    expect(take).to.include({ confirmed: 6, dropped: 2 });
    expect(take!.upload).to.deep.equal({ url: 'https://example.test/v1/uploads/abc' });

    expect(await collect(outbox.readFrom('t', 6))).to.deep.equal([7, 8]);
    expect(await collect(outbox.readFrom('t', 5))).to.deep.equal([6, 7, 8]);
    await expectReelError(collect(outbox.readFrom('t', 4)), 'conflict');

    // A new page's source carries the handle, for the transport to resume from.
    const later = await new Outbox({ name: outbox.name }).source('t');
    expect(later.upload).to.deep.equal({ url: 'https://example.test/v1/uploads/abc' });
  });

  it('lists pending takes by conversation and user, oldest first, and deletes a take whole', async () => {
    const outbox = freshOutbox();
    await outbox.begin({ clientId: 'x1', conversation: 'c1', type: 'video/webm', user: 'alice' });
    await outbox.begin({ clientId: 'x2', conversation: 'c2', type: 'video/webm', user: 'alice' });
    await outbox.begin({ clientId: 'x3', conversation: 'c1', type: 'video/webm', user: 'bob' });
    await outbox.append('x1', bytes(1, 2));
    await outbox.append('x1', bytes(3));

    expect((await outbox.pending()).map((t) => t.clientId)).to.deep.equal(['x1', 'x2', 'x3']);
    expect((await outbox.pending({ conversation: 'c1' })).map((t) => t.clientId)).to.deep.equal([
      'x1',
      'x3',
    ]);
    expect(
      (await outbox.pending({ conversation: 'c1', user: 'alice' })).map((t) => t.clientId),
    ).to.deep.equal(['x1']);

    await outbox.delete('x1');
    expect(await outbox.get('x1')).to.equal(undefined);
    expect((await outbox.pending()).map((t) => t.clientId)).to.deep.equal(['x2', 'x3']);
    await expectReelError(collect(outbox.readFrom('x1')), 'not-found');
  });

  it('reports a full disk as quota-exceeded instead of failing silently', async () => {
    const outbox = freshOutbox();
    await outbox.begin({ clientId: 'q', conversation: 'c1', type: 'video/webm' });
    // A disk cannot be filled here: the browser's refusal is stood in for at IndexedDB's door.
    sinon
      .stub(IDBObjectStore.prototype, 'put')
      .throws(new DOMException('full', 'QuotaExceededError'));
    const error = await expectReelError(outbox.append('q', bytes(1, 2, 3)), 'quota-exceeded');
    expect(error.message).to.match(/storage/);
    sinon.restore();
    expect(await outbox.get('q')).to.include({ chunks: 0, bytes: 0 });
  });
});

describe('resumePendingUploads', () => {
  afterEach(() => sinon.restore());

  async function recordedTake(outbox: Outbox, clientId: string, send: boolean) {
    await outbox.begin({ clientId, conversation: 'c1', type: 'video/webm', user: 'alice' });
    await outbox.append(clientId, bytes(1, 2, 3));
    await outbox.append(clientId, bytes(4, 5));
    await outbox.finish(clientId, { duration: 2, send });
  }

  it('uploads and sends each approved take exactly once, and discards unapproved ones', async () => {
    const room = `resume-${nanoid(6)}`;
    const outbox = freshOutbox();
    await recordedTake(outbox, 'send-me', true);
    await recordedTake(outbox, 'never-approved', false);
    await outbox.begin({ clientId: 'cut-off', conversation: 'c1', type: 'video/webm', send: true });

    const transport = new MemoryTransport({ user: 'alice', room, processingDelay: 5 });
    const uploaded: Video[] = [];
    const result = await resumePendingUploads(transport, new Outbox({ name: outbox.name }), {
      conversation: 'c1',
      user: 'alice',
      onUploaded: (_take, video) => uploaded.push(video),
    });
    expect(result.failed).to.deep.equal([]);
    expect(result.messages).to.have.length(1);
    expect(result.messages[0]).to.include({ clientId: 'send-me', video: uploaded[0].id });
    expect(uploaded[0]).to.include({ bytes: 5, duration: 2 });
    expect(await outbox.pending()).to.deep.equal([]);

    // Running it again (another reload) sends nothing more.
    const again = await resumePendingUploads(transport, outbox, { conversation: 'c1' });
    expect(again.messages).to.deep.equal([]);
    const page = await transport.listMessages('c1');
    expect(page.items.map((m) => m.clientId)).to.deep.equal(['send-me']);
  });

  it('sends the message of a take whose upload finished before the reload, without uploading again', async () => {
    const room = `resume-${nanoid(6)}`;
    const transport = new MemoryTransport({ user: 'alice', room, processingDelay: 5 });
    const outbox = freshOutbox();
    await recordedTake(outbox, 'up', true);
    const video = await transport.upload('c1', new Blob([bytes(1, 2, 3, 4, 5)]), {
      clientId: 'up',
      type: 'video/webm',
    });
    await outbox.uploaded('up', video.id);
    const upload = sinon.spy(transport, 'upload');
    const result = await resumePendingUploads(transport, outbox);
    expect(upload.called).to.equal(false);
    expect(result.messages.map((m) => m.video)).to.deep.equal([video.id]);
  });

  it('hands a resumable transport the remembered upload and reads from its offset', async () => {
    const outbox = freshOutbox();
    await recordedTake(outbox, 'tus', true);
    await (await outbox.source('tus')).remember({ url: 'https://example.test/up/1' });
    await outbox.confirm('tus', 3);

    // A stand-in for the http transport's resume path: the server says it has 3 bytes.
    const seen: { upload?: unknown; bytes: number[] } = { bytes: [] };
    const memory = new MemoryTransport({ user: 'alice', room: `resume-${nanoid(6)}` });
    const resuming: ReelTransport = Object.assign(Object.create(memory) as ReelTransport, {
      async upload(_c: string, source: UploadSource, options: UploadOptions): Promise<Video> {
        const resumable = source as OutboxSource;
        seen.upload = resumable.upload;
        seen.bytes = await collect(resumable.read(3));
        options.onProgress?.(5, 5);
        return memory.upload('c1', new Blob([bytes(1, 2, 3, 4, 5)]), {
          clientId: options.clientId,
        });
      },
    });
    const result = await resumePendingUploads(resuming, outbox);
    expect(seen.upload).to.deep.equal({ url: 'https://example.test/up/1' });
    expect(seen.bytes).to.deep.equal([4, 5]);
    expect(result.messages).to.have.length(1);
  });

  it('keeps a take whose upload fails, for the next attempt', async () => {
    const outbox = freshOutbox();
    await recordedTake(outbox, 'fail', true);
    const transport = new MemoryTransport({ user: 'alice', room: `resume-${nanoid(6)}` });
    sinon.stub(transport, 'upload').rejects(new ReelError('network', 'offline'));
    const errors: string[] = [];
    const result = await resumePendingUploads(transport, outbox, {
      onError: (_take, error) => errors.push(error.code),
    });
    expect(result.failed.map((f) => f.error.code)).to.deep.equal(['network']);
    expect(errors).to.deep.equal(['network']);
    expect((await outbox.pending()).map((t) => t.clientId)).to.deep.equal(['fail']);
  });

  it('leaves a take another holds to it, or with held: wait sends it once the holder lets go', async () => {
    const outbox = freshOutbox();
    await recordedTake(outbox, 'held', true);
    await recordedTake(outbox, 'free', true);
    const transport = new MemoryTransport({ user: 'alice', room: `resume-${nanoid(6)}` });
    // Another element (or tab) holds 'held': its upload is under way.
    let letGo = () => {};
    const holding = withTakeLock(outbox, 'held', () => new Promise<void>((r) => (letGo = r)));

    const skipped = await resumePendingUploads(transport, outbox);
    expect(skipped.messages.map((m) => m.clientId)).to.deep.equal(['free']);

    let settled = false;
    const waiting = resumePendingUploads(transport, outbox, { held: 'wait' });
    void waiting.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(settled, 'it waits while the other holds the take').to.equal(false);
    letGo(); // the holder failed to send it and let go
    await holding;
    const sent = await waiting;
    expect(sent.messages.map((m) => m.clientId)).to.deep.equal(['held']);
    expect(await outbox.pending()).to.deep.equal([]);
    const page = await transport.listMessages('c1');
    expect(page.items.map((m) => m.clientId).sort()).to.deep.equal(['free', 'held']);
  });

  it('stops waiting for a held take when its signal fires', async () => {
    const outbox = freshOutbox();
    await recordedTake(outbox, 'held', true);
    const transport = new MemoryTransport({ user: 'alice', room: `resume-${nanoid(6)}` });
    let letGo = () => {};
    const holding = withTakeLock(outbox, 'held', () => new Promise<void>((r) => (letGo = r)));
    const controller = new AbortController();
    const errors: string[] = [];
    const waiting = resumePendingUploads(transport, outbox, {
      held: 'wait',
      signal: controller.signal,
      onError: (_take, error) => errors.push(error.code),
    });
    await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    const result = await waiting;
    expect(result.messages).to.deep.equal([]);
    expect(result.failed.map((f) => f.error.code)).to.deep.equal(['aborted']);
    expect(errors).to.deep.equal([]);
    letGo();
    await holding;
    expect((await outbox.pending()).map((t) => t.clientId)).to.deep.equal(['held']);
  });
});
