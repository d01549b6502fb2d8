// One place for how tests, end-to-end tests and benchmarks start each browser engine here:
// Chromium and Firefox through puppeteer-core (Firefox over WebDriver BiDi), WebKit (WebKitGTK's
// MiniBrowser) through WebKitWebDriver under its own Xvfb (scripts/webkit.mjs).
//
// Debian packages: chromium, firefox-esr, webkit2gtk-driver, xvfb (and the GStreamer plugins
// WebKitGTK recommends, which decode H.264/AAC). docs/player.md says what each engine is used for.
import { existsSync } from 'node:fs';
import * as puppeteer from 'puppeteer-core';
import { chromeLauncher } from '@web/test-runner-chrome';
import { chromiumArgs, requireChromium } from './chromium.mjs';
import { WebKitBrowser, webkitLauncher } from './webkit.mjs';

export { webkitLauncher };

export const ENGINES = ['chromium', 'firefox', 'webkit'];

const findBinary = (variable, paths) =>
  process.env[variable] || paths.find((path) => existsSync(path));

export const firefoxPath = findBinary('FIREFOX_PATH', ['/usr/bin/firefox-esr', '/usr/bin/firefox']);

/** Firefox with a fake camera and microphone, no permission prompt, and autoplay with sound. */
export const firefoxPrefs = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  // A closed network: nothing to update or report.
  'app.update.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
};

export function requireFirefox() {
  if (!firefoxPath)
    throw new Error(
      'No Firefox found. Install it (Debian: apt-get install firefox-esr), set FIREFOX_PATH, ' +
        'or leave it out with REELCHAT_ENGINES=chromium,webkit.',
    );
  return firefoxPath;
}

/** The engines named by REELCHAT_ENGINES (comma separated), or `fallback`. */
export function enginesFromEnv(fallback = ENGINES, env = process.env) {
  if (!env.REELCHAT_ENGINES) return fallback;
  const names = env.REELCHAT_ENGINES.split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const unknown = names.filter((name) => !ENGINES.includes(name));
  if (unknown.length)
    throw new Error(`REELCHAT_ENGINES: unknown engine ${unknown.join(', ')} (${ENGINES})`);
  return names;
}

export function launchFirefox(options = {}) {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: requireFirefox(),
    headless: true,
    extraPrefsFirefox: firefoxPrefs,
    ...options,
  });
}

export function launchChromium(options = {}) {
  return puppeteer.launch({
    executablePath: requireChromium(),
    headless: true,
    args: chromiumArgs,
    ...options,
  });
}

// Processes -------------------------------------------------------------------------------

// @web/test-runner launchers ---------------------------------------------------------------

export function chromiumLauncher() {
  return chromeLauncher({
    launchOptions: { executablePath: requireChromium(), headless: true, args: chromiumArgs },
  });
}

/** Firefox through @web/test-runner-chrome's puppeteer launcher (it speaks BiDi to Firefox). */
export function firefoxLauncher() {
  return chromeLauncher({
    // Handing puppeteer over makes the launcher name the browser "Firefox".
    puppeteer,
    launchOptions: {
      browser: 'firefox',
      executablePath: requireFirefox(),
      headless: true,
      extraPrefsFirefox: firefoxPrefs,
    },
  });
}

const launchers = { chromium: chromiumLauncher, firefox: firefoxLauncher, webkit: webkitLauncher };

/** Whether the command line names test files (`wtr --files …`). */
function cliNamesFiles(argv) {
  return argv.some((arg) => arg === '--files' || arg.startsWith('--files='));
}

/**
 * Which browsers run which test files. `wtr` alone: every file in Chromium, and the files in
 * `everyEngine` in Firefox and WebKit as well (REELCHAT_ENGINES picks the engines). With
 * `--files`: the files given, in Chromium only unless REELCHAT_ENGINES names engines.
 * Browsers run one after another (`concurrentBrowsers: 1`): media tests keep their timing.
 */
