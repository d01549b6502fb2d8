import { expect, fixture, html } from '@open-wc/testing';
import { waitUntil } from '../test-helpers/wait.js';
import { emulateMedia } from '@web/test-runner-commands';
import { nanoid } from 'nanoid';
import { MemoryTransport } from '../transport/memory-transport.js';
import './index.js';
import type { ReelChat } from './reel-chat.js';

// <reel-chat> in other languages and right to left (issue 15): which language, when it
// changes, the host's overrides, the mirrored layout, and axe in dark mode, at 320 px, in RTL.

const CONVERSATION = 'c1';
const rooms: string[] = [];
afterEach(async () => {
  for (const room of rooms.splice(0)) MemoryTransport.resetRoom(room);
  await emulateMedia({ colorScheme: 'light' });
});

const $ = (el: ReelChat, selector: string) => el.shadowRoot!.querySelector<HTMLElement>(selector)!;
const placeholder = (el: ReelChat) => ($(el, '[part~="input"]') as HTMLTextAreaElement).placeholder;

async function ready(el: ReelChat): Promise<ReelChat> {
  await waitUntil(
    () =>
      el.getAttribute('connection') === 'online' &&
      $(el, '[part~="list"]').getAttribute('aria-busy') === 'false',
    'the chat did not become ready',
  );
  return el;
}

function chat(user: string, room: string, width = 380): ReelChat {
  const el = document.createElement('reel-chat');
  el.transport = 'memory';
  el.room = room;
  el.conversation = CONVERSATION;
  el.user = user;
  el.userName = user[0].toUpperCase() + user.slice(1);
  el.buddy = user === 'alice' ? 'bob' : 'alice';
  el.style.cssText = `height: 420px; width: ${width}px`;
  return el;
}

/** Alice's chat inside `wrapper` (a page region with its own lang/dir, or none). */
async function mount(
  attrs: { lang?: string; dir?: string; width?: number; wrapperLang?: string } = {},
) {
  const room = `i18n-${nanoid(8)}`;
  rooms.push(room);
  const wrapper = await fixture<HTMLDivElement>(html`<div></div>`);
  if (attrs.wrapperLang) wrapper.lang = attrs.wrapperLang;
  const el = chat('alice', room, attrs.width);
  if (attrs.lang) el.lang = attrs.lang;
  if (attrs.dir) el.dir = attrs.dir;
  wrapper.append(el);
  return { el: await ready(el), room, wrapper };
}

/** A message from Bob and a video message from Bob, so there is something to read. */
async function fill(room: string, alice: ReelChat): Promise<void> {
  const bob = new MemoryTransport({ room, user: 'bob', processingDelay: 20 });
  await bob.sendMessage(CONVERSATION, { clientId: nanoid(), text: 'hello https://example.com' });
  const blob = await (await fetch('/test-fixtures/video/sample.mp4')).blob();
  const clientId = nanoid();
  const video = await bob.upload(CONVERSATION, blob, { clientId, type: 'video/mp4', duration: 2 });
  await bob.sendMessage(CONVERSATION, { clientId, video: video.id });
  await waitUntil(() => $(alice, '[part~="play-button"]') && $(alice, '[part~="badge"]'));
}

