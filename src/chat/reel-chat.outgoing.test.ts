// <reel-chat> with what this person sent that the backend has not confirmed: a take an earlier
// page left in the outbox (shown at once, sent once without the recorder), texts kept across a
// reload, and a network that drops while the server is up.
import { expect } from '@open-wc/testing';
import { nanoid } from 'nanoid';
import { Outbox } from '../outbox/outbox.js';
import { withTakeLock } from '../outbox/deliver.js';
import { ReelError } from '../transport/errors.js';
import { MemoryTransport } from '../transport/memory-transport.js';
import { waitUntil } from '../test-helpers/wait.js';
import './index.js';
import {
  CONVERSATION,
  newRoom,
  resetRooms,
  $,
  $$,
  texts,
  mount,
  place,
  sample,
  sendText,
  WrappedTransport,
} from './reel-chat.fixtures.js';

afterEach(resetRooms);

/** A take an earlier page recorded and chose to send, left in the outbox (its page went away). */
async function leftTake(name: string, user = 'alice'): Promise<string> {
  const previous = new Outbox({ name });
  const clientId = nanoid();
  await previous.begin({ clientId, conversation: CONVERSATION, type: 'video/mp4', user });
  await previous.append(clientId, await sample());
  await previous.finish(clientId, { duration: 2, send: true });
  return clientId;
}

async function messagesOf(room: string) {
  const reader = new MemoryTransport({ room, user: 'bob' });
  const page = await reader.listMessages(CONVERSATION, { limit: 100 });
  await reader.close();
  return page.items;
}

describe('<reel-chat> and what is not confirmed yet', () => {
  it('shows a take an earlier page left at once, and sends it once without opening the recorder', async () => {
    const room = newRoom();
    const name = `chat-left-${nanoid(6)}`;
    const clientId = await leftTake(name);
    const transport = new WrappedTransport(new MemoryTransport({ room, user: 'alice' }));
    let letGo = () => {};
    const uploading = new Promise<void>((resolve) => (letGo = resolve));
    transport.beforeUpload = () => uploading;

    const el = await mount({ user: 'alice', room, transport, outbox: new Outbox({ name }) });
    const row = () => $(el, `[data-id="take:${clientId}"]`);
    await waitUntil(() => row(), 'the take was not shown');
    expect(row()!.textContent).to.match(/Sending|Waiting/);
    expect($(el, '[part~="history"]')!.textContent).not.to.contain('No messages yet');
    await expect(el).to.be.accessible();
    expect($(el, 'reel-recorder')).to.equal(null);

    letGo();
    await waitUntil(() => !row(), 'the take’s row stayed', { timeout: 5000 });
    const sent = (await messagesOf(room)).filter((message) => message.clientId === clientId);
    expect(sent.length).to.equal(1);
    await waitUntil(() => $(el, `[data-id="${sent[0].id}"]`), 'the sent clip is not listed');
    // The message's live event may remove the row before the outbox's delete has committed.
    await waitUntil(
      async () => (await new Outbox({ name }).pending()).length === 0,
      'the take stayed in the outbox',
    );
    expect($(el, 'reel-recorder')).to.equal(null);
  });

  it('leaves a take another page holds to it, and sends it if that page lets go unsent', async () => {
    const room = newRoom();
    const name = `chat-held-${nanoid(6)}`;
    const clientId = await leftTake(name);
    const outbox = new Outbox({ name });
    let release = () => {};
    const held = withTakeLock(outbox, clientId, () => new Promise<void>((r) => (release = r)));
    const el = await mount({ user: 'alice', room, outbox });
    await waitUntil(() => $(el, `[data-id="take:${clientId}"]`), 'the held take was not shown');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await messagesOf(room)).to.deep.equal([]);
    release();
    await held;
    await waitUntil(async () => (await messagesOf(room)).length === 1, 'not sent once let go');
    await waitUntil(() => !$(el, `[data-id="take:${clientId}"]`), 'the row stayed');
    expect((await messagesOf(room)).length).to.equal(1);
  });

  it('keeps a text that failed offline across a reload and sends it once when back online', async () => {
    const room = newRoom();
    const name = `chat-texts-${nanoid(6)}`;
    let down = true;
    const failing = () => {
      const transport = new WrappedTransport(new MemoryTransport({ room, user: 'alice' }));
      transport.beforeSend = () => {
        if (down) throw new ReelError('network', 'The network is down.');
      };
      return transport;
    };
    const outbox = () => new Outbox({ name });
    const first = await mount({ user: 'alice', room, transport: failing(), outbox: outbox() });
    await sendText(first, 'written offline');
    await waitUntil(() => $(first, '[part~="status"]')?.textContent?.includes('Not sent'));
    await waitUntil(() => first.getAttribute('connection') === 'offline', 'no offline banner');
    expect($(first, '[part~="offline"]')!.textContent).to.contain('You are offline');
    await expect(first).to.be.accessible();
    window.dispatchEvent(new Event('offline'));
    first.remove();

    // The next page shows it at once, and sends it when the browser is online again.
    const second = await place({ user: 'alice', room, transport: failing(), outbox: outbox() });
    await waitUntil(() => texts(second).includes('written offline'), 'the kept text is not shown');
    expect(second.getAttribute('connection')).to.equal('offline');
    down = false;
    window.dispatchEvent(new Event('online'));
    await waitUntil(() => second.getAttribute('connection') === 'online', 'still offline');
    await waitUntil(() => $$(second, '[part~="status"]').length === 0, 'not confirmed');
    const sent = (await messagesOf(room)).filter((message) => message.text === 'written offline');
    expect(sent.length).to.equal(1);
    second.remove();

    // Confirmed, so not kept: a third page sends nothing again.
    const third = failing();
    const again = await mount({ user: 'alice', room, transport: third, outbox: outbox() });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(third.sends).to.equal(0);
    expect(texts(again)).to.deep.equal(['written offline']);
  });

  it('shows a network drop while the server is up as offline, and recovers by itself', async () => {
    const room = newRoom();
    const transport = new WrappedTransport(new MemoryTransport({ room, user: 'alice' }));
    transport.beforeSend = (_draft, call) => {
      if (call === 1) throw new ReelError('network', 'Cannot reach the server.');
    };
    const el = await mount({ user: 'alice', room, transport });
    await sendText(el, 'through a flaky network');
    await waitUntil(() => el.getAttribute('connection') === 'offline', 'no offline banner');
    // The next request that goes through (a probe within 2 s) brings it back and resends.
    await waitUntil(() => el.getAttribute('connection') === 'online', 'still offline', {
      timeout: 5000,
    });
    await waitUntil(() => $$(el, '[part~="status"]').length === 0, 'not resent');
    expect(transport.sends).to.equal(2);
    const sent = (await messagesOf(room)).filter((m) => m.text === 'through a flaky network');
    expect(sent.length).to.equal(1);
  });
});
