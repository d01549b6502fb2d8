import { expect } from '@open-wc/testing';
import { waitUntil } from '../test-helpers/wait.js';
import { nanoid } from 'nanoid';
import { transportContract } from './contract.js';
import { MemoryTransport } from './memory-transport.js';
import { createTransport } from './index.js';
import type { ReelEvent } from './types.js';

transportContract({
  name: 'memory',
  async setup() {
    const room = `room-${nanoid(6)}`;
    return {
      async transportFor(user, conversations) {
        return new MemoryTransport({ room, user, conversations });
      },
      async teardown() {
        MemoryTransport.resetRoom(room);
      },
    };
  },
  async sampleVideo() {
    const response = await fetch('/test-fixtures/video/sample.webm');
    return new Blob([await response.arrayBuffer()], { type: 'video/webm' });
  },
});

describe('MemoryTransport', () => {
  it('is registered as "memory"', async () => {
    const transport = createTransport('memory', { user: 'carol', room: `r-${nanoid(6)}` });
    expect(transport).to.be.instanceOf(MemoryTransport);
    expect(await transport.connect()).to.deep.equal({ user: 'carol', name: undefined });
  });

  it('serves a ready video from the recorded bytes', async () => {
    const room = `r-${nanoid(6)}`;
    const alice = new MemoryTransport({ room, user: 'alice', processingDelay: 0 });
    const bytes = new Uint8Array(
      await (await fetch('/test-fixtures/video/sample.webm')).arrayBuffer(),
    );
    const video = await alice.upload('c1', new Blob([bytes], { type: 'video/webm' }), {
      clientId: nanoid(),
    });
    await waitUntil(async () => (await alice.getVideo('c1', video.id)).state === 'ready');
    const ready = await alice.getVideo('c1', video.id);
    expect(ready.mediaType).to.equal('file');
    const served = new Uint8Array(await (await fetch(ready.playlist!)).arrayBuffer());
    expect(served).to.deep.equal(bytes);
  });

  it('holds events while offline and delivers each once when back', async () => {
    const room = `r-${nanoid(6)}`;
    const alice = new MemoryTransport({ room, user: 'alice' });
    const bob = new MemoryTransport({ room, user: 'bob' });
    const events: ReelEvent[] = [];
    bob.subscribe('c1', (event) => events.push(event));
    await waitUntil(() => events.length === 1);
    MemoryTransport.setOnline(room, false);
    const first = await alice.sendMessage('c1', { clientId: nanoid(), text: 'one' });
    const second = await alice.sendMessage('c1', { clientId: nanoid(), text: 'two' });
    await waitUntil(() => events.some((e) => e.type === 'connection' && e.state === 'offline'));
    expect(events.filter((e) => e.type === 'message.created')).to.have.length(0);
    MemoryTransport.setOnline(room, true);
    await waitUntil(() => events.filter((e) => e.type === 'message.created').length === 2);
    const ids = events.flatMap((e) => (e.type === 'message.created' ? [e.message.id] : []));
    expect(ids).to.deep.equal([first.id, second.id]);
    expect(events.map((e) => (e.type === 'connection' ? e.state : e.type))).to.deep.equal([
      'online',
      'offline',
      'online',
      'message.created',
      'message.created',
    ]);
  });

  it('refuses calls after close', async () => {
    const transport = new MemoryTransport({ room: `r-${nanoid(6)}` });
    await transport.close();
    try {
      await transport.listMessages('c1');
      expect.fail('should throw');
    } catch (error) {
      expect((error as { code: string }).code).to.equal('aborted');
    }
  });
});
