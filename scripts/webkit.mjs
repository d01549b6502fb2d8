// One place for how tests, end-to-end tests and benchmarks start and drive WebKit here:
// WebKitGTK's MiniBrowser behind WebKitWebDriver, under an Xvfb of its own, spoken to in plain
// W3C WebDriver; and its @web/test-runner launcher. scripts/browsers.mjs picks the engine.
//
// Debian packages: webkit2gtk-driver, xvfb (and the GStreamer plugins WebKitGTK recommends,
// which decode H.264/AAC).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

const findBinary = (variable, paths) =>
  process.env[variable] || paths.find((path) => existsSync(path));

export const webkitDriverPath = findBinary('WEBKIT_DRIVER_PATH', ['/usr/bin/WebKitWebDriver']);
export const xvfbPath = findBinary('XVFB_PATH', ['/usr/bin/Xvfb']);

/** MiniBrowser's flags: a mock camera and microphone, MSE and autoplay with sound. */
export const webkitArgs = [
  // Naming any flag drops the driver's own --automation: without it the session never starts.
  '--automation',
  '--enable-mock-capture-devices=true',
  '--enable-media-stream=true',
  '--enable-mediasource=true',
  '--autoplay-policy=allow',
];

export function requireWebKit() {
  if (!webkitDriverPath || !xvfbPath)
    throw new Error(
      'No WebKitWebDriver or Xvfb found. Install them (Debian: apt-get install ' +
        'webkit2gtk-driver xvfb), or leave WebKit out with REELCHAT_ENGINES=chromium,firefox.',
    );
  return webkitDriverPath;
}

const children = new Set();
// A test run that ends or is stopped leaves no Xvfb, driver or MiniBrowser behind (they run
// detached, so that their whole group can be ended).
const killChildren = () => {
  for (const child of children) killGroup(child, 'SIGKILL');
};
process.once('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killChildren();
    // Then die of the signal as if nobody had listened (unless someone else does).
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Ends a detached child and everything it started (its process group). */
async function stopGroup(child) {
  if (!children.has(child)) return;
  const exited =
    child.exitCode === null && child.signalCode === null
      ? new Promise((resolve) => child.once('exit', resolve))
      : Promise.resolve();
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
  // MiniBrowser and its web processes are in the group too and may outlive the driver.
  killGroup(child, 'SIGKILL');
  children.delete(child);
}

function spawnGroup(command, args, options) {
  const child = spawn(command, args, { ...options, detached: true });
  children.add(child);
  child.once('exit', () => {
    if (child.pid) killGroup(child, 'SIGKILL');
  });
  return child;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** An X server of its own (Xvfb picks a free display and says which). */
async function startXvfb() {
  const child = spawnGroup(
    xvfbPath,
    ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp', '-nolisten', 'unix'],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (chunk) => (log = (log + chunk).slice(-2000)));
  const display = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb did not start:\n${log}`)), 10_000);
    child.stdio[3].on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) {
        clearTimeout(timer);
        resolve(`:${text.trim()}`);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}):\n${log}`));
    });
  });
  return { display, stop: () => stopGroup(child) };
}

// W3C WebDriver ---------------------------------------------------------------------------

/** Keys by the names puppeteer and @web/test-runner-commands use, as WebDriver code points. */
const WEBDRIVER_KEYS = {
  Enter: '\uE007',
  Escape: '\uE00C',
  Tab: '\uE004',
  Backspace: '\uE003',
  Delete: '\uE017',
  Space: ' ',
  ArrowLeft: '\uE012',
  ArrowUp: '\uE013',
  ArrowRight: '\uE014',
  ArrowDown: '\uE015',
  Home: '\uE011',
  End: '\uE010',
  PageUp: '\uE00E',
  PageDown: '\uE00F',
  Shift: '\uE008',
  Control: '\uE009',
  Alt: '\uE00A',
  Meta: '\uE03D',
};
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export class WebDriverError extends Error {
  constructor(status, value) {
    super(`WebDriver ${status}: ${value?.error ?? ''} ${value?.message ?? JSON.stringify(value)}`);
    this.value = value;
  }
}

/**
 * WebKit (WebKitGTK's MiniBrowser) behind WebKitWebDriver, under an Xvfb of its own. One
 * WebDriver session; each `newPage()` is a window of it. Commands are serialised, since a
 * session has one current window.
 */
