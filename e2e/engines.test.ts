// Every engine against the real server: Chromium, Firefox and WebKit (scripts/browsers.mjs;
// REELCHAT_ENGINES picks them). Clips converted by the server play as one reel to the end and
// start at once in freshly started browsers; a take recorded in each engine becomes a ready
// video of its length, or, where the engine's recorder gives no bytes (WebKit's here), is
// refused. Needs the built library (npm run build) — `npm test` builds first.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { enginesFromEnv, openBrowser } from '../scripts/browsers.mjs';
import { startReferenceServer } from '../scripts/reference-server.mjs';
import { devToken, shareClip, untilReady, type Video } from './server-api.js';

type Server = Awaited<ReturnType<typeof startReferenceServer>>;
type EngineBrowser = Awaited<ReturnType<typeof openBrowser>>;
type EnginePage = Awaited<ReturnType<EngineBrowser['newPage']>>;
const run = promisify(execFile);
const engines = enginesFromEnv();
const dataDir = mkdtempSync(join(tmpdir(), 'reelchat-engines-'));
const REEL = 'engines-reel';
const CLIP_S = 2.5;
const FRESH_STARTS = 10;
const START_WITHIN_MS = 2000;
let server: Server;
const reel: Video[] = [];

const token = (user: string, conversation: string) => devToken(server.url, user, conversation);

/**
 * The length of the video track in a recorded take, from its own packets (first frame to the
 * last one's end, the last lasting an average frame: recorded WebM states no durations).
 */
async function videoTrackSeconds(bytes: Buffer): Promise<number> {
  const file = join(dataDir, `take-${Date.now()}`);
  writeFileSync(file, bytes);
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time'],
    ...['-of', 'csv=p=0', file],
  ]);
  rmSync(file);
  const times = stdout.split('\n').map(Number.parseFloat).filter(Number.isFinite);
  assert.ok(times.length > 1, `the take holds ${times.length} video frames`);
  const first = Math.min(...times);
  const last = Math.max(...times);
  return last - first + (last - first) / (times.length - 1);
}

before(async () => {
  server = await startReferenceServer({ dataDir, args: ['--demo'] });
  // Three clips as a phone or a browser would upload them: H.264/AAC MP4 with B-frames, which
  // the server converts to its stitchable HLS.
  const alice = await token('alice', REEL);
  for (const [n, hue] of [0, 120, 240].entries()) {
    const file = join(dataDir, `upload${n}.mp4`);
    await run('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-y'],
      ...['-f', 'lavfi', '-i', `testsrc2=size=480x360:rate=30:duration=${CLIP_S},hue=h=${hue}`],
      ...['-f', 'lavfi', '-i', `sine=frequency=${440 + hue}:sample_rate=44100:duration=${CLIP_S}`],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac'],
      ...['-movflags', '+faststart', file],
    ]);
    reel.push(
      await shareClip(server.url, alice, { conversation: REEL, file, clientId: `clip-${n}` }),
    );
  }
});

