// The people of the end-to-end tests: each with a browser of their own on the demo page of
// the real server, and what they do there (send, record, wait for a text). Queries go
// through shadow roots in the page (`helpers()`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Engine, EngineBrowser } from '../scripts/browsers.mjs';
import { openBrowser } from '../scripts/browsers.mjs';
import { startReferenceServer } from '../scripts/reference-server.mjs';

/** The browsers opened so far (closed by `closeAll`, or by the suite's `after`). */
export const browsers: EngineBrowser[] = [];
/** The server's URL (the suite sets it once the server listens; a restart may change it). */
export const site = { url: '' };

/** The suite's demo server: its data folder, and the server running on it (a test may restart it). */
export interface DemoSite {
  readonly dataDir: string;
  server: Awaited<ReturnType<typeof startReferenceServer>>;
}

/**
 * The demo on the real server for one suite (`npm start`'s, in a data folder of its own):
 * started before the suite and `site.url` set; after it, every browser closed, the server
 * stopped and its folder removed.
 */
export function demoSite(name: string): DemoSite {
  const demo = { dataDir: mkdtempSync(join(tmpdir(), `reelchat-e2e-${name}-`)) } as DemoSite;
  before(async () => {
    demo.server = await startReferenceServer({ dataDir: demo.dataDir, args: ['--demo'] });
    site.url = demo.server.url;
  });
  after(async () => {
    await Promise.all(browsers.map((browser) => browser.close()));
    await demo.server?.stop();
    rmSync(demo.dataDir, { recursive: true, force: true });
  });
  return demo;
}

/** What the page's functions below may use (as `helpers()`): queries through shadow roots. */
export interface Helpers {
  /**
   * Elements matching the last selector inside those matching the one before, and so on, each
   * looked for in light and open shadow trees below (as Playwright's descendant combinator).
   */
  all(...chain: string[]): Element[];
  one(...chain: string[]): Element | null;
  /** Whether the element is there and shown. */
  visible(element: Element | null): boolean;
  /** The text of every message in the chat. */
  texts(): string[];
  reelEvents: { type: string; detail: { index: number; id: string } | null }[];
}
/** In the page (the setup in `open` defines it there); declared here for the types. */
export const helpers = () => (window as unknown as { e2e: Helpers }).e2e;

/**
 * One person's browser with only their own dialog, as on a real site; takes sent when done
 * (the library's default) unless `live` (the demo shares them live).
 */
export async function open(
  engine: Engine,
  user: 'alice' | 'bob',
  conversation: string,
  { live = false } = {},
) {
  const browser = await openBrowser(engine);
  browsers.push(browser);
  const page = await browser.newPage();
  const query = new URLSearchParams({ as: user, conversation, ...(live ? {} : { live: 'off' }) });
  await page.goto(`${site.url}/?${query}`);
  await page.waitFor(() => !!customElements.get('reel-chat'), undefined, {
    message: `[${user}] the library did not load`,
  });
  // Everything reelchat fires bubbles to the document: keep a log the test can read.
  await page.evaluate(() => {
    const below = (selector: string, root: Element | Document | ShadowRoot): Element[] => {
      const found: Element[] = [];
      const scopes: (Element | Document | ShadowRoot)[] = [root];
      if (root instanceof Element && root.shadowRoot) scopes.push(root.shadowRoot);
      for (const scope of scopes) {
        found.push(...scope.querySelectorAll(selector));
        for (const element of scope.querySelectorAll('*'))
          if (element.shadowRoot) found.push(...below(selector, element.shadowRoot));
      }
      return [...new Set(found)];
    };
    const all = (...chain: string[]) =>
      chain.reduce<Element[]>(
        (roots, selector) => [...new Set(roots.flatMap((root) => below(selector, root)))],
        [document as unknown as Element],
      );
    const log: Helpers['reelEvents'] = [];
    const e2e: Helpers = {
      all,
      one: (...chain) => all(...chain)[0] ?? null,
      // As Playwright has it: rendered, and not of zero size.
      visible: (element) => {
        const box = element?.isConnected ? element.getBoundingClientRect() : undefined;
        return !!box && box.width > 0 && box.height > 0 && element!.checkVisibility();
      },
      texts: () =>
        all('reel-chat', '[part~="text"]').map((element) => element.textContent?.trim() ?? ''),
      reelEvents: log,
    };
    // `helpers()` in the functions this test runs in the page.
    Object.assign(window, { e2e, helpers: () => e2e });
    // A dialog would mean script ran from a message.
    window.alert = () => log.push({ type: 'dialog', detail: null });
    for (const type of ['reel-clip-change', 'reel-clip-watched', 'reel-ended', 'reel-error']) {
      document.addEventListener(type, (event) => {
        const detail = (event as CustomEvent).detail as Record<string, unknown>;
        log.push({
          type,
          detail:
            type === 'reel-clip-change' || type === 'reel-clip-watched'
              ? { index: detail.index as number, id: (detail.clip as { id: string }).id }
              : null,
        });
      });
    }
  });
  await page.waitFor(() => helpers().one('reel-chat', '[part~="input"]'), undefined, {
    message: `[${user}] no message input`,
  });
  return { browser, page, user };
}

export type Person = Awaited<ReturnType<typeof open>>;

export async function send({ page }: Person, text: string): Promise<void> {
  await page.type(() => helpers().one('reel-chat', '[part~="input"]'), undefined, `${text}\n`);
}

export async function countText({ page }: Person, text: string): Promise<number> {
  return (await page.evaluate(() => helpers().texts())).filter((t) => t === text).length;
}

export async function waitForText({ page, user }: Person, text: string, timeout = 20_000) {
  await page.waitFor(
    (text) =>
      helpers()
        .texts()
        .some((t) => t.includes(text)),
    text,
    {
      timeout,
      message: `[${user}] "${text}" did not arrive`,
    },
  );
}

export async function recordClip({ page, user }: Person, seconds: number): Promise<void> {
  await page.click(() =>
    helpers().one('reel-chat', '[part~="composer"]', '[part~="record-button"]'),
  );
  const state = (wanted: string) =>
    page
      .waitFor((wanted) => helpers().one(`reel-recorder[state="${wanted}"]`), wanted, {
        timeout: 15_000,
      })
      .catch(async () => {
        const states = await page.evaluate(() =>
          helpers()
            .all('reel-recorder')
            .map((recorder) => recorder.getAttribute('state')),
        );
        throw new Error(`[${user}] the recorder did not reach ${wanted}: ${states.join(', ')}`);
      });
  const press = (name: string) =>
    page.click((name) => helpers().one('reel-recorder', `[part~="${name}"]`), name);
  await state('previewing');
  await press('record-button');
  await state('recording');
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  await press('stop-button');
  await state('reviewing');
  await press('send-button');
  // The chat closes the recorder once the clip is uploaded and its message sent.
  await page.waitFor(() => !helpers().visible(helpers().one('reel-recorder')), undefined, {
    timeout: 30_000,
    message: `[${user}] the recorder did not close after sending`,
  });
}

export async function closeAll(...people: Person[]): Promise<void> {
  for (const person of people) {
    browsers.splice(browsers.indexOf(person.browser), 1);
    await person.browser.close();
  }
}