export class WebKitBrowser {
  static async launch({ args = webkitArgs, windowSize = { width: 1024, height: 768 } } = {}) {
    const driverPath = requireWebKit();
    const xvfb = await startXvfb();
    const port = await freePort();
    const driver = spawnGroup(driverPath, [`--port=${port}`, '--host=local'], {
      env: { ...process.env, DISPLAY: xvfb.display },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const keep = (chunk) => (log = (log + chunk).slice(-4000));
    driver.stdout.on('data', keep);
    driver.stderr.on('data', keep);
    const browser = new WebKitBrowser(`http://127.0.0.1:${port}`, driver, xvfb, () => log);
    try {
      await browser.createSession(args);
      await browser.session('POST', '/window/rect', windowSize).catch(() => undefined);
      browser.firstWindow = await browser.session('GET', '/window');
    } catch (error) {
      await browser.close();
      throw error;
    }
    return browser;
  }

  constructor(base, driver, xvfb, log) {
    this.base = base;
    this.driver = driver;
    this.xvfb = xvfb;
    this.log = log;
    this.id = undefined;
    this.queue = Promise.resolve();
    this.current = undefined;
    this.closed = false;
  }

  async request(method, path, body, timeout = 120_000) {
    const started = performance.now();
    const response = await fetch(this.base + path, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeout),
    });
    const json = await response.json().catch(() => ({}));
    // REELCHAT_WEBDRIVER_DEBUG=1 prints every command and how long it took.
    if (process.env.REELCHAT_WEBDRIVER_DEBUG)
      console.error(
        `[webdriver] ${method} ${path.replace(/^\/session\/[^/]+/, '')} ${response.status} ` +
          `${Math.round(performance.now() - started)} ms`,
      );
    if (!response.ok) throw new WebDriverError(response.status, json.value);
    return json.value;
  }

  session(method, path, body, timeout) {
    return this.request(method, `/session/${this.id}${path}`, body, timeout);
  }

