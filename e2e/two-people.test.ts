// Two people, two browsers, the real server: what `npm start` shows, driven end to end.
// Needs the built library (npm run build) — `npm test` builds first.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { chromiumArgs, requireChromium } from '../scripts/chromium.mjs';
import { startReferenceServer } from '../scripts/reference-server.mjs';

type Server = Awaited<ReturnType<typeof startReferenceServer>>;

const dataDir = mkdtempSync(join(tmpdir(), 'reelchat-e2e-'));
let server: Server;
let browser: Browser;

before(async () => {
  server = await startReferenceServer({ dataDir, args: ['--demo'] });
  browser = await chromium.launch({ executablePath: requireChromium(), args: chromiumArgs });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** One person's browser with only their own dialog, as on a real site. */
async function open(user: 'alice' | 'bob', conversation: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 480, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${user}] page error:`, error.message));
  page.on('dialog', () => assert.fail(`[${user}] a dialog opened: script ran from a message`));
  await page.goto(`${server.url}/?as=${user}&conversation=${conversation}`);
  await input(page).waitFor();
  // Everything reelchat fires bubbles to the document: keep a log the test can read.
  await page.evaluate(() => {
    const log: { type: string; detail: unknown }[] = [];
    (window as unknown as { reelEvents: typeof log }).reelEvents = log;
    for (const type of ['reel-clip-change', 'reel-ended', 'reel-error']) {
      document.addEventListener(type, (event) => {
        const detail = (event as CustomEvent).detail as Record<string, unknown>;
        log.push({
          type,
          detail:
            type === 'reel-clip-change'
              ? { index: detail.index, id: (detail.clip as { id: string }).id }
              : null,
        });
      });
    }
  });
  return page;
}

const chat = (page: Page) => page.locator('reel-chat');
const input = (page: Page) => chat(page).locator('[part~="input"]');
const texts = (page: Page) => chat(page).locator('[part~="text"]');
const offlineBanner = (page: Page) => chat(page).locator('[part~="offline"]');

async function send(page: Page, text: string): Promise<void> {
  await input(page).fill(text);
  await input(page).press('Enter');
}

/** How many messages show exactly this text. */
async function countText(page: Page, text: string): Promise<number> {
  return (await texts(page).allTextContents()).filter((t) => t.trim() === text).length;
}

async function waitForText(page: Page, text: string, timeout = 20_000): Promise<void> {
  await texts(page).filter({ hasText: text }).first().waitFor({ timeout });
}

async function recordClip(page: Page, seconds: number): Promise<void> {
  await chat(page).locator('[part~="composer"] [part~="record-button"]').click();
  const recorder = page.locator('reel-recorder');
  const button = (name: string): Locator => recorder.locator(`[part~="${name}"]`);
  await page.locator('reel-recorder[state="previewing"]').waitFor({ timeout: 15_000 });
  await button('record-button').click();
  await page.locator('reel-recorder[state="recording"]').waitFor();
  await page.waitForTimeout(seconds * 1000);
  await button('stop-button').click();
  await page.locator('reel-recorder[state="reviewing"]').waitFor();
  await button('send-button').click();
  // The chat closes the recorder once the clip is uploaded and its message sent.
  await recorder.waitFor({ state: 'hidden', timeout: 30_000 });
}

describe('two people chatting with video', { timeout: 180_000 }, () => {
  it('sends text and clips live, and Bob plays Alice’s clips back to back', async () => {
    const alice = await open('alice', 'live');
    const bob = await open('bob', 'live');

    await send(alice, 'Hello Bob, two clips coming');
    await waitForText(bob, 'Hello Bob, two clips coming');

    await recordClip(alice, 2.5);
    await recordClip(alice, 2.5);

    // Both clip messages reach Bob without a reload, and become playable.
    const videos = chat(bob).locator('[part~="video"]');
    await videos.nth(1).waitFor({ timeout: 30_000 });
    assert.equal(await videos.count(), 2);
    await chat(bob).locator('[part~="play-button"]').nth(1).waitFor({ timeout: 60_000 });

    await chat(bob).locator('[part~="play-all"]').click();
    await bob.waitForFunction(
      () =>
        (window as unknown as { reelEvents: { type: string }[] }).reelEvents.some(
          (e) => e.type === 'reel-ended',
        ),
      undefined,
      { timeout: 60_000 },
    );
    const events = await bob.evaluate(
      () =>
        (
          window as unknown as {
            reelEvents: { type: string; detail: { index: number; id: string } | null }[];
          }
        ).reelEvents,
    );
    const changes = events.filter((e) => e.type === 'reel-clip-change').map((e) => e.detail!.index);
    assert.deepEqual(changes, [0, 1], 'clip 1, then clip 2');
    assert.equal(events.filter((e) => e.type === 'reel-ended').length, 1);
    assert.deepEqual(
      events.filter((e) => e.type === 'reel-error'),
      [],
    );

    await chat(bob).locator('[part~="reel-sheet"] [part~="close-button"]').click();
    await send(bob, 'Nice clips!');
    await waitForText(alice, 'Nice clips!');
    assert.equal(await countText(alice, 'Nice clips!'), 1);
    await alice.context().close();
    await bob.context().close();
  });

  it('shows both people offline while the server is down, then catches up with nothing lost or doubled', async () => {
    const alice = await open('alice', 'outage');
    const bob = await open('bob', 'outage');
    await send(alice, 'before the outage');
    await waitForText(bob, 'before the outage');

    const port = new URL(server.url).port;
    await server.stop();
    await offlineBanner(alice).waitFor({ timeout: 15_000 });
    await offlineBanner(bob).waitFor({ timeout: 15_000 });
    // Written while the server is away: it fails now and goes once the server is back.
    await send(alice, 'during the outage');
    await alice.waitForTimeout(10_000);

    server = await startReferenceServer({ dataDir, args: ['--demo'], env: { PORT: port } });
    await offlineBanner(alice).waitFor({ state: 'hidden', timeout: 30_000 });
    await send(alice, 'after the outage');
    await waitForText(bob, 'after the outage', 30_000);
    await waitForText(bob, 'during the outage', 30_000);
    await offlineBanner(bob).waitFor({ state: 'hidden', timeout: 30_000 });

    for (const page of [alice, bob]) {
      for (const text of ['before the outage', 'during the outage', 'after the outage']) {
        assert.equal(await countText(page, text), 1, `${text} once`);
      }
    }
    await alice.context().close();
    await bob.context().close();
  });

  it('shows markup in a message as text and runs none of it', async () => {
    const alice = await open('alice', 'markup');
    const bob = await open('bob', 'markup');
    const markup = '<img src=x onerror=alert(1)>';
    await send(alice, markup);
    await waitForText(bob, markup);
    assert.equal(await countText(bob, markup), 1);
    assert.equal(await chat(bob).locator('[part~="text"] img').count(), 0);
    await alice.context().close();
    await bob.context().close();
  });
});
