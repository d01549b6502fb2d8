// <reel-chat> saying honestly what happened: a paste cut to the longest message (never
// splitting an emoji), an upload that stalls waits for the connection (a take of the outbox
// with a Cancel), one form of percentage, and no "Play all" of a buddy without clips
// (reel-chat.video.test.ts).
import { expect } from '@open-wc/testing';
import { nanoid } from 'nanoid';
import { Outbox } from '../outbox/outbox.js';
import { ReelError } from '../transport/errors.js';
import { MemoryTransport } from '../transport/memory-transport.js';
import type { ReelTransport } from '../transport/types.js';
import { waitUntil } from '../test-helpers/wait.js';
import './index.js';
import { cutToGraphemes } from './graphemes.js';
import { STALL_MS } from './stall-watch.js';
import {
  CONVERSATION,
  newRoom,
  resetRooms,
  $,
  input,
  mount,
  sample,
  WrappedTransport,
} from './reel-chat.fixtures.js';

afterEach(resetRooms);

function paste(field: HTMLTextAreaElement, text: string): boolean {
  const data = new DataTransfer();
  data.setData('text/plain', text);
  const event = new ClipboardEvent('paste', { bubbles: true, cancelable: true, composed: true });
  // Firefox drops `clipboardData` from the event's init: given as the browser would give it.
  Object.defineProperty(event, 'clipboardData', { value: data });
  return field.dispatchEvent(event);
}

describe('<reel-chat> honest states', () => {
  it('cuts a long paste to max-length at a whole emoji and says so', async () => {
    const el = await mount({ user: 'alice', room: newRoom() });
    const field = input(el);
    field.focus();
    // 3999 letters, then a thumbs-up with a skin tone (4 code units) that does not fit whole.
    const long = `${'a'.repeat(3999)}👍🏽${'b'.repeat(997)}`;
    expect(long.length).to.equal(5000);
    expect(paste(field, long)).to.equal(false);
    await el.updateComplete;
    expect(field.value).to.equal('a'.repeat(3999));
    expect($(el, '[part~="counter"]')!.textContent).to.contain(
      'The pasted text was cut to 4,000 characters',
    );
    await expect(el).to.be.accessible();
    // The next edit takes the notice away.
    field.value += '!';
    field.dispatchEvent(new Event('input', { bubbles: true }));
    await el.updateComplete;
    expect($(el, '[part~="counter"]')!.textContent).not.to.contain('cut');
  });

  it('lets a paste that fits through untouched', async () => {
    const el = await mount({ user: 'alice', room: newRoom() });
    expect(paste(input(el), 'short 👍🏽')).to.equal(true);
  });

  it('never splits a grapheme when cutting', () => {
    expect(cutToGraphemes('ab👍🏽c', 3)).to.equal('ab');
    expect(cutToGraphemes('ab👍🏽c', 6)).to.equal('ab👍🏽');
    expect(cutToGraphemes('e\u0301e\u0301', 3)).to.equal('e\u0301');
    expect(cutToGraphemes('short', 10)).to.equal('short');
  });
});

/** A link that takes an upload and never moves a byte; it stops when the upload is cancelled. */
class HungUploads extends WrappedTransport {
  aborted = 0;
  override upload(...[, , options]: Parameters<ReelTransport['upload']>) {
    const cancelled = () => new ReelError('aborted', 'The upload was cancelled.');
    if (options.signal?.aborted) return Promise.reject(cancelled());
    return new Promise<never>((_, reject) =>
      options.signal?.addEventListener('abort', () => {
        this.aborted++;
        reject(cancelled());
      }),
    );
  }
}

/** A take an earlier page chose to send, left in the outbox `name`. */
async function leftTake(name: string): Promise<string> {
  const previous = new Outbox({ name });
  const clientId = nanoid();
  await previous.begin({ clientId, conversation: CONVERSATION, type: 'video/mp4', user: 'alice' });
  await previous.append(clientId, await sample());
  await previous.finish(clientId, { duration: 2, send: true });
  return clientId;
}

describe('<reel-chat> an upload that stalls', function () {
  this.timeout(STALL_MS * 3);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it("says the recorder's take waits for the connection, and its percentage when bytes move again", async () => {
    const el = await mount({ user: 'alice', room: newRoom() });
    ($(el, '[part~="record-button"]') as HTMLButtonElement).click();
    await waitUntil(() => $(el, 'reel-recorder'));
    // The recorder's progress, as it reports it (reel-chat.video.test.ts).
    const fire = (sent: number) =>
      $(el, 'reel-recorder')!.dispatchEvent(
        new CustomEvent('reel-upload-progress', {
          detail: { sent, total: 200 },
          bubbles: true,
          composed: true,
        }),
      );
    fire(50);
    const row = () => $(el, '[data-id="upload"]')!;
    await waitUntil(() => row()?.textContent?.includes('Sending… 25%'), 'no percentage');
    await sleep(STALL_MS - 1500);
    expect(row().textContent).to.contain('Sending… 25%');
    await waitUntil(() => row().textContent?.includes('Waiting for connection…'), 'not waiting', {
      timeout: 3000,
    });
    // The recorder's own take has its Cancel in the recorder.
    expect(row().querySelector('[part~="cancel-upload"]')).to.equal(null);
    fire(126);
    await waitUntil(() => row().textContent?.includes('Sending… 63%'), 'not moving again');
  });

  it('shows a stalled take of the outbox waiting, with a Cancel that stops it and sends nothing', async () => {
    const room = newRoom();
    const name = `chat-stalled-${nanoid(6)}`;
    const clientId = await leftTake(name);
    const transport = new HungUploads(new MemoryTransport({ room, user: 'alice' }));
    const el = await mount({ user: 'alice', room, transport, outbox: new Outbox({ name }) });
    const row = () => $(el, `[data-id="take:${clientId}"]`);
    await waitUntil(() => row(), 'the take was not shown');
    expect(row()!.textContent).to.contain('Sending… 0%');
    await waitUntil(() => row()!.textContent?.includes('Waiting for connection…'), 'not waiting', {
      timeout: STALL_MS + 2000,
    });
    const cancel = row()!.querySelector<HTMLButtonElement>('[part~="cancel-upload"]')!;
    expect(cancel.textContent!.trim()).to.equal('Cancel');
    await expect(el).to.be.accessible();
    cancel.click();
    await waitUntil(() => !row(), 'the row stayed');
    await waitUntil(
      async () => (await new Outbox({ name }).pending()).length === 0,
      'the take stayed in the outbox',
    );
    expect(transport.aborted).to.equal(1);
    const reader = new MemoryTransport({ room, user: 'bob' });
    expect((await reader.listMessages(CONVERSATION)).items).to.deep.equal([]);
    await reader.close();
  });

  it('writes a percentage as the language does', async () => {
    const room = newRoom();
    const name = `chat-fr-${nanoid(6)}`;
    const clientId = await leftTake(name);
    const transport = new HungUploads(new MemoryTransport({ room, user: 'alice' }));
    const before = document.documentElement.lang;
    document.documentElement.lang = 'fr';
    try {
      const el = await mount({ user: 'alice', room, transport, outbox: new Outbox({ name }) });
      const row = () => $(el, `[data-id="take:${clientId}"]`);
      // Intl's French: a no-break space before the sign (narrow in newer ICU data).
      await waitUntil(() => /Envoi… 0\s%/.test(row()?.textContent ?? ''), 'not in French');
    } finally {
      document.documentElement.lang = before;
    }
  });
});
