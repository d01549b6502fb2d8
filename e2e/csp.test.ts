// A host page with a strict Content-Security-Policy and Trusted Types, on its own origin, in
// Chromium, Firefox and WebKit (scripts/browsers.mjs; REELCHAT_ENGINES picks them): the CDN
// build loads from the page's origin, the API is the real reference server on another. The
// page records and sends a clip (Chromium, Firefox: WebKit's camera gives 0 bytes here), plays
// a reel of three clips to its end with the progress moving, and shows video bubbles at their
// clip's shape — with not one `securitypolicyviolation`. The same page without `blob:` in
// media-src, without the API in connect-src, or without `lit-html` in trusted-types, is told
// what is missing. Needs the built library (npm run build).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { enginesFromEnv, openBrowser } from '../scripts/browsers.mjs';
import { startReferenceServer } from '../scripts/reference-server.mjs';
import { hostScript, type HostLog } from './csp-host.js';
import { devToken, shareClip } from './server-api.js';

type EngineBrowser = Awaited<ReturnType<typeof openBrowser>>;
type EnginePage = Awaited<ReturnType<EngineBrowser['newPage']>>;

const run = promisify(execFile);
const engines = enginesFromEnv();
const dataDir = mkdtempSync(join(tmpdir(), 'reelchat-csp-'));
const cdn = new URL('../dist/cdn/', import.meta.url).pathname;
const REEL = 'csp-reel';
/** The reel's clips: 16:9, a shape the chat's bubble does not have by default (4:3). */
const WIDTH = 640;
const HEIGHT = 360;
let api: Awaited<ReturnType<typeof startReferenceServer>>;
let host: HttpServer;
let hostUrl = '';

type Without = 'media-blob' | 'lit-html' | 'api-connect';

/** What a careful host sends; `without` leaves one thing out, as a host might forget it. */
function policy(without?: Without): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self'${without === 'api-connect' ? '' : ` ${api.url}`}`,
    `media-src 'self' ${without === 'media-blob' ? '' : 'blob: '}${api.url}`,
    `img-src 'self' data: ${api.url}`,
    "require-trusted-types-for 'script'",
    `trusted-types ${without === 'lit-html' ? 'other-policy' : 'lit-html'}`,
  ].join('; ');
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.map': 'application/json',
  '.html': 'text/html; charset=utf-8',
};

