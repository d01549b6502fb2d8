// The README's "Embed it in your site", followed literally: its server command and its HTML
// snippet, read from README.md itself, with three origins as on a real site — the host page
// (which also signs tokens, as the host's backend would), a "CDN" serving the built
// dist/cdn/ with CORS headers, and the reference server configured as the README says.
// Only the README's example origins and secret are swapped for the test's own.
// Needs the built library (npm run build) — `npm test` builds first.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { enginesFromEnv, openBrowser, type EngineBrowser } from '../scripts/browsers.mjs';
import { startReferenceServer } from '../scripts/reference-server.mjs';

const root = new URL('..', import.meta.url).pathname;
const cdnDir = join(root, 'dist/cdn');

/** The README's embed section: its shell block (the server) and its first HTML block. */
function readmeRecipe(): { command: string; snippet: string } {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('## Embed it in your site');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const command = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  const snippet = /```html\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(
    command && snippet,
    'README.md has no sh and html blocks under "Embed it in your site"',
  );
  return { command, snippet };
}

/** `NAME=value` settings of a shell command (continued lines joined). */
function settingsOf(command: string): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [, name, value] of command.replace(/\\\n/g, ' ').matchAll(/\b([A-Z_]+)=(\S+)/g))
    settings[name!] = value!;
  return settings;
}

/** An HTTP server on a loopback port of its own (its own origin); its origin. */
async function listen(handler: http.RequestListener): Promise<{ origin: string; close(): void }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => server.close() };
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.map': 'application/json' };

describe('the README embed recipe, as written', { timeout: 180_000 }, () => {
  const { command, snippet } = readmeRecipe();
  const settings = settingsOf(command);
  const secret = randomBytes(32).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'reelchat-embed-'));
  let server: Awaited<ReturnType<typeof startReferenceServer>>;
  let host: Awaited<ReturnType<typeof listen>>;
  let cdn: Awaited<ReturnType<typeof listen>>;
  let stranger: Awaited<ReturnType<typeof listen>>;
  let page = '';
  const browsers: EngineBrowser[] = [];

  /** The host's backend: a token for Alice and the one conversation asked for, bare. */
  const signFor = (conversation: string) =>
    new SignJWT({ name: 'Alice', conversations: [conversation] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(secret));

  const scriptSrc = /<script type="module" src="([^"]+)"/.exec(snippet)?.[1];
  const endpoint = /endpoint="([^"]+)"/.exec(snippet)?.[1];
  assert.ok(scriptSrc && endpoint, 'the snippet has a module script and an endpoint');
  const cdnUrl = new URL(scriptSrc);
  /** Where the README puts dist/cdn/ on its CDN (the script's folder). */
  const cdnFolder = cdnUrl.pathname.slice(0, cdnUrl.pathname.lastIndexOf('/') + 1);

  before(async () => {
    assert.ok(existsSync(join(cdnDir, 'reelchat.js')), 'dist/cdn/ is missing: npm run build');
    cdn = await listen((req, res) => {
      const path = normalize(new URL(req.url!, 'http://cdn').pathname);
      const file = join(cdnDir, path.slice(cdnFolder.length));
      const inside = path.startsWith(cdnFolder) && file.startsWith(cdnDir);
      if (!inside || !existsSync(file)) return void res.writeHead(404).end();
      // What a CDN must send for a module script another origin loads.
      res.writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Access-Control-Allow-Origin': '*',
      });
      res.end(readFileSync(file));
    });
    const hostSite: http.RequestListener = async (req, res) => {
      const url = new URL(req.url!, 'http://host');
      if (url.pathname === '/my/reelchat-token') {
        const conversation = url.searchParams.get('conversation') ?? '';
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(conversation)) return void res.writeHead(400).end();
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end(await signFor(conversation));
        return;
      }
      if (url.pathname !== '/') return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page);
    };
    host = await listen(hostSite);
    // The same site on an origin the server was not told about.
    stranger = await listen(hostSite);
    // The README's example origins and secret, swapped for this test's.
    const origins: Record<string, string> = {
      [settings.REELCHAT_ALLOWED_ORIGINS!]: host.origin,
      [settings.REELCHAT_JWT_SECRET!]: secret,
    };
    const env: Record<string, string> = { REELCHAT_DEV_TOKENS: '' };
    for (const [name, value] of Object.entries(settings)) env[name] = origins[value] ?? value;
    assert.equal(env.REELCHAT_ALLOWED_ORIGINS, host.origin, 'the README names the allowed origins');
    assert.ok(env.HOST, 'the README says HOST');
    // On loopback and any free port here, whatever the README's HOST and PORT say.
    server = await startReferenceServer({ dataDir, env: { ...env, HOST: '127.0.0.1', PORT: '0' } });

    page =
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title></head><body>\n' +
      snippet.replaceAll(cdnUrl.origin, cdn.origin).replaceAll(`"${endpoint}"`, `"${server.url}"`) +
      '\n</body></html>';
  });

  after(async () => {
    await Promise.all(browsers.map((browser) => browser.close()));
    await server?.stop();
    host?.close();
    stranger?.close();
    cdn?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  for (const engine of enginesFromEnv(['chromium', 'firefox'])) {
    it(`a text sent from the snippet's chat reaches the server and shows (${engine})`, async () => {
      const browser = await openBrowser(engine);
      browsers.push(browser);
      const tab = await browser.newPage();
      await tab.goto(`${host.origin}/`);
      // The page's functions go as source text: each finds the chat itself.
      const online = () =>
        document.querySelector('reel-chat')?.getAttribute('connection') === 'online';
      await tab.waitFor(online, undefined, { timeout: 20_000 }).catch(async () => {
        // What the person sees instead (a CORS or token problem names itself there).
        const shown = await tab.evaluate(
          () =>
            document.querySelector('reel-chat')?.shadowRoot?.querySelector('[part~="error"]')
              ?.textContent ?? 'no error shown',
        );
        assert.fail(`[${engine}] the chat did not connect: ${shown}`);
      });
      const text = `hello from the README (${engine})`;
      await tab.type(
        () => document.querySelector('reel-chat')!.shadowRoot!.querySelector('[part~="input"]'),
        undefined,
        `${text}\n`,
      );

      // The server has it, from Alice, in the snippet's conversation.
      const conversation = /conversation="([^"]+)"/.exec(snippet)![1]!;
      const token = await signFor(conversation);
      const stored = async () => {
        const response = await fetch(`${server.url}/v1/conversations/${conversation}/messages`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        const { messages } = (await response.json()) as {
          messages: { text?: string; author: string }[];
        };
        return messages.find((message) => message.text === text);
      };
      const deadline = Date.now() + 15_000;
      let message = await stored();
      while (!message && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        message = await stored();
      }
      assert.equal(message?.author, 'alice', `[${engine}] the server did not store the text`);

      // And the chat shows it, sent (not pending, not failed).
      await tab.waitFor(
        (text) =>
          [
            ...document
              .querySelector('reel-chat')!
              .shadowRoot!.querySelectorAll('[part~="message"]'),
          ].some(
            (node) =>
              node.querySelector('[part~="text"]')?.textContent === text &&
              // Pending and failed messages carry a status; a sent one none.
              !node.querySelector('[part~="status"]'),
          ),
        text,
        { timeout: 15_000, message: `[${engine}] the chat does not show the text as sent` },
      );
    });
  }

  it('a page on an origin the server does not allow is told what to set', async () => {
    const [engine] = enginesFromEnv(['chromium']);
    const browser = await openBrowser(engine!);
    browsers.push(browser);
    const tab = await browser.newPage();
    await tab.goto(`${stranger.origin}/`);
    const shown = await tab.waitFor(
      () =>
        document.querySelector('reel-chat')?.shadowRoot?.querySelector('[part~="error"]')
          ?.textContent,
      undefined,
      { timeout: 20_000, message: 'the chat shows no problem' },
    );
    assert.match(shown ?? '', new RegExp(`may not allow ${stranger.origin}`));
    assert.match(shown ?? '', /REELCHAT_ALLOWED_ORIGINS/);
  });
});
