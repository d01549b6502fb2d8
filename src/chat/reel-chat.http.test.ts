// <reel-chat> against the real reference server (started by the test runner) through the
// http transport: what a person sees when the server limits how fast they may send.
import { expect, fixture, html } from '@open-wc/testing';
import { waitUntil } from '../test-helpers/wait.js';
import { nanoid } from 'nanoid';
import sinon from 'sinon';
import { ReelError } from '../transport/errors.js';
import { HttpTransport } from '../transport/http/http-transport.js';
import './index.js';
import type { ReelChat } from './reel-chat.js';
import { chatStrings } from './strings.js';

/** A reference server of its own with these REELCHAT_* settings (web-test-runner.config.mjs). */
async function server(env?: Record<string, string>): Promise<string> {
  const query = env ? `?${new URLSearchParams({ env: JSON.stringify(env) })}` : '';
  return ((await (await fetch(`/__reelchat/server.json${query}`)).json()) as { url: string }).url;
}

/** A proxy before the main server with one rule (scripts/fault-proxy.mjs); its URL. */
async function faulty(id: string, rule: Record<string, string>): Promise<string> {
  await fetch(`/__reelchat/faults?${new URLSearchParams({ id, clear: '1' })}`);
  const response = await fetch(`/__reelchat/faults?${new URLSearchParams({ id, ...rule })}`);
  return ((await response.json()) as { url: string }).url;
}

async function devToken(endpoint: string, user: string, conversation: string): Promise<string> {
  const query = new URLSearchParams({ user, name: 'Alice', conversations: conversation });
  return ((await (await fetch(`${endpoint}/v1/dev/token?${query}`)).json()) as { token: string })
    .token;
}

/**
 * A chat for a fresh user (limits are per user) in a fresh conversation, ready to send;
 * `via` another URL for the chat's requests, `deaf` to keep message events from it.
 */
async function chat(endpoint: string, via = endpoint, deaf = false) {
  const conversation = `ch-${nanoid(8)}`;
  const token = await devToken(endpoint, `u${nanoid(8)}`, conversation);
  const http = new HttpTransport({ endpoint: via, token });
  const transport = deaf
    ? Object.assign(Object.create(http) as HttpTransport, {
        subscribe: (c: string, onEvent: Parameters<HttpTransport['subscribe']>[1]) =>
          http.subscribe(c, (event) => event.type !== 'message.created' && onEvent(event)),
      })
    : http;
  const direct = new HttpTransport({ endpoint, token });
  const el = await fixture<ReelChat>(html`
    <reel-chat
      .transport=${transport}
      conversation=${conversation}
      buddy="bob"
      style="height: 420px; width: 380px"
    ></reel-chat>
  `);
  await waitUntil(() => el.getAttribute('connection') === 'online', 'the chat connects', {
    timeout: 10_000,
  });
  const errors: ReelError[] = [];
  el.addEventListener('reel-error', (event) => errors.push(event.detail.error));
  return { el, conversation, transport, direct, errors };
}

const $ = (el: ReelChat, selector: string) => el.shadowRoot!.querySelector<HTMLElement>(selector);
const $$ = (el: ReelChat, selector: string) => [
  ...el.shadowRoot!.querySelectorAll<HTMLElement>(selector),
];
const texts = (el: ReelChat) => $$(el, '[part~="text"]').map((node) => node.textContent ?? '');
const statuses = (el: ReelChat) =>
  $$(el, '[part~="status"]').map((node) => node.textContent?.trim() ?? '');

async function send(el: ReelChat, text: string): Promise<void> {
  const input = $(el, '[part~="input"]') as HTMLTextAreaElement;
  input.value = text;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  await el.updateComplete;
  ($(el, '[part~="send-button"]') as HTMLButtonElement).click();
  await el.updateComplete;
}

describe('<reel-chat> and the server’s limits (http)', function () {
  this.timeout(60_000);
  afterEach(() => sinon.restore());

  it('shows a message the server rate-limits as sending until it goes, then once', async () => {
    const endpoint = await server({
      REELCHAT_RATE_MESSAGES_BURST: '1',
      REELCHAT_RATE_MESSAGES_PER_MINUTE: '60',
    });
    const { el, conversation, direct, errors } = await chat(endpoint);
    const calls = sinon.spy(window, 'fetch');
    await send(el, 'one');
    await send(el, 'two');
    // The server said "wait" to the second: it stays "sending…", never "not sent". Both go at
    // once, so the refusal can come back before the first one's answer: wait for both.
    await waitUntil(async () => {
      const answers = await Promise.allSettled(calls.returnValues);
      const refused = answers.some((a) => a.status === 'fulfilled' && a.value.status === 429);
      return refused && statuses(el).length < 2;
    }, 'the server refused one for now and took the other');
    expect(statuses(el)).to.deep.equal([chatStrings.pending]);
    expect($(el, '[part~="retry"]')).to.equal(null);
    await waitUntil(() => statuses(el).length === 0, 'both are sent', { timeout: 10_000 });
    expect(texts(el)).to.deep.equal(['one', 'two']);
    expect(errors).to.deep.equal([]);
    const stored = (await direct.listMessages(conversation)).items;
    expect(stored.map((message) => message.text)).to.deep.equal(['one', 'two']);
    await direct.close();
  });

  it('shows a final refusal as not sent, with the server’s message and a retry button', async () => {
    const endpoint = await server({
      REELCHAT_RATE_MESSAGES_BURST: '1',
      REELCHAT_RATE_MESSAGES_PER_MINUTE: '1',
    });
    const { el, conversation, direct, errors } = await chat(endpoint);
    await send(el, 'one');
    await waitUntil(() => statuses(el).length === 0, 'the first is sent');
    await send(el, 'two');
    await waitUntil(() => $(el, '[part~="retry"]'), 'the second is refused', { timeout: 5000 });
    const [status] = statuses(el);
    expect(status.startsWith(`${chatStrings.failed}: `), status).to.equal(true);
    expect(status).to.match(/too many messages/i);
    expect(errors.map((error) => error.code)).to.deep.equal(['quota-exceeded']);
    expect(errors[0].retryAfter).to.be.greaterThan(30_000);
    expect(texts(el)).to.deep.equal(['one', 'two']);
    expect((await direct.listMessages(conversation)).items.map((m) => m.text)).to.deep.equal([
      'one',
    ]);
    await expect(el).to.be.accessible();
    await direct.close();
  });

  it('retries a message whose answer was lost: the server keeps it once, the list shows it once', async () => {
    // A gateway that lets the server store the message, then answers 503 with a long wait.
    const via = await faulty('chat-lost', {
      method: 'POST',
      path: '/v1/conversations/',
      status: '503',
      mode: 'lose',
      retryAfter: '120',
    });
    // Without message events, only the retry's answer can tell the chat it was sent.
    const { el, conversation, direct } = await chat(await server(), via, true);
    await send(el, 'are you there?');
    await waitUntil(() => $(el, '[part~="retry"]'), 'the send fails', { timeout: 5000 });
    expect(statuses(el)).to.deep.equal([chatStrings.failed]);
    $(el, '[part~="retry"]')!.click();
    await waitUntil(() => statuses(el).length === 0, 'the retry is answered');
    expect(texts(el)).to.deep.equal(['are you there?']);
    const stored = (await direct.listMessages(conversation)).items;
    expect(stored.map((message) => message.text)).to.deep.equal(['are you there?']);
    await direct.close();
  });
});
