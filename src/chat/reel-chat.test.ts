// <reel-chat> with the memory transport: texts, pages, live delivery, sending. Videos, the reel
// and the recorder: reel-chat.video.test.ts.
import { expect } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { waitUntil } from '../test-helpers/wait.js';
import { MemoryTransport } from '../transport/memory-transport.js';
import { ReelError } from '../transport/errors.js';
import { linkify } from './linkify.js';
import './index.js';
import {
  CONVERSATION,
  newRoom,
  resetRooms,
  $,
  $$,
  texts,
  list,
  input,
  mount,
  pair,
  sendText,
  WrappedTransport,
  seed,
} from './reel-chat.fixtures.js';

afterEach(resetRooms);

describe('linkify', () => {
  it('links http(s) URLs only, leaving trailing punctuation out', () => {
    expect(linkify('see https://example.com/a?b=1. and (http://x.org/p) ok')).to.deep.equal([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { kind: 'text', text: '. and (' },
      { kind: 'link', text: 'http://x.org/p', href: 'http://x.org/p' },
      { kind: 'text', text: ') ok' },
    ]);
    expect(linkify('javascript:alert(1) data:text/html,x')).to.deep.equal([
      { kind: 'text', text: 'javascript:alert(1) data:text/html,x' },
    ]);
    expect(linkify('www.example.org')[0]).to.deep.equal({
      kind: 'link',
      text: 'www.example.org',
      href: 'https://www.example.org/',
    });
  });
});

