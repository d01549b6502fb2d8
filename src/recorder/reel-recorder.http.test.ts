// <reel-recorder> against the real reference server (started by the test runner), through
// the http transport: the "done when" list, in Chromium with the fake camera.
import { expect, fixture, html } from '@open-wc/testing';
import { waitUntil } from '../test-helpers/wait.js';
import { nanoid } from 'nanoid';
import type { ReelEventDetails } from '../internal/events.js';
import { Outbox } from '../outbox/outbox.js';
import { ReelError } from '../transport/errors.js';
import { HttpTransport } from '../transport/http/http-transport.js';
import '../transport/index.js';
import type { Video } from '../transport/types.js';
import './index.js';
import type { RecorderState, ReelRecorder } from './reel-recorder.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The reference server the test runner started (web-test-runner.config.mjs); with `env`,
 * one of its own with those REELCHAT_* settings.
 */
async function server(env?: Record<string, string>): Promise<string> {
  const query = env ? `?${new URLSearchParams({ env: JSON.stringify(env) })}` : '';
  return ((await (await fetch(`/__reelchat/server.json${query}`)).json()) as { url: string }).url;
}

/**
 * A proxy before the server that cuts the next `times` PATCHes after `after` bytes and
 * answers 408, as a front proxy's body timeout does (scripts/fault-proxy.mjs).
 */
async function cuttingProxy(id: string, after: number, times: number): Promise<string> {
  await fetch(`/__reelchat/faults?${new URLSearchParams({ id, clear: '1' })}`);
  const rule = { method: 'PATCH', path: '/v1/uploads/', status: '408', mode: 'cut' };
  const query = new URLSearchParams({ id, ...rule, after: String(after), times: String(times) });
  return ((await (await fetch(`/__reelchat/faults?${query}`)).json()) as { url: string }).url;
}

/** A loopback proxy in front of the server that can be cut (`down`) and restored (`up`). */
async function proxy(id: string, state?: 'down' | 'up'): Promise<string> {
  const query = new URLSearchParams({ id, ...(state ? { state } : {}) });
  return ((await (await fetch(`/__reelchat/proxy?${query}`)).json()) as { url: string }).url;
}

async function devToken(endpoint: string, user: string, conversation: string): Promise<string> {
  const query = new URLSearchParams({ user, name: 'Alice', conversations: conversation });
  const response = await fetch(`${endpoint}/v1/dev/token?${query}`);
  return ((await response.json()) as { token: string }).token;
}

