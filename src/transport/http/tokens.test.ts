// Tokens that fit anyone, against the real reference server: each element asks getToken for
// its own conversation, so a person in 10,000 conversations chats with small tokens; a token
// too large for the server's headers gets an error that says so.
import { expect, fixture, html } from '@open-wc/testing';
import { nanoid } from 'nanoid';
import { waitUntil } from '../../test-helpers/wait.js';
import '../../chat/index.js';
import type { ReelChat } from '../../chat/reel-chat.js';
import { ReelError } from '../errors.js';
import type { TokenRequest } from '../types.js';
import { HttpTransport } from './http-transport.js';

/** The reference server the test runner started (web-test-runner.config.mjs). */
async function server(): Promise<string> {
  const response = await fetch('/__reelchat/server.json');
  return ((await response.json()) as { url: string }).url;
}

/** The dev token route's token for one person in one conversation. */
async function tokenFor(endpoint: string, user: string, conversation: string): Promise<string> {
  const query = new URLSearchParams({ user, conversation });
  const response = await fetch(`${endpoint}/v1/dev/token?${query}`);
  expect(response.status, await response.clone().text()).to.equal(200);
  return ((await response.json()) as { token: string }).token;
}

const $ = (el: ReelChat, selector: string) => el.shadowRoot!.querySelector<HTMLElement>(selector);
const texts = (el: ReelChat) =>
  [...el.shadowRoot!.querySelectorAll('[part~="text"]')].map((node) => node.textContent ?? '');

async function send(el: ReelChat, text: string): Promise<void> {
  const input = $(el, '[part~="input"]') as HTMLTextAreaElement;
  input.value = text;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  await el.updateComplete;
  ($(el, '[part~="send-button"]') as HTMLButtonElement).click();
}

describe('tokens for one conversation (http, reference server)', function () {
  this.timeout(60_000);

  it('a person in 10,000 conversations chats with a token per conversation, each under 2 KB', async () => {
    const endpoint = await server();
    const tag = nanoid(6).replace(/[^A-Za-z0-9]/g, 'x');
    const conversations = Array.from({ length: 10_000 }, (_, i) => `c${i}-${tag}`);
    // One token naming all of them would be far past any header limit.
    expect(JSON.stringify(conversations).length).to.be.above(100_000);
    const alice = `alice-${tag}`;
    const bob = `bob-${tag}`;
    const asked: { element: string; request: TokenRequest; bytes: number }[] = [];
    const chat = async (element: string, user: string, conversation: string) => {
      const el = document.createElement('reel-chat');
      el.setAttribute('transport', 'http');
      el.setAttribute('endpoint', endpoint);
      el.setAttribute('conversation', conversation);
      el.setAttribute('buddy', user === alice ? bob : alice);
      el.getToken = async (request) => {
        const token = await tokenFor(endpoint, user, request.conversation!);
        asked.push({ element, request, bytes: new Blob([token]).size });
        return token;
      };
      el.style.cssText = 'height: 300px; width: 320px';
      document.body.append(el);
      await waitUntil(() => el.getAttribute('connection') === 'online', `${element} connects`);
      return el;
    };
    const shared = conversations[7777]!;
    const other = conversations[4242]!;
    const aliceHere = await chat('alice here', alice, shared);
    const aliceThere = await chat('alice there', alice, other);
    const bobHere = await chat('bob here', bob, shared);
    try {
      await send(aliceHere, 'hello from one of ten thousand');
      await waitUntil(
        () => texts(bobHere).includes('hello from one of ten thousand'),
        'Bob sees the text',
      );
      expect(texts(aliceHere)).to.include('hello from one of ten thousand');
      expect(texts(aliceThere)).to.not.include('hello from one of ten thousand');

      // Each element asked for its own conversation, for the API and for its event stream.
      const conversationOf: Record<string, string> = {
        'alice here': shared,
        'alice there': other,
        'bob here': shared,
      };
      for (const { element, request } of asked) {
        expect(request.conversation, element).to.equal(conversationOf[element]);
      }
      const purposes = new Set(asked.map(({ request }) => request.purpose));
      expect([...purposes]).to.include.members(['api', 'events']);
      expect(Math.max(...asked.map(({ bytes }) => bytes))).to.be.below(2048);
      // Tokens are kept per conversation and purpose, not asked for on every request.
      expect(asked.length).to.be.at.most(3 * 4);
    } finally {
      for (const el of [aliceHere, aliceThere, bobHere]) el.remove();
    }
  });

  it('a 40 KB token gets an error that says the limit and what to do', async () => {
    const endpoint = await server();
    const huge = `eyJhbGciOiJIUzI1NiJ9.${'A'.repeat(40 * 1024)}.c2ln`;
    const refused = await new HttpTransport({ endpoint, token: huge }).connect().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(ReelError);
    const error = refused as ReelError;
    expect(error.code).to.equal('too-large');
    expect(error.status).to.equal(431);
    expect(error.message).to.match(/16 KB/);
    expect(error.message).to.match(/sign a token for\s+just the conversation/i);

    const el = await fixture<ReelChat>(html`
      <reel-chat
        transport="http"
        endpoint=${endpoint}
        conversation="c42"
        buddy="bob"
        .getToken=${() => huge}
      ></reel-chat>
    `);
    await waitUntil(() => $(el, '[part~="error"]'), 'the chat shows the problem');
    expect($(el, '[part~="error"]')!.textContent).to.match(/16 KB[\s\S]*conversation/);
  });

  it('a user attribute that names someone else than the token is a visible error', async () => {
    const endpoint = await server();
    const el = await fixture<ReelChat>(html`
      <reel-chat
        transport="http"
        endpoint=${endpoint}
        conversation="c42"
        user="bob"
        buddy="carol"
        .getToken=${() => tokenFor(endpoint, 'alice', 'c42')}
      ></reel-chat>
    `);
    await waitUntil(() => $(el, '[part~="error"]'), 'the chat shows the problem');
    expect($(el, '[part~="error"]')!.textContent).to.contain(
      'The token is for "alice", but the element\'s user attribute says "bob".',
    );
  });

  it('a getToken that resolves to JSON or a header value is told to give the bare token', async () => {
    const endpoint = await server();
    for (const wrong of ['{"token":"abc"}', 'Bearer abc']) {
      const error = await new HttpTransport({ endpoint, getToken: () => wrong }).connect().then(
        () => undefined,
        (e: unknown) => e as ReelError,
      );
      expect(error?.code, wrong).to.equal('unauthorized');
      expect(error?.message, wrong).to.match(/bare token/);
    }
  });
});