/** The host's own server: its page (with the policy), its script, and the CDN build. */
function startHost(): Promise<string> {
  host = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://host');
    if (url.pathname === '/') {
      const without = url.searchParams.get('without') as Without | null;
      response.writeHead(200, {
        'content-type': TYPES['.html'],
        'content-security-policy': policy(without ?? undefined),
      });
      response.end(
        `<!doctype html><html lang="en"><head><title>host</title>` +
          `<script type="module" src="/host.js"></script></head><body></body></html>`,
      );
      return;
    }
    if (url.pathname === '/host.js') {
      response.writeHead(200, { 'content-type': TYPES['.js'] });
      response.end(hostScript(api.url));
      return;
    }
    const file = normalize(url.pathname.replace(/^\/lib\//, ''));
    if (url.pathname.startsWith('/lib/') && !file.startsWith('..')) {
      try {
        const body = readFileSync(join(cdn, file));
        response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'text/plain' });
        response.end(body);
        return;
      } catch {
        // falls through to 404
      }
    }
    response.writeHead(404).end();
  });
  return new Promise((resolve) =>
    host.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(host.address() as AddressInfo).port}`),
    ),
  );
}

before(async () => {
  hostUrl = await startHost();
  api = await startReferenceServer({
    dataDir,
    args: ['--demo'],
    env: { REELCHAT_ALLOWED_ORIGINS: hostUrl },
  });
  for (const [n, hue] of [0, 120, 240].entries()) {
    const file = join(dataDir, `clip${n}.mp4`);
    await run('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-y'],
      ...['-f', 'lavfi', '-i', `testsrc2=size=${WIDTH}x${HEIGHT}:rate=30:duration=2,hue=h=${hue}`],
      ...['-f', 'lavfi', '-i', `sine=frequency=${440 + hue}:sample_rate=44100:duration=2`],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac'],
      ...['-movflags', '+faststart', file],
    ]);
    const alice = await devToken(api.url, 'alice', REEL);
    await shareClip(api.url, alice, { conversation: REEL, file, clientId: `csp-${n}` });
  }
});

after(async () => {
  await api?.stop();
  await new Promise((resolve) => host?.close(resolve));
  rmSync(dataDir, { recursive: true, force: true });
});

/**
 * Polls `fn(arg)` in the page with `evaluate` only: the browsers' own `waitFor` builds its
 * check with `new Function`, which this page's policy refuses (and would count).
 */
async function until<T>(
  page: EnginePage,
  fn: (arg: never) => T,
  arg: unknown,
  message: string,
  timeout = 30_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = (await page.evaluate(fn as never, arg as never)) as T;
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) {
      const log = await hostLog(page);
      throw new Error(`${message} (page: ${JSON.stringify(log).slice(0, 1500)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

const hostLog = (page: EnginePage) =>
  page.evaluate(
    () => (window as unknown as { host: { log: HostLog } }).host.log,
  ) as Promise<HostLog>;

async function openHost(browser: EngineBrowser, query: Record<string, string>) {
  const page = await browser.newPage();
  await page.goto(`${hostUrl}/?${new URLSearchParams(query)}`);
  await until(
    page,
    () => (window as unknown as { host?: { log: HostLog } }).host?.log.ready,
    null,
    'the host script did not run',
  );
  return page;
}

type Host = { host: { add(kind: string, attributes: Record<string, string>): void; log: HostLog } };

/**
 * Bob's host page with one line of the policy left out (`without`), once the library has
 * loaded, and a player of Alice's reel added to it.
 */
async function playerWithout(
  browser: EngineBrowser,
  without: string,
  attributes: Record<string, string> = {},
): Promise<EnginePage> {
  const page = await openHost(browser, { user: 'bob', conversation: REEL, without });
  await until(
    page,
    () => (window as unknown as Host).host.log.loaded,
    null,
    'the library did not load',
  );
  await page.evaluate((attrs) => (window as unknown as Host).host.add('reel-player', attrs), {
    conversation: 'csp-reel',
    user: 'bob',
    owner: 'alice',
    ...attributes,
  });
  return page;
}

for (const engine of engines) {
  describe(`${engine}`, { timeout: 240_000 }, () => {
    it('under the strict policy: records and sends a clip, plays a reel of three to its end with the progress moving, shows bubbles at their clip’s shape — no violation', async () => {
      const browser = await openBrowser(engine);
      try {
        const page = await openHost(browser, { user: 'bob', conversation: REEL });
        const { trustedTypes } = await hostLog(page);
        console.log(
          `${engine} ${browser.version}: Trusted Types ${trustedTypes ? 'enforced' : 'not implemented'}`,
        );
        await until(
          page,
          () => (window as unknown as Host).host.log.loaded,
          null,
          'the library did not load',
        );

        // The chat of the reel's conversation: Alice's three videos, each bubble 16:9.
        await page.evaluate(() =>
          (window as unknown as Host).host.add('reel-chat', {
            conversation: 'csp-reel',
            user: 'bob',
            buddy: 'alice',
            'buddy-name': 'Alice',
          }),
        );
        const shapes = await until(
          page,
          () => {
            const chat = document.querySelector('reel-chat');
            const boxes = [...(chat?.shadowRoot?.querySelectorAll('[part~="video"]') ?? [])];
            const ready = boxes.filter((box) => box.querySelector('[part~="play-button"]'));
            if (ready.length < 3) return null;
            return ready.map((box) => {
              const { width, height } = box.getBoundingClientRect();
              return width / height;
            });
          },
          null,
          'the three video bubbles did not show',
        );
        for (const ratio of shapes)
          assert.ok(
            Math.abs(ratio - WIDTH / HEIGHT) < 0.02,
            `bubbles at ${shapes.join(', ')}, not 16:9`,
          );

        // The reel: Alice's three clips, played to the end, the progress moving on the way.
        await page.evaluate(() =>
          (window as unknown as Host).host.add('reel-player', {
            conversation: 'csp-reel',
            user: 'bob',
            owner: 'alice',
            start: '0',
          }),
        );
        await until(
          page,
          () =>
            (document.querySelector('reel-player') as unknown as { playlist: unknown[] })?.playlist
              ?.length === 3,
          null,
          'the three clips were not listed',
        );
        await page.evaluate(() => {
          const player = document.querySelector('reel-player') as unknown as {
            play(): Promise<void>;
          };
          void player.play();
        });
        const fills = await until(
          page,
          () => {
            const player = document.querySelector('reel-player')!;
            const fill = player.shadowRoot?.querySelector<HTMLElement>('[part~="segment-fill"]');
            const track = fill?.parentElement;
            if (!fill || !track) return null;
            const share = fill.getBoundingClientRect().width / track.getBoundingClientRect().width;
            return share > 0.2 && share < 0.95 ? share : null;
          },
          null,
          'the first clip’s progress did not move',
        );
        await until(
          page,
          () => (window as unknown as Host).host.log.events.some((e) => e.type === 'reel-ended'),
          null,
          'the reel did not end',
        );
        // Every segment full once the reel ended (the fill's width eases over 250 ms).
        await until(
          page,
          () =>
            [
              ...document
                .querySelector('reel-player')!
                .shadowRoot!.querySelectorAll('[part~="segment-fill"]'),
            ].every(
              (fill) =>
                fill.getBoundingClientRect().width ===
                fill.parentElement!.getBoundingClientRect().width,
            ),
          null,
          `the progress was not full at the end (the first clip's was at ${fills})`,
          3000,
        );

        // A take, recorded and sent (WebKit's camera gives nothing here to send).
        if (engine !== 'webkit') {
          await page.evaluate(() =>
            (window as unknown as Host).host.add('reel-recorder', {
              conversation: 'csp-take',
              user: 'bob',
              autostart: '',
              'no-confirm': '',
            }),
          );
          await until(
            page,
            () => document.querySelector('reel-recorder')?.getAttribute('state') === 'previewing',
            null,
            'no camera preview',
          );
          await page.evaluate(
            () =>
              void (
                document.querySelector('reel-recorder') as unknown as { record(): Promise<void> }
              ).record(),
          );
          await until(
            page,
            () => document.querySelector('reel-recorder')?.getAttribute('state') === 'recording',
            null,
            'not recording',
          );
          await new Promise((resolve) => setTimeout(resolve, 1500));
          await page.evaluate(
            () =>
              void (
                document.querySelector('reel-recorder') as unknown as { stop(): Promise<void> }
              ).stop(),
          );
          await until(
            page,
            () => document.querySelector('reel-recorder')?.getAttribute('state') === 'sent',
            null,
            'the take was not sent',
          );
        }

        const log = await hostLog(page);
        assert.deepEqual(log.violations, [], 'securitypolicyviolation events');
        // WebKitGTK's pipeline now and then stalls before a first frame; the watchdog nudges
        // it on and says so (docs/player.md). Nothing else may go wrong.
        const errors = log.events.filter((e) => e.type === 'reel-error');
        if (errors.length > 0) console.log(`${engine}: ${errors.map((e) => e.detail).join(' | ')}`);
        assert.deepEqual(
          errors.filter(
            (e) =>
              !(engine === 'webkit' && /^Playback stalled .*nudged it on\.$/.test(e.detail ?? '')),
          ),
          [],
          'reel-error events',
        );
        assert.deepEqual(
          log.events.filter((e) => e.type === 'reel-clip-change').length,
          3,
          'one clip change per clip',
        );
        assert.deepEqual(log.errors, [], 'console errors');
      } finally {
        await browser.close();
      }
    });

    it('without blob: in media-src: where the engine holds MSE to it, the console and the player name the missing line', async () => {
      const browser = await openBrowser(engine);
      try {
        const page = await playerWithout(browser, 'media-blob', { start: '0' });
        await until(
          page,
          () =>
            (document.querySelector('reel-player') as unknown as { playlist: unknown[] })?.playlist
              ?.length === 3,
          null,
          'the three clips were not listed',
        );
        await page.evaluate(() => {
          void (
            document.querySelector('reel-player') as unknown as { play(): Promise<void> }
          ).play();
        });
        const shown = await until(
          page,
          () => {
            const root = document.querySelector('reel-player')?.shadowRoot;
            const message = root?.querySelector('[part~="failure-message"]')?.textContent;
            const detail = root?.querySelector('[part~="failure-detail"]')?.textContent;
            const retry = root?.querySelector('[part~="retry-button"]');
            if (message && retry) return { message, detail: detail?.trim() };
            const { events } = (window as unknown as Host).host.log;
            return events.some((e) => e.type === 'reel-ended') ? { ended: true } : null;
          },
          null,
          'the player neither showed a failure nor played to its end',
        );
        if (engine === 'firefox') {
          // Firefox does not hold a MediaSource's blob: URL to media-src: the reel plays.
          assert.deepEqual(shown, { ended: true });
          assert.deepEqual((await hostLog(page)).violations, []);
          return;
        }
        assert.ok('message' in shown, 'the reel played, unblocked');
        assert.equal(shown.message, 'This site’s security settings blocked the video.');
        assert.equal(shown.detail, 'Content-Security-Policy: media-src blob:');
        const log = await hostLog(page);
        assert.ok(
          log.violations.some((v) => v.directive === 'media-src' && /^blob/.test(v.blocked)),
          JSON.stringify(log.violations),
        );
        assert.equal(
          log.errors.filter((line) => line.includes('Add "blob:" to media-src')).length,
          1,
          log.errors.join('\n'),
        );
      } finally {
        await browser.close();
      }
    });

    it('without the API in connect-src: the console and the player name the missing origin', async () => {
      const browser = await openBrowser(engine);
      try {
        const page = await playerWithout(browser, 'api-connect');
        const detail = await until(
          page,
          () =>
            document
              .querySelector('reel-player')
              ?.shadowRoot?.querySelector('[part~="failure-detail"]')
              ?.textContent?.trim(),
          null,
          'the player showed no failure',
        );
        assert.equal(detail, `Content-Security-Policy: connect-src ${api.url}`);
        const log = await hostLog(page);
        assert.ok(
          log.violations.some((v) => v.directive === 'connect-src'),
          JSON.stringify(log.violations),
        );
        assert.equal(
          log.errors.filter((line) => line.includes(`Add "${api.url}" to connect-src`)).length,
          1,
          log.errors.join('\n'),
        );
      } finally {
        await browser.close();
      }
    });

    it('without lit-html in trusted-types: what the engine enforces names the policy', async () => {
      const browser = await openBrowser(engine);
      try {
        const page = await openHost(browser, {
          user: 'bob',
          conversation: REEL,
          without: 'lit-html',
        });
        const settled = await until(
          page,
          () => {
            const { log } = (window as unknown as Host).host;
            // The violation's event comes as a task of its own, after the failed import.
            return log.loaded || (log.loadError && log.violations.length > 0) ? log : null;
          },
          null,
          'the library neither loaded nor failed',
        );
        if (!settled.trustedTypes) {
          // No Trusted Types in this engine: nothing to enforce, the library loads.
          assert.equal(settled.loaded, true);
          assert.deepEqual(settled.violations, []);
          return;
        }
        // The policy refuses lit's: the library cannot start, and the page is told why.
        assert.equal(settled.loaded, false);
        assert.match(settled.loadError!, /lit-html/);
        assert.ok(
          settled.violations.some(
            (v) => v.directive === 'trusted-types' && v.sample === 'lit-html',
          ),
          JSON.stringify(settled.violations),
        );
      } finally {
        await browser.close();
      }
    });
  });
}