async function sha256(blob: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Everything a test needs: a fresh conversation, a token, a direct transport to check the server with. */
async function setup(env?: Record<string, string>) {
  const endpoint = await server(env);
  const conversation = `rh-${nanoid(8)}`;
  const token = await devToken(endpoint, 'alice', conversation);
  const direct = new HttpTransport({ endpoint, token });
  const outbox = new Outbox({ name: `rec-http-${nanoid(6)}` });
  /** What the server itself says about an upload: tus HEAD, straight to the server. */
  const head = async (uploadUrl: string) => {
    const url = new URL(new URL(uploadUrl).pathname, endpoint);
    const response = await fetch(url, {
      method: 'HEAD',
      headers: { Authorization: `Bearer ${token}`, 'Tus-Resumable': '1.0.0' },
      cache: 'no-store',
    });
    return { status: response.status, offset: Number(response.headers.get('Upload-Offset')) };
  };
  const ready = async (id: string): Promise<Video> => {
    let video: Video | undefined;
    await waitUntil(
      async () => {
        video = await direct.getVideo(conversation, id);
        return video.state !== 'processing';
      },
      `video ${id} to be converted`,
      { timeout: 30_000, interval: 100 },
    );
    expect(video!.state, video!.reason).to.equal('ready');
    return video!;
  };
  return { endpoint, conversation, token, direct, outbox, head, ready };
}

type Ctx = Awaited<ReturnType<typeof setup>>;
type Events = { [K in keyof ReelEventDetails]: ReelEventDetails[K][] };

function listen(el: HTMLElement): Events {
  const seen = {} as Record<string, unknown[]>;
  for (const name of [
    'reel-record-start',
    'reel-record-stop',
    'reel-upload-complete',
    'reel-message',
    'reel-error',
  ]) {
    seen[name] = [];
    el.addEventListener(name, (event) => seen[name].push((event as CustomEvent).detail));
  }
  return seen as unknown as Events;
}

function press(el: ReelRecorder, name: string): void {
  const button = el.shadowRoot!.querySelector<HTMLButtonElement>(`[part~="${name}"]`);
  expect(button, `${name} is shown in state ${el.state}`).to.not.equal(null);
  button!.click();
}

async function reach(el: ReelRecorder, state: RecorderState, timeout = 10_000): Promise<void> {
  await waitUntil(() => el.state === state, `expected state ${state}, still ${el.state}`, {
    timeout,
  });
}

/** The tus upload URL the transport remembered in the outbox for the take being recorded. */
async function uploadUrl(ctx: Ctx, events: Events): Promise<string> {
  let url: string | undefined;
  await waitUntil(
    async () => {
      const clientId = events['reel-record-start'][0]?.clientId;
      url = clientId ? (await ctx.outbox.get(clientId))?.upload?.url : undefined;
      return url !== undefined;
    },
    'the upload is created',
    { timeout: 10_000 },
  );
  return url!;
}

/** Exactly one message in the conversation, pointing at the take's video. */
async function oneMessage(ctx: Ctx, clientId: string): Promise<string> {
  const page = await ctx.direct.listMessages(ctx.conversation);
  expect(page.items).to.have.length(1);
  expect(page.items[0].clientId).to.equal(clientId);
  expect(page.items[0].video).to.be.a('string');
  return page.items[0].video!;
}

/** A recorder without review on `transport`, recording, with bytes already on the server. */
async function recordingThrough(ctx: Ctx, transport: HttpTransport) {
  const el = await fixture<ReelRecorder>(
    html`<reel-recorder
      conversation=${ctx.conversation}
      no-confirm
      autostart
      .transport=${transport}
      .outbox=${ctx.outbox}
    ></reel-recorder>`,
  );
  await reach(el, 'previewing');
  const events = listen(el);
  press(el, 'record-button');
  const url = await uploadUrl(ctx, events);
  await waitUntil(async () => (await ctx.head(url)).offset > 0, 'bytes reach the server', {
    timeout: 10_000,
    interval: 100,
  });
  return { el, events, url };
}

describe('<reel-recorder> with the http transport (reference server)', function () {
  this.timeout(45_000);

  it('live: sends the message at Record, the video is live while recording, Cancel withdraws it', async () => {
    const ctx = await setup();
    const el = await fixture<ReelRecorder>(
      html`<reel-recorder
        transport="http"
        endpoint=${ctx.endpoint}
        token=${ctx.token}
        conversation=${ctx.conversation}
        live
        autostart
        .outbox=${ctx.outbox}
      ></reel-recorder>`,
    );
    await reach(el, 'previewing');
    const events = listen(el);
    press(el, 'record-button');
    const recordAt = performance.now();
    await waitUntil(() => events['reel-message'].length > 0, 'no message at Record', {
      timeout: 5_000,
    });
    const sentAfter = performance.now() - recordAt;
    expect(el.state).to.equal('recording');
    expect(sentAfter, `sent ${Math.round(sentAfter)} ms after Record`).to.be.below(2_000);
    const [{ message }] = events['reel-message'];
    const clientId = events['reel-record-start'][0].clientId!;
    expect(await oneMessage(ctx, clientId)).to.equal(message.video);
    // The buddy could watch now: the video goes live while Alice still records.
    await waitUntil(
      async () => (await ctx.direct.getVideo(ctx.conversation, message.video!)).state === 'live',
      'the video never went live',
      { timeout: 15_000, interval: 200 },
    );
    expect(el.state).to.equal('recording');
    press(el, 'cancel-button');
    await waitUntil(
      async () => (await ctx.direct.listMessages(ctx.conversation)).items[0]?.deleted === true,
      'the message was not withdrawn',
    );
    const gone = await ctx.direct.getVideo(ctx.conversation, message.video!).catch((e) => e);
    expect((gone as ReelError).code).to.equal('not-found');
  });

  it('records 5 s, uploads while recording, and sends one message with a 5 s video', async () => {
    const ctx = await setup();
    const el = await fixture<ReelRecorder>(
      html`<reel-recorder
        transport="http"
        endpoint=${ctx.endpoint}
        token=${ctx.token}
        conversation=${ctx.conversation}
        max-duration="30"
        autostart
        .outbox=${ctx.outbox}
      ></reel-recorder>`,
    );
    await reach(el, 'previewing');
    const events = listen(el);
    press(el, 'record-button');
    await reach(el, 'recording');
    const startedAt = performance.now();
    const url = await uploadUrl(ctx, events);
    // Watch the server's offset while recording: bytes must land there before stop.
    let serverBytes = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        serverBytes = Math.max(serverBytes, (await ctx.head(url)).offset);
        await sleep(200);
      }
    })();
    await sleep(5000 - (performance.now() - startedAt));
    watching = false;
    await watcher;
    press(el, 'stop-button');
    await reach(el, 'reviewing');
    const [stop] = events['reel-record-stop'];
    // The take plays back from memory (a Matroska blob, in Chromium).
    const review = el.shadowRoot!.querySelector<HTMLVideoElement>('[part~="review"]')!;
    await waitUntil(() => review.readyState >= 1, `the take plays back (${stop.mimeType})`, {
      timeout: 5000,
    });
    console.log(
      `${stop.mimeType}: ${serverBytes} of ${stop.bytes} bytes were on the server before stop`,
    );
    expect(serverBytes).to.be.greaterThan(0);

    press(el, 'send-button');
    await reach(el, 'sent', 20_000);
    expect(events['reel-error']).to.deep.equal([]);
    expect(events['reel-message']).to.have.length(1);
    const videoId = await oneMessage(ctx, stop.clientId!);
    expect(events['reel-upload-complete'][0].id).to.equal(videoId);
    const video = await ctx.ready(videoId);
    expect(video.duration).to.be.within(4.5, 5.5);
    expect(video.bytes).to.equal(stop.bytes);
    expect(video.sha256).to.equal(await sha256(stop.blob!));
    expect((await ctx.head(url)).offset).to.equal(stop.bytes);
    expect(await ctx.outbox.pending()).to.deep.equal([]);
    await ctx.direct.close();
  });

  it('keeps nothing on the server when recording is cancelled', async () => {
    const ctx = await setup();
    const el = await fixture<ReelRecorder>(
      html`<reel-recorder
        transport="http"
        endpoint=${ctx.endpoint}
        token=${ctx.token}
        conversation=${ctx.conversation}
        autostart
        .outbox=${ctx.outbox}
      ></reel-recorder>`,
    );
    await reach(el, 'previewing');
    const events = listen(el);
    press(el, 'record-button');
    const url = await uploadUrl(ctx, events);
    const id = new URL(url).pathname.split('/').pop()!;
    expect((await ctx.head(url)).status).to.equal(200);
    expect((await ctx.direct.getVideo(ctx.conversation, id)).state).to.equal('processing');
    await sleep(1500);
    press(el, 'cancel-button');
    await reach(el, 'previewing');
    await waitUntil(async () => [404, 410].includes((await ctx.head(url)).status), 'terminated', {
      timeout: 10_000,
    });
    try {
      await ctx.direct.getVideo(ctx.conversation, id);
      expect.fail('the video should be gone');
    } catch (error) {
      expect(ReelError.is(error, 'not-found'), String(error)).to.equal(true);
    }
    expect(await ctx.direct.listVideos(ctx.conversation, 'alice')).to.deep.equal([]);
    expect((await ctx.direct.listMessages(ctx.conversation)).items).to.deep.equal([]);
    await waitUntil(async () => (await ctx.outbox.pending()).length === 0, 'the outbox empties');
    await ctx.direct.close();
  });

  it('finishes the upload after the network is cut and comes back: byte-identical, one message', async () => {
    const ctx = await setup();
    const endpoint = await proxy('cut', 'up');
    const transport = new HttpTransport({ endpoint, token: ctx.token });
    const { el, events, url } = await recordingThrough(ctx, transport);
    await proxy('cut', 'down');
    const cutAt = (await ctx.head(url)).offset;
    await sleep(1500);
    press(el, 'stop-button');
    await reach(el, 'uploading');
    await sleep(1000);
    // Nothing got through meanwhile, and the element is still trying.
    expect((await ctx.head(url)).offset).to.equal(cutAt);
    expect(el.state).to.equal('uploading');
    await proxy('cut', 'up');

    await reach(el, 'sent', 25_000);
    const [stop] = events['reel-record-stop'];
    expect(events['reel-error']).to.deep.equal([]);
    const videoId = await oneMessage(ctx, stop.clientId!);
    const video = await ctx.ready(videoId);
    expect(video.bytes).to.equal(stop.bytes);
    expect(video.sha256).to.equal(await sha256(stop.blob!));
    await transport.close();
    await ctx.direct.close();
  });

  it('resumes after a reload mid-upload from the server offset and sends one message', async () => {
    const ctx = await setup();
    const endpoint = await proxy('reload', 'up');
    const first = new HttpTransport({ endpoint, token: ctx.token });
    const { el, events, url } = await recordingThrough(ctx, first);
    // The network stalls, the person presses stop, and the page goes away mid-upload.
    await proxy('reload', 'down');
    await sleep(800);
    press(el, 'stop-button');
    await reach(el, 'uploading');
    const [stop] = events['reel-record-stop'];
    el.remove();
    await first.close(); // what a page going away does to its requests: no termination
    const onServer = await ctx.head(url);
    expect(onServer.status).to.equal(200);
    expect(onServer.offset).to.be.within(1, stop.bytes - 1);
    const [left] = await ctx.outbox.pending();
    expect(left).to.include({ clientId: stop.clientId, state: 'recorded', send: true });
    // The outbox already let go of chunks the server confirmed: only a resume from the
    // server's offset can finish this upload.
    expect(left.dropped).to.be.greaterThan(0);

    // The network is back, and still the server keeps the upload where it was: closing a
    // transport is not cancelling (no termination now, nor one retried later).
    await proxy('reload', 'up');
    await sleep(1500);
    expect(await ctx.head(url)).to.deep.equal(onServer);

    // "Reload": a new outbox on the same database, a new transport, a new element.
    const outbox = new Outbox({ name: ctx.outbox.name });
    const second = new HttpTransport({ endpoint, token: ctx.token });
    const messages: ReelEventDetails['reel-message'][] = [];
    const again = await fixture<ReelRecorder>(
      html`<reel-recorder
        conversation=${ctx.conversation}
        .transport=${second}
        .outbox=${outbox}
        @reel-message=${(event: CustomEvent<ReelEventDetails['reel-message']>) =>
          messages.push(event.detail)}
      ></reel-recorder>`,
    );
    await waitUntil(() => messages.length === 1, 'the resumed take is sent', { timeout: 20_000 });
    expect(again.state).to.equal('idle');
    expect(await outbox.pending()).to.deep.equal([]);
    const videoId = await oneMessage(ctx, stop.clientId!);
    expect(videoId).to.equal(new URL(url).pathname.split('/').pop());
    const video = await ctx.ready(videoId);
    expect(video.bytes).to.equal(stop.bytes);
    expect(video.sha256).to.equal(await sha256(stop.blob!));
    await second.close();
    await ctx.direct.close();
  });

  it('finishes a take whose uploads a proxy cuts with 408s: byte-identical, one message', async () => {
    const ctx = await setup();
    const endpoint = await cuttingProxy('recorder-408', 20_000, 3);
    const transport = new HttpTransport({ endpoint, token: ctx.token });
    const { el, events } = await recordingThrough(ctx, transport);
    await sleep(2500);
    press(el, 'stop-button');
    await reach(el, 'sent', 25_000);
    expect(events['reel-error']).to.deep.equal([]);
    const [stop] = events['reel-record-stop'];
    const videoId = await oneMessage(ctx, stop.clientId!);
    const video = await ctx.ready(videoId);
    expect(video.bytes).to.equal(stop.bytes);
    expect(video.sha256).to.equal(await sha256(stop.blob!));
    await transport.close();
    await ctx.direct.close();
  });

  it('says which server limit refused a take, and keeps the take to send later', async () => {
    const ctx = await setup({
      REELCHAT_QUOTA_UPLOADS_BURST: '1',
      REELCHAT_QUOTA_UPLOADS_PER_HOUR: '1',
    });
    // This hour's one upload goes elsewhere.
    const sample = await (await fetch('/test-fixtures/video/sample.webm')).blob();
    await ctx.direct.upload(ctx.conversation, sample, { clientId: nanoid(), type: 'video/webm' });
    const el = await fixture<ReelRecorder>(
      html`<reel-recorder
        conversation=${ctx.conversation}
        no-confirm
        autostart
        .transport=${ctx.direct}
        .outbox=${ctx.outbox}
      ></reel-recorder>`,
    );
    await reach(el, 'previewing');
    const events = listen(el);
    press(el, 'record-button');
    await sleep(1500);
    press(el, 'stop-button');
    await reach(el, 'error');
    const status = el.shadowRoot!.querySelector('[part~="status"]')!.textContent!;
    expect(status).to.match(/too many uploads/i);
    expect(events['reel-error'].at(-1)!.error).to.include({ code: 'quota-exceeded', status: 429 });
    const [left] = await ctx.outbox.pending();
    expect(left).to.include({ clientId: events['reel-record-stop'][0].clientId, send: true });
    expect((await ctx.direct.listMessages(ctx.conversation)).items).to.deep.equal([]);
    expect(el.shadowRoot!.querySelector('[part~="retry-button"]')).to.not.equal(null);
    await ctx.direct.close();
  });

  // Permission denied and no camera are in reel-recorder.test.ts: they fail before any
  // transport is used, so the real server adds nothing there.
});