describe('<reel-chat>', () => {
  it('delivers a text from one dialog to the other live, exactly once', async () => {
    const { alice, bob } = await pair();
    await sendText(alice, 'Hi Bob!');
    await waitUntil(() => texts(bob).includes('Hi Bob!'), 'bob did not get the message');
    await waitUntil(() => !$(alice, '[part~="status"]'), 'alice’s message stayed pending');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(texts(bob)).to.deep.equal(['Hi Bob!']);
    expect(texts(alice)).to.deep.equal(['Hi Bob!']);
    expect($(bob, '[part~="message-other"] [part~="author"]')!.textContent).to.equal('Alice');
    expect($(alice, '[part~="message-own"]')).to.not.equal(null);
    // The polite live region announces what arrived for Bob.
    expect($(bob, '[aria-live="polite"]')!.textContent).to.contain('Alice: Hi Bob!');
    expect(input(alice).value).to.equal('');
  });

  it('sends on Enter and makes a new line on Shift+Enter', async () => {
    const { alice, bob } = await pair();
    input(alice).focus();
    await sendKeys({ type: 'line one' });
    await sendKeys({ down: 'Shift' });
    await sendKeys({ press: 'Enter' });
    await sendKeys({ up: 'Shift' });
    await sendKeys({ type: 'line two' });
    expect(input(alice).value).to.equal('line one\nline two');
    expect(texts(alice)).to.deep.equal([]);
    await sendKeys({ press: 'Enter' });
    await waitUntil(() => texts(bob).length === 1);
    expect(texts(bob)[0]).to.equal('line one\nline two');
    expect(input(alice).value).to.equal('');
  });

  it('loads the newest page at the bottom, then older pages from the button and on scrolling up, keeping the position', async () => {
    const room = newRoom();
    await seed(room, 'bob', 45);
    const alice = await mount({ user: 'alice', room, pageSize: 20 });
    const box = list(alice);
    expect(texts(alice)).to.have.length(20);
    expect(texts(alice)[0]).to.equal('message 25');
    expect(texts(alice).at(-1)).to.equal('message 44');
    expect(box.scrollHeight - box.scrollTop - box.clientHeight).to.be.lessThan(2);

    const anchor = () =>
      $$(alice, '[part~="message"]').find((m) => m.textContent!.includes('message 25'))!;
    const offset = () => anchor().getBoundingClientRect().top - box.getBoundingClientRect().top;
    const before = offset();
    ($(alice, '[part~="load-older"]') as HTMLButtonElement).click();
    await waitUntil(() => texts(alice).length === 40, 'older page did not load');
    await alice.updateComplete;
    expect(texts(alice)[0]).to.equal('message 5');
    expect(Math.abs(offset() - before)).to.be.lessThan(2);

    box.scrollTop = 0;
    await waitUntil(() => texts(alice).length === 45, 'scrolling up did not load the rest');
    expect(texts(alice)[0]).to.equal('message 0');
    expect(box.scrollTop).to.be.greaterThan(0);
    await waitUntil(() => !$(alice, '[part~="load-older"]'));
    expect($(alice, '[part~="history"]')!.textContent).to.contain('beginning');
  });

  it('stays at the newest message when an entry grows after it was shown (a video box, its poster), but not while the person reads older ones', async () => {
    const room = newRoom();
    await seed(room, 'bob', 25);
    const alice = await mount({ user: 'alice', room });
    const box = list(alice);
    const fromBottom = () => box.scrollHeight - box.scrollTop - box.clientHeight;
    expect(fromBottom()).to.be.lessThan(2);
    const newest = $$(alice, '[part~="message"]').at(-1)!;
    newest.style.paddingBottom = '300px';
    await waitUntil(() => fromBottom() < 2, 'the newest message was pushed below the fold');

    box.scrollTop = 10;
    await waitUntil(() => box.scrollTop === 10);
    await new Promise((resolve) => setTimeout(resolve, 50));
    newest.style.paddingBottom = '600px';
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(box.scrollTop).to.equal(10);
  });

  it('does not jump while the person reads older messages: it shows a "new messages" pill', async () => {
    const room = newRoom();
    await seed(room, 'bob', 25);
    const { alice, bob } = await pair(room);
    const box = list(alice);
    box.scrollTop = 10;
    await waitUntil(() => box.scrollTop === 10);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sendText(bob, 'are you there?');
    await waitUntil(() => $(alice, '[part~="new-messages"]'), 'no pill');
    expect(box.scrollTop).to.equal(10);
    expect($(alice, '[part~="new-messages"]')!.textContent).to.contain('1 new message');
    $(alice, '[part~="new-messages"]')!.click();
    await alice.updateComplete;
    expect(box.scrollHeight - box.scrollTop - box.clientHeight).to.be.lessThan(2);
    expect($(alice, '[part~="new-messages"]')).to.equal(null);
  });

  it('shows an offline banner and catches up on reconnect with every missed message exactly once', async () => {
    const room = newRoom();
    const lossy = new WrappedTransport(new MemoryTransport({ room, user: 'alice' }));
    const alice = await mount({ user: 'alice', room, transport: lossy });
    const bob = await mount({ user: 'bob', room });
    await sendText(bob, 'before');
    await waitUntil(() => texts(alice).includes('before'));

    MemoryTransport.setOnline(room, false);
    await waitUntil(() => $(alice, '[part~="offline"]')!.textContent!.trim() !== '', 'no banner');
    expect($(alice, '[part~="offline"]')!.getAttribute('role')).to.equal('status');
    await waitUntil(() => $(bob, '[part~="offline"]')!.textContent!.trim() !== '');
    for (const text of ['one', 'two', 'three']) await sendText(bob, text);
    await waitUntil(() => texts(bob).length === 4);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(texts(alice)).to.deep.equal(['before']);

    MemoryTransport.setOnline(room, true);
    await waitUntil(() => texts(alice).length === 4, 'alice did not catch up');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(texts(alice)).to.deep.equal(['before', 'one', 'two', 'three']);
    expect($(alice, '[part~="offline"]')!.textContent!.trim()).to.equal('');
    // Bob got his own held events back as well as the replies: still each once.
    expect(texts(bob)).to.deep.equal(['before', 'one', 'two', 'three']);
  });

  it('shows a message as pending, then sent', async () => {
    const room = newRoom();
    let release!: () => void;
    const slow = new WrappedTransport(new MemoryTransport({ room, user: 'alice' }));
    slow.beforeSend = () => new Promise<void>((resolve) => (release = resolve));
    const alice = await mount({ user: 'alice', room, transport: slow });
    await sendText(alice, 'wait for it');
    await waitUntil(() => $(alice, '[part~="status"]'));
    expect($(alice, '[part~="status"]')!.textContent).to.equal('Sending…');
    expect(texts(alice)).to.deep.equal(['wait for it']);
    release();
    await waitUntil(() => !$(alice, '[part~="status"]'), 'still pending');
    expect(texts(alice)).to.deep.equal(['wait for it']);
  });

  it('marks a failed send and retries it with the same clientId, never doubling it', async () => {
    const room = newRoom();
    const flaky = new WrappedTransport(new MemoryTransport({ room, user: 'alice' }));
    const clientIds: string[] = [];
    flaky.beforeSend = (draft, call) => {
      clientIds.push(draft.clientId);
      if (call === 1) throw new ReelError('network', 'The network is down.');
    };
    const alice = await mount({ user: 'alice', room, transport: flaky });
    const bob = await mount({ user: 'bob', room });
    const errors: ReelError[] = [];
    alice.addEventListener('reel-error', (event) => errors.push(event.detail.error));
    await sendText(alice, 'second time lucky');
    await waitUntil(() => $(alice, '[part~="retry"]'), 'no retry button');
    expect($(alice, '[part~="status"]')!.textContent).to.equal('Not sent');
    expect(errors.map((error) => error.code)).to.deep.equal(['network']);
    $(alice, '[part~="retry"]')!.click();
    await waitUntil(() => texts(bob).length === 1);
    await waitUntil(() => !$(alice, '[part~="status"]'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(clientIds).to.have.length(2);
    expect(clientIds[0]).to.equal(clientIds[1]);
    expect(texts(alice)).to.deep.equal(['second time lucky']);
    expect(texts(bob)).to.deep.equal(['second time lucky']);
  });

  it('replaces a send whose answer was lost with the stored message, once', async () => {
    const room = newRoom();
    const inner = new MemoryTransport({ room, user: 'alice' });
    const lost = new WrappedTransport(inner);
    lost.sendMessage = async (conversation, draft) => {
      await inner.sendMessage(conversation, draft);
      throw new ReelError('network', 'The answer got lost.');
    };
    const alice = await mount({ user: 'alice', room, transport: lost });
    await sendText(alice, 'did it arrive?');
    await waitUntil(() => !$(alice, '[part~="status"]') && texts(alice).length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(texts(alice)).to.deep.equal(['did it arrive?']);
  });

  it('lets the host veto or edit a send through reel-request-send', async () => {
    const { alice, bob } = await pair();
    const veto = (event: Event) => event.preventDefault();
    alice.addEventListener('reel-request-send', veto);
    await sendText(alice, 'secret');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(texts(alice)).to.deep.equal([]);
    expect(input(alice).value).to.equal('secret');
    alice.removeEventListener('reel-request-send', veto);

    alice.addEventListener(
      'reel-request-send',
      (event) => {
        expect(event.cancelable).to.equal(true);
        expect(event.detail.conversation).to.equal(CONVERSATION);
        expect(event.detail.draft.clientId).to.match(/^[A-Za-z0-9_-]{21}$/);
        event.detail.draft.text = `${event.detail.draft.text} [edited]`;
      },
      { once: true },
    );
    $(alice, '[part~="send-button"]')!.click();
    await waitUntil(() => texts(bob).length === 1);
    expect(texts(bob)).to.deep.equal(['secret [edited]']);
  });

  it('shows markup as text and makes only http(s) links clickable', async () => {
    const { alice, bob } = await pair();
    await sendText(alice, '<img src=x onerror=alert(1)>');
    await waitUntil(() => texts(bob).length === 1);
    expect(texts(bob)[0]).to.equal('<img src=x onerror=alert(1)>');
    expect(bob.shadowRoot!.querySelector('img')).to.equal(null);

    await sendText(alice, 'docs at https://example.com/a?b=1. and javascript:alert(1)');
    await waitUntil(() => texts(bob).length === 2);
    const links = $$(bob, '[part~="text"] a');
    expect(links).to.have.length(1);
    expect(links[0].getAttribute('href')).to.equal('https://example.com/a?b=1');
    expect(links[0].getAttribute('target')).to.equal('_blank');
    expect(links[0].getAttribute('rel')).to.equal('noopener noreferrer');
    expect(texts(bob)[1]).to.equal('docs at https://example.com/a?b=1. and javascript:alert(1)');
  });
});