describe('<reel-chat> languages', () => {
  it('speaks the language of its lang attribute', async () => {
    const { el } = await mount({ lang: 'de' });
    await waitUntil(() => placeholder(el) === 'Nachricht schreiben …', placeholder(el));
    expect($(el, '[part~="send-button"]').textContent!.trim()).to.equal('Senden');
    expect($(el, '[part~="base"]').getAttribute('lang')).to.equal('de');
  });

  it("else the nearest ancestor's, else the document's", async () => {
    const { el } = await mount({ wrapperLang: 'fr' });
    await waitUntil(() => placeholder(el) === 'Écrivez un message…', placeholder(el));

    const before = document.documentElement.lang;
    try {
      document.documentElement.lang = 'ja';
      const other = await mount();
      await waitUntil(() => placeholder(other.el) === 'メッセージを入力…', placeholder(other.el));
    } finally {
      document.documentElement.lang = before;
    }
  });

  it('falls back by language, then to English', async () => {
    const pt = await mount({ lang: 'pt-PT' });
    await waitUntil(() => placeholder(pt.el) === 'Escreva uma mensagem…', placeholder(pt.el));
    const zh = await mount({ lang: 'zh-SG' });
    await waitUntil(() => placeholder(zh.el) === '输入消息…', placeholder(zh.el));
    const ru = await mount({ lang: 'ru' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(placeholder(ru.el)).to.equal('Write a message…');
  });

  it('keeps the strings property over the language table', async () => {
    const { el } = await mount({ lang: 'es' });
    el.strings = { send: 'Mandar' };
    await waitUntil(() => placeholder(el) === 'Escribe un mensaje…', placeholder(el));
    expect($(el, '[part~="send-button"]').textContent!.trim()).to.equal('Mandar');
  });

  it('re-renders when its lang or an ancestor lang changes at runtime', async () => {
    const { el, wrapper } = await mount({ wrapperLang: 'de' });
    await waitUntil(() => placeholder(el) === 'Nachricht schreiben …', placeholder(el));
    wrapper.lang = 'es';
    await waitUntil(() => placeholder(el) === 'Escribe un mensaje…', placeholder(el));
    el.lang = 'zh-Hans';
    await waitUntil(() => placeholder(el) === '输入消息…', placeholder(el));
    el.removeAttribute('lang');
    await waitUntil(() => placeholder(el) === 'Escribe un mensaje…', placeholder(el));
  });

  it('counts in the plural form of the language (the new-clips badge)', async () => {
    const { el, room } = await mount({ lang: 'ar' });
    await fill(room, el);
    await waitUntil(() => $(el, '[part~="badge"]').textContent!.trim() === 'مقطع جديد');
  });

  it('mirrors the layout right to left in Arabic; dir on the page works too', async () => {
    const ltr = await mount({ lang: 'en' });
    const rtl = await mount({ lang: 'ar' });
    await waitUntil(() => placeholder(rtl.el) === 'اكتب رسالة…');
    const base = $(rtl.el, '[part~="base"]');
    expect(base.getAttribute('dir')).to.equal('rtl');
    expect(getComputedStyle($(rtl.el, '[part~="input"]')).direction).to.equal('rtl');
    // The record button starts the composer: left in English, right in Arabic.
    const x = (el: ReelChat, part: string) => {
      const host = el.getBoundingClientRect();
      const box = $(el, `[part~="${part}"]`).getBoundingClientRect();
      return (box.left + box.right) / 2 - host.left;
    };
    expect(x(ltr.el, 'record-button')).to.be.below(x(ltr.el, 'send-button'));
    expect(x(rtl.el, 'record-button')).to.be.above(x(rtl.el, 'send-button'));
    const width = rtl.el.getBoundingClientRect().width;
    expect(x(rtl.el, 'record-button')).to.be.closeTo(width - x(ltr.el, 'record-button'), 2);

    const page = await mount({ dir: 'rtl' });
    await waitUntil(() => $(page.el, '[part~="base"]').getAttribute('dir') === 'rtl');
    expect(x(page.el, 'record-button')).to.be.above(x(page.el, 'send-button'));
  });

  it('passes its language down to the recorder it opens, also when it changes', async () => {
    const { el } = await mount({ lang: 'ar' });
    ($(el, '[part~="record-button"]') as HTMLButtonElement).click();
    const recorder = () =>
      el.shadowRoot!.querySelector('reel-recorder')?.shadowRoot?.querySelector('[part~="base"]');
    await waitUntil(() => recorder()?.getAttribute('dir') === 'rtl', 'no RTL recorder', {
      timeout: 10_000,
    });
    expect(recorder()!.getAttribute('aria-label')).to.equal('مسجّل الفيديو');
    el.lang = 'fr';
    await waitUntil(() => recorder()!.getAttribute('aria-label') === 'Enregistreur vidéo');
    expect(recorder()!.getAttribute('dir')).to.equal('ltr');
  });

  it('is accessible in dark mode, at 320 px and right to left', async () => {
    await emulateMedia({ colorScheme: 'dark' });
    const dark = await mount();
    await fill(dark.room, dark.el);
    expect(matchMedia('(prefers-color-scheme: dark)').matches).to.equal(true);
    await expect(dark.el).to.be.accessible();
    await emulateMedia({ colorScheme: 'light' });

    const narrow = await mount({ width: 320 });
    await fill(narrow.room, narrow.el);
    await expect(narrow.el).to.be.accessible();

    const rtl = await mount({ lang: 'ar', width: 320 });
    await fill(rtl.room, rtl.el);
    await waitUntil(() => placeholder(rtl.el) === 'اكتب رسالة…');
    await expect(rtl.el).to.be.accessible();
    ($(rtl.el, '[part~="play-all"]') as HTMLButtonElement).click();
    await waitUntil(() => $(rtl.el, '[part~="reel"]'));
    // The dialog behind the open sheet is out of the tab order and the accessibility tree.
    expect($(rtl.el, '.main').inert).to.equal(true);
    await expect(rtl.el).to.be.accessible();
  });
});