after(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The demo page as `user` (it loads the built library), with nothing of its own left on it. */
async function openPage(browser: EngineBrowser, user: string, conversation: string) {
  const page = await browser.newPage();
  await page.goto(`${server.url}/?as=${user}&conversation=${conversation}`);
  // The library defines <reel-chat> up front, the player and the recorder on first use.
  await page.waitFor(() => !!customElements.get('reel-chat'));
  await page.evaluate(() => document.querySelector('main')?.remove());
  return page;
}

/**
 * Puts a `<reel-player>` of Alice's clips on the page, as Bob, through the http transport;
 * `window.reel` records its events and, for every frame shown, how far into its clip it is.
 */
async function addPlayer(page: EnginePage, conversation: string): Promise<void> {
  const durations = reel.map((video) => video.duration!);
  await page.evaluate(
    async ({ conversation, durations }) => {
      const el = document.createElement('reel-player') as HTMLElement & {
        getToken: () => Promise<string>;
        playlist: unknown[];
        position: { index: number; offset: number };
        play(): Promise<void>;
      };
      const log = {
        changes: [] as number[],
        ended: 0,
        errors: [] as string[],
        furthest: [] as number[],
        firstFrameMs: null as number | null,
        playAt: 0,
      };
      Object.assign(window, { reel: { el, log } });
      el.addEventListener('reel-clip-change', (e) =>
        log.changes.push((e as CustomEvent).detail.index),
      );
      el.addEventListener('reel-ended', () => log.ended++);
      el.addEventListener('reel-error', (e) =>
        log.errors.push(String((e as CustomEvent).detail.error.message)),
      );
      el.getToken = async () => {
        const query = new URLSearchParams({
          user: 'bob',
          name: 'Bob',
          conversations: conversation,
        });
        return ((await (await fetch(`/v1/dev/token?${query}`)).json()) as { token: string }).token;
      };
      for (const [name, value] of Object.entries({
        transport: 'http',
        endpoint: '/',
        user: 'bob',
        conversation,
        owner: 'alice',
      }))
        el.setAttribute(name, value);
      el.style.width = '480px';
      document.body.append(el);
      // Every frame presented on the <video> on screen: which clip it is of, how far in (the
      // reel is stitched: one timeline, the clips one after another).
      const starts = durations.map((_, i) => durations.slice(0, i).reduce((a, b) => a + b, 0));
      const watch = () => {
        for (const video of el.shadowRoot?.querySelectorAll('video') ?? []) {
          const onFrame = (_now: number, frame: { mediaTime: number }) => {
            if (video.hasAttribute('data-active') && log.playAt) {
              log.firstFrameMs ??= performance.now() - log.playAt;
              const t = frame.mediaTime;
              const index = starts.findLastIndex((start) => start <= t + 0.02);
              log.furthest[index] = Math.max(log.furthest[index] ?? 0, t - starts[index]);
            }
            video.requestVideoFrameCallback(onFrame);
          };
          video.requestVideoFrameCallback(onFrame);
        }
      };
      // Appended, the element's code loads (the library loads it on first use).
      await customElements.whenDefined('reel-player');
      await (el as unknown as { updateComplete: Promise<void> }).updateComplete;
      watch();
    },
    { conversation, durations },
  );
}

const play = (page: EnginePage) =>
  page.evaluate(() => {
    const { el, log } = (
      window as unknown as { reel: { el: { play(): Promise<void> }; log: { playAt: number } } }
    ).reel;
    log.playAt = performance.now();
    void el.play();
  });

const reelLog = (page: EnginePage) =>
  page.evaluate(
    () =>
      (window as unknown as { reel: { log: Record<string, unknown> } }).reel.log as {
        changes: number[];
        ended: number;
        errors: string[];
        furthest: number[];
        firstFrameMs: number | null;
      },
  );

for (const engine of engines) {
  describe(`${engine}`, { timeout: 240_000 }, () => {
    it('plays the reel of three server-converted clips to its end: each clip to its end, one clip change each, one reel-ended', async () => {
      const browser = await openBrowser(engine);
      try {
        const page = await openPage(browser, 'bob', REEL);
        await addPlayer(page, REEL);
        await page.waitFor(
          () =>
            (window as unknown as { reel: { el: { playlist: unknown[] } } }).reel.el.playlist
              .length === 3,
          undefined,
          { message: 'the three clips were not listed' },
        );
        await play(page);
        await page.waitFor(
          () => (window as unknown as { reel: { log: { ended: number } } }).reel.log.ended > 0,
          undefined,
          { timeout: 30_000, message: 'the reel did not end' },
        );
        // A moment for a second reel-ended, which must not come.
        await new Promise((resolve) => setTimeout(resolve, 300));
        const log = await reelLog(page);
        assert.deepEqual(log.changes, [0, 1, 2]);
        assert.equal(log.ended, 1);
        assert.deepEqual(log.errors, []);
        reel.forEach((video, i) => {
          // Frames were shown to within a frame or two of each clip's end.
          assert.ok(
            log.furthest[i] >= video.duration! - 0.2,
            `clip ${i + 1} showed frames to ${log.furthest[i]} s of ${video.duration} s`,
          );
        });
      } finally {
        await browser.close();
      }
    });

    it(`starts each of ${FRESH_STARTS} first plays in a freshly started browser within ${START_WITHIN_MS / 1000} s`, async () => {
      const times: number[] = [];
      for (let n = 0; n < FRESH_STARTS; n++) {
        const browser = await openBrowser(engine);
        try {
          const page = await openPage(browser, 'bob', REEL);
          await addPlayer(page, REEL);
          await page.waitFor(
            () =>
              (window as unknown as { reel: { el: { playlist: unknown[] } } }).reel.el.playlist
                .length === 3,
          );
          await play(page);
          const started = await page
            .waitFor(
              () =>
                (window as unknown as { reel: { log: { firstFrameMs: number | null } } }).reel.log
                  .firstFrameMs,
              undefined,
              { timeout: 10_000, interval: 50 },
            )
            .catch(() => null);
          const log = await reelLog(page);
          times.push(started ?? Infinity);
          assert.deepEqual(log.errors, [], `start ${n + 1}: ${log.errors.join(' | ')}`);
        } finally {
          await browser.close();
        }
      }
      console.log(
        `${engine}: first frame after play() in fresh browsers: ${times.map(Math.round).join(', ')} ms`,
      );
      assert.ok(
        times.every((ms) => ms <= START_WITHIN_MS),
        `starts over ${START_WITHIN_MS} ms: ${times.map(Math.round).join(', ')}`,
      );
    });

    it(
      engine === 'webkit'
        ? 'refuses the empty take its recorder makes here, with a reel-error, and sends nothing'
        : 'records a take that the server makes a ready video of its length',
      async () => {
        const conversation = `rec-${engine}`;
        const browser = await openBrowser(engine);
        try {
          const page = await openPage(browser, 'alice', conversation);
          await page.evaluate(
            async ({ conversation }) => {
              const el = document.createElement('reel-recorder') as HTMLElement & {
                getToken: () => Promise<string>;
              };
              const log = {
                stop: null as unknown,
                complete: null as unknown,
                errors: [] as string[],
                messages: 0,
              };
              const take = { el, log, blob: null as Blob | null };
              Object.assign(window, { take });
              el.addEventListener('reel-record-stop', (e) => {
                const { duration, bytes, mimeType, blob } = (e as CustomEvent).detail;
                log.stop = { duration, bytes, mimeType };
                take.blob = blob;
              });
              el.addEventListener(
                'reel-upload-complete',
                (e) => (log.complete = (e as CustomEvent).detail),
              );
              el.addEventListener('reel-message', () => log.messages++);
              el.addEventListener('reel-error', (e) =>
                log.errors.push(String((e as CustomEvent).detail.error.message)),
              );
              el.getToken = async () => {
                const query = new URLSearchParams({
                  user: 'alice',
                  name: 'Alice',
                  conversations: conversation,
                });
                return ((await (await fetch(`/v1/dev/token?${query}`)).json()) as { token: string })
                  .token;
              };
              for (const [name, value] of Object.entries({
                transport: 'http',
                endpoint: '/',
                user: 'alice',
                conversation,
                autostart: '',
                'no-confirm': '',
              }))
                el.setAttribute(name, value);
              document.body.append(el);
              await customElements.whenDefined('reel-recorder');
            },
            { conversation },
          );
          type Take = { el: HTMLElement & { record(): Promise<void>; stop(): Promise<void> } };
          await page.waitFor(
            () =>
              (window as unknown as { take: Take }).take.el.getAttribute('state') === 'previewing',
            undefined,
            { message: 'no camera preview' },
          );
          await page.evaluate(() => void (window as unknown as { take: Take }).take.el.record());
          await page.waitFor(
            () =>
              (window as unknown as { take: Take }).take.el.getAttribute('state') === 'recording',
          );
          await new Promise((resolve) => setTimeout(resolve, CLIP_S * 1000));
          await page.evaluate(() => void (window as unknown as { take: Take }).take.el.stop());
          type Log = {
            stop: { duration: number; bytes: number; mimeType: string } | null;
            complete: Video | null;
            errors: string[];
            messages: number;
          };
          const result = () =>
            page.evaluate(() => {
              const { el, log } = (window as unknown as { take: Take & { log: unknown } }).take;
              return { state: el.getAttribute('state'), ...(log as object) };
            }) as Promise<Log & { state: string }>;
          if (engine === 'webkit') {
            await page.waitFor(
              () =>
                (window as unknown as { take: { log: { errors: string[] } } }).take.log.errors
                  .length > 0,
              undefined,
              { timeout: 20_000, message: 'the empty take was not refused' },
            );
            const log = await result();
            console.log(
              `${engine}: ${JSON.stringify(log.stop)} refused: ${log.errors.join(' | ')}`,
            );
            assert.notEqual(log.state, 'sent');
            assert.equal(log.messages, 0);
            const auth = await token('alice', conversation);
            const listed = await fetch(`${server.url}/v1/conversations/${conversation}/messages`, {
              headers: { authorization: `Bearer ${auth}` },
            });
            assert.deepEqual(((await listed.json()) as { messages: unknown[] }).messages, []);
            return;
          }
          await page.waitFor(
            () => (window as unknown as { take: Take }).take.el.getAttribute('state') === 'sent',
            undefined,
            { timeout: 30_000, message: 'the take was not sent' },
          );
          const log = await result();
          assert.deepEqual(log.errors, []);
          assert.equal(log.messages, 1);
          const video = await untilReady(
            server.url,
            await token('alice', conversation),
            conversation,
            log.complete!.id,
          );
          // What the take's media says: its bytes, as the recorder handed them over.
          const takeBase64 = await page.evaluate(async () => {
            const { blob } = (window as unknown as { take: { blob: Blob } }).take;
            const bytes = new Uint8Array(await blob.arrayBuffer());
            let binary = '';
            for (let i = 0; i < bytes.length; i += 0x8000)
              binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
            return btoa(binary);
          });
          const media = await videoTrackSeconds(Buffer.from(takeBase64, 'base64'));
          console.log(
            `${engine}: ${log.stop!.mimeType}, ${log.stop!.bytes} bytes, ${log.stop!.duration} s recorded, ${media.toFixed(3)} s of video in the take, ${video.duration} s converted`,
          );
          // The server makes a video of the take's length: as long as the take's own video.
          assert.ok(
            Math.abs(video.duration! - media) <= 0.5,
            `${media.toFixed(3)} s of video in the take, ${video.duration} s converted`,
          );
          // The recorder's length is wall-clock time from MediaRecorder.start() to stop(); the
          // take's video starts at the encoder's first frame, which a freshly started Firefox
          // under load gave 0.52 s late once (CI, 2026-12-07: 2.586 s recorded, 2.067 s
          // converted). So it covers the take's video, give or take 0.5 s, and may be longer:
          // the browser's camera starting late is not a take the server cut short.
          assert.ok(
            log.stop!.duration >= media - 0.5,
            `recorded ${log.stop!.duration} s, ${media.toFixed(3)} s of video in the take`,
          );
        } finally {
          await browser.close();
        }
      },
    );
  });
}