  async createSession(args) {
    const deadline = Date.now() + 30_000;
    // The driver takes a moment to listen.
    for (;;) {
      try {
        await this.request('GET', '/status', undefined, 2000);
        break;
      } catch (error) {
        if (Date.now() > deadline || this.driver.exitCode !== null)
          throw new Error(`WebKitWebDriver did not start (${error.message}):\n${this.log()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const created = await this.request(
      'POST',
      '/session',
      {
        capabilities: {
          alwaysMatch: {
            'webkitgtk:browserOptions': { args },
            // Not `normal`: a <video> delays the load event until its first frame, and a test
            // page makes players as it loads; navigation is done at DOMContentLoaded.
            pageLoadStrategy: 'eager',
            timeouts: { script: 120_000, pageLoad: 60_000 },
          },
        },
      },
      60_000,
    ).catch((error) => {
      throw new Error(`No WebKit session (${error.message}):\n${this.log()}`);
    });
    this.id = created.sessionId;
    this.version = created.capabilities?.browserVersion;
  }

  /** Runs `task` with window `handle` current; one task at a time. */
  inWindow(handle, task) {
    const run = this.queue.then(async () => {
      if (this.closed) throw new Error('The WebKit browser is closed');
      if (handle && handle !== this.current) {
        await this.session('POST', '/window', { handle });
        this.current = handle;
      }
      return task();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The window the session opened with (the test runner's page). */
  get page() {
    this.firstPage ??= new WebKitPage(this, this.firstWindow);
    return this.firstPage;
  }

  /**
   * The session's first window, then new windows (not tabs: a tab in the background is
   * hidden, and WebKit holds back a hidden page's camera and frames).
   */
  async newPage() {
    if (!this.firstPageTaken) {
      this.firstPageTaken = true;
      return this.page;
    }
    // From the first window, which stays open: the driver opens a new window from the
    // current one and answers "no such window" when that was closed (a closed page's).
    const { handle } = await this.inWindow(this.firstWindow, () =>
      this.session('POST', '/window/new', { type: 'window' }),
    );
    return new WebKitPage(this, handle);
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    if (this.id)
      await this.request('DELETE', `/session/${this.id}`, undefined, 10_000).catch(() => undefined);
    await stopGroup(this.driver);
    await this.xvfb.stop();
  }
}

/** One window of a `WebKitBrowser`, with the few things tests and benchmarks need. */
export class WebKitPage {
  constructor(browser, handle) {
    this.browser = browser;
    this.handle = handle;
  }

  command(method, path, body, timeout) {
    return this.browser.inWindow(this.handle, () =>
      this.browser.session(method, path, body, timeout),
    );
  }

  goto(url) {
    return this.command('POST', '/url', { url });
  }

  url() {
    return this.command('GET', '/url');
  }

  /** Runs `fn(arg)` in the page (awaiting a promise it returns); JSON in, JSON out. */
  evaluate(fn, arg) {
    return this.command('POST', '/execute/sync', {
      // tsx and esbuild name functions with a `__name` helper the page does not have.
      script: `const __name = (f) => f; return (${fn.toString()})(arguments[0]);`,
      args: [arg ?? null],
    });
  }

  /** Presses keys on the focused element: names (`ArrowRight`, `Enter`) or single characters. */
  keys(keys) {
    const values = keys.map((key) => WEBDRIVER_KEYS[key] ?? key);
    return this.command('POST', '/actions', {
      actions: [
        {
          type: 'key',
          id: 'keyboard',
          actions: values.flatMap((value) => [
            { type: 'keyDown', value },
            { type: 'keyUp', value },
          ]),
        },
      ],
    });
  }

  /** The element `fn(arg)` returns in the page, for `click` and `type`. */
  async element(fn, arg) {
    const found = await this.evaluate(fn, arg);
    if (!found?.[ELEMENT]) throw new Error(`No element from ${fn.toString().slice(0, 80)}`);
    return found[ELEMENT];
  }

  click(element) {
    return this.command('POST', `/element/${element}/click`, {});
  }

  type(element, text) {
    return this.command('POST', `/element/${element}/value`, { text });
  }

  async close() {
    // The first window is the session's: closing it would end the session.
    if (this.handle === this.browser.firstWindow) {
      await this.goto('about:blank').catch(() => undefined);
      return;
    }
    await this.command('DELETE', '/window').catch(() => undefined);
    this.browser.current = undefined;
  }
}

/** `promise`, or a rejection naming `what` after `ms`. */
function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * WebKit for @web/test-runner: one MiniBrowser (started on first use) whose window is pointed
 * at each test file in turn. Type `webdriver`, so `sendKeys` from @web/test-runner-commands
 * comes here.
 */
export class WebKitLauncher {
  name = 'WebKit';
  type = 'webdriver';
  concurrency = 1;
  #browser;
  #active = new Set();

  constructor() {
    requireWebKit();
  }

  initialize() {}

  #start() {
    this.#browser ??= WebKitBrowser.launch();
    return this.#browser;
  }

  async startSession(sessionId, url) {
    this.#active.add(sessionId);
    // A WebKit that stopped answering (its web process hung on a media page, seen on a loaded
    // CI machine) is replaced rather than failing every file after it; wtr allows 30 s.
    try {
      await withTimeout((await this.#start()).page.goto(url), 12_000, 'opening the test page');
    } catch (error) {
      console.error(`webkit: ${error.message}; starting a new WebKit`);
      await this.#restart();
      await (await this.#start()).page.goto(url);
    }
  }

  async #restart() {
    const browser = this.#browser;
    this.#browser = undefined;
    if (browser) await (await browser.catch(() => undefined))?.close();
  }

  isActive(sessionId) {
    return this.#active.has(sessionId);
  }

  async getBrowserUrl() {
    return (await this.#start()).page.url();
  }

  async stopSession(sessionId) {
    this.#active.delete(sessionId);
    // Leave the test page, so nothing of it runs on. The results are in by now, so a WebKit
    // that cannot leave (a hung web process) is no test failure of this file; it is replaced
    // so the next file starts afresh.
    await withTimeout(
      (await this.#start()).page.goto('about:blank'),
      20_000,
      'leaving the page',
    ).catch(async (error) => {
      console.error(`webkit: leaving the test page: ${error.message}; starting a new WebKit`);
      await this.#restart();
    });
    return {};
  }

  async sendKeys(_sessionId, keys) {
    await (await this.#start()).page.keys(keys);
  }

  startDebugSession() {
    throw new Error('The WebKit launcher has no debug mode');
  }

  stop() {
    return this.#restart();
  }
}

export const webkitLauncher = () => new WebKitLauncher();