export function testBrowsers({ everyEngine, argv = process.argv, env = process.env }) {
  if (cliNamesFiles(argv)) {
    return {
      browsers: enginesFromEnv(['chromium'], env).map((engine) => launchers[engine]()),
      groups: [],
    };
  }
  const engines = enginesFromEnv(ENGINES, env);
  return {
    browsers: [chromiumLauncher()],
    groups: engines
      .filter((engine) => engine !== 'chromium')
      .map((engine) => ({ name: engine, files: everyEngine, browsers: [launchers[engine]()] })),
  };
}

// One API over the three engines, for end-to-end tests and benchmarks ----------------------

/**
 * Starts `engine` and returns `{ engine, version, newPage(), close() }`; a page has
 * `goto(url)`, `evaluate(fn, arg)`, `waitFor(fn, arg, {timeout})`, `click(fn, arg)`,
 * `type(fn, arg, text)` (the element is the one `fn(arg)` returns in the page) and `close()`.
 */
export async function openBrowser(engine) {
  if (engine === 'webkit') {
    const browser = await WebKitBrowser.launch();
    return {
      engine,
      version: browser.version,
      async newPage() {
        return enginePage(await browser.newPage(), {
          click: async (page, fn, arg) => page.click(await page.element(fn, arg)),
          type: async (page, fn, arg, text) =>
            page.type(await page.element(fn, arg), text.replace(/\n$/, '\uE007')),
        });
      },
      close: () => browser.close(),
    };
  }
  const browser = engine === 'firefox' ? await launchFirefox() : await launchChromium();
  const version = await browser.version();
  return {
    engine,
    version,
    async newPage() {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      await page.setViewport({ width: 800, height: 700 });
      return enginePage(
        {
          goto: (url) => page.goto(url),
          // As source text with `__name` defined (see WebKitPage.evaluate).
          evaluate: (fn, arg) => page.evaluate(inPage(fn, arg)),
          close: () => context.close(),
        },
        {
          click: async (_page, fn, arg) => (await page.evaluateHandle(inPage(fn, arg))).click(),
          type: async (_page, fn, arg, text) => {
            const handle = await page.evaluateHandle(inPage(fn, arg));
            const enter = text.endsWith('\n');
            await handle.type(enter ? text.slice(0, -1) : text);
            if (enter) await handle.press('Enter');
          },
        },
      );
    },
    close: () => browser.close(),
  };
}

/** `fn(arg)` as an expression for puppeteer, with the `__name` helper tsx's functions use. */
const inPage = (fn, arg) =>
  `((__name) => (${fn.toString()})(${JSON.stringify(arg ?? null)}))((f) => f)`;

/** Runs in the page: `source` applied to `arg`, an element as `true`. */
async function asFound({ source, arg }) {
  // The waited-for function comes as source text (with tsx's `__name`, as in `inPage`).
  const value = await new Function('__name', `return (${source})`)((f) => f)(arg);
  return value instanceof globalThis.Node ? true : value;
}

function enginePage(page, input) {
  return {
    goto: (url) => page.goto(url),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    /** Polls `fn(arg)` in the page until it returns something truthy, and returns that. */
    async waitFor(fn, arg, { timeout = 20_000, interval = 100, message } = {}) {
      const deadline = Date.now() + timeout;
      for (;;) {
        // An element found counts as found: elements do not come back as JSON.
        const value = await page.evaluate(asFound, { source: fn.toString(), arg });
        if (value) return value;
        if (Date.now() > deadline)
          throw new Error(
            message ?? `Timed out after ${timeout} ms: ${fn.toString().slice(0, 120)}`,
          );
        await new Promise((resolve) => setTimeout(resolve, interval));
      }
    },
    click: (fn, arg) => input.click(page, fn, arg),
    /** Types `text` into the element (a trailing "\n" presses Enter). */
    type: (fn, arg, text) => input.type(page, fn, arg, text),
    close: () => page.close(),
  };
}
