// <reel-recorder> in each engine when things go wrong: no permission or camera, a full disk,
// an empty or unfinished take, the server's refusal, a page that went away mid-upload.
import { expect, fixture, html } from '@open-wc/testing';
import sinon from 'sinon';
import type { ReelEventDetails } from '../internal/events.js';
import { resumePendingUploads } from '../outbox/deliver.js';
import { Outbox } from '../outbox/outbox.js';
import { waitUntil } from '../test-helpers/wait.js';
import { ReelError } from '../transport/errors.js';
import { MemoryTransport } from '../transport/memory-transport.js';
import type {
  ReelTransport,
  ResumableSource,
  UploadOptions,
  UploadSource,
  Video,
} from '../transport/types.js';
import { streamOf } from '../transport/upload-source.js';
import { STOP_TIMEOUT_MS, mediaError } from './camera-recorder.js';
import './index.js';
import type { ReelRecorder } from './reel-recorder.js';
import {
  listen,
  part,
  press,
  reach,
  recordInEveryEngine,
  recorder,
  setup,
  sleep,
  recordWith,
  stubRecorder,
} from './reel-recorder.fixtures.js';
import { deviceLostStrings } from './device-lost.js';
import { recorderStrings } from './strings.js';

describe('<reel-recorder> when things go wrong', function () {
  this.timeout(20_000);
  recordInEveryEngine();

  it('explains a denied permission and fires reel-error', async () => {
    sinon
      .stub(navigator.mediaDevices, 'getUserMedia')
      .rejects(new DOMException('Permission denied', 'NotAllowedError'));
    const ctx = setup();
    const el = await fixture<ReelRecorder>(
      html`<reel-recorder
        conversation="c1"
        .transport=${ctx.memory}
        .outbox=${ctx.outbox}
      ></reel-recorder>`,
    );
    const events = listen(el);
    expect(el.state).to.equal('idle');
    press(el, 'start-button');
    await reach(el, 'error');
    expect(events['reel-error'].map((d) => d.error.code)).to.deep.equal(['permission-denied']);
    expect(part(el, 'status')!.textContent).to.contain(recorderStrings.errorPermissionDenied);
    expect(part(el, 'status')!.getAttribute('role')).to.equal('alert');
    expect(part(el, 'retry-button')).to.not.equal(null);
    await expect(el).to.be.accessible();
  });

  it('explains a missing camera and fires reel-error', async () => {
    sinon
      .stub(navigator.mediaDevices, 'getUserMedia')
      .rejects(new DOMException('Requested device not found', 'NotFoundError'));
    const ctx = setup();
    const el = await fixture<ReelRecorder>(
      html`<reel-recorder
        conversation="c1"
        .transport=${ctx.memory}
        .outbox=${ctx.outbox}
      ></reel-recorder>`,
    );
    const events = listen(el);
    await el.open();
    expect(el.getAttribute('state')).to.equal('error');
    expect(events['reel-error'].map((d) => d.error.code)).to.deep.equal(['no-device']);
    expect(part(el, 'status')!.textContent).to.contain(recorderStrings.errorNoDevice);
  });

  it('says access was withdrawn, or the device went, when the preview stops', async () => {
    const ctx = setup();
    const cases = [
      ['denied', 'permission-denied', recorderStrings.errorPermissionDenied],
      ['granted', 'no-device', deviceLostStrings.errorDeviceLost],
    ] as const;
    for (const [permission, code, text] of cases) {
      // What the browser says of the camera's permission once its track has ended.
      const query = sinon
        .stub(navigator.permissions, 'query')
        .resolves({ state: permission } as PermissionStatus);
      const el = await recorder(ctx);
      const events = listen(el);
      // What a track's 'ended' calls while previewing (camera-recorder.ts): Firefox delivers
      // no 'ended' dispatched by a page to the camera's own listener, so it is called here.
      const { camera } = (el as unknown as { session: { camera: { onDeviceLost(): void } } })
        .session;
      camera.onDeviceLost();
      await reach(el, 'error');
      expect(events['reel-error'].map((d) => d.error.code)).to.deep.equal([code]);
      expect(part(el, 'status')!.textContent).to.contain(text);
      expect(part(el, 'status')!.textContent).not.to.contain(recorderStrings.errorNoDevice);
      query.restore();
      el.remove();
    }
  });

  it('maps every getUserMedia failure to a code', () => {
    const named = (name: string) => new DOMException('x', name);
    expect(mediaError(named('NotAllowedError')).code).to.equal('permission-denied');
    expect(mediaError(named('NotFoundError')).code).to.equal('no-device');
    expect(mediaError({ name: 'OverconstrainedError', constraint: 'deviceId' }).code).to.equal(
      'no-device',
    );
    expect(mediaError(named('NotReadableError')).code).to.equal('device-busy');
    expect(mediaError(named('TypeError')).code).to.equal('media');
  });

  it('says so in a browser that cannot record', async () => {
    sinon.stub(window, 'MediaRecorder').value(undefined);
    const ctx = setup();
    const el = await fixture<ReelRecorder>(
      html`<reel-recorder
        conversation="c1"
        .transport=${ctx.memory}
        .outbox=${ctx.outbox}
      ></reel-recorder>`,
    );
    const events = listen(el);
    await el.open();
    expect(el.state).to.equal('error');
    expect(events['reel-error'][0].error.code).to.equal('unsupported');
    expect(part(el, 'status')!.textContent).to.contain(recorderStrings.errorUnsupported);
  });

  it('says where videos would go when it has no conversation', async () => {
    const ctx = setup();
    const el = await fixture<ReelRecorder>(
      html`<reel-recorder
        autostart
        .transport=${ctx.memory}
        .outbox=${ctx.outbox}
      ></reel-recorder>`,
    );
    await reach(el, 'previewing');
    press(el, 'record-button');
    await reach(el, 'error');
    expect(part(el, 'status')!.textContent).to.contain(recorderStrings.errorNotConfigured);
  });

  it('surfaces a full disk as quota-exceeded and keeps nothing', async () => {
    const ctx = setup();
    const el = await recorder(ctx);
    const events = listen(el);
    // A disk cannot be filled here: IndexedDB's refusal is stood in for at its door.
    sinon
      .stub(IDBObjectStore.prototype, 'put')
      .throws(new DOMException('full', 'QuotaExceededError'));
    press(el, 'record-button');
    await reach(el, 'error');
    sinon.restore();
    expect(events['reel-error'].map((d) => d.error.code)).to.deep.equal(['quota-exceeded']);
    expect(part(el, 'status')!.textContent).to.contain(recorderStrings.errorQuota);
    expect(part(el, 'preview')!.hidden).to.equal(true);
    expect(await ctx.outbox.pending()).to.deep.equal([]);
  });

  for (const noConfirm of [false, true]) {
    it(`refuses an empty take${noConfirm ? ' with no-confirm' : ''}: no review, nothing sent, says why`, async () => {
      recordWith(stubRecorder(0));
      const ctx = setup();
      const el = await recorder(ctx, { noConfirm });
      const events = listen(el);
      press(el, 'record-button');
      await reach(el, 'recording');
      await sleep(1200);
      press(el, 'stop-button');
      await reach(el, 'error');
      expect(events['reel-error'].map((d) => d.error.code)).to.deep.equal(['media']);
      expect(part(el, 'status')!.textContent).to.contain(recorderStrings.errorEmpty);
      expect(part(el, 'status')!.getAttribute('role')).to.equal('alert');
      expect(part(el, 'review')).to.equal(null);
      expect(events['reel-record-stop']).to.deep.equal([]);
      expect(events['reel-upload-complete']).to.deep.equal([]);
      expect(events['reel-message']).to.deep.equal([]);
      await waitUntil(async () => (await ctx.outbox.pending()).length === 0, 'nothing is kept');
      expect((await ctx.memory.listMessages('c1')).items).to.deep.equal([]);
      // Try again turns the camera on for another take.
      sinon.restore();
      press(el, 'retry-button');
      await reach(el, 'previewing');
    });
  }

  for (const bytes of [0, 1000]) {
    it(`never stays recording when the recorder does not finish (${bytes ? 'with' : 'no'} bytes)`, async () => {
      recordWith(stubRecorder(bytes, { fireStop: false }));
      const ctx = setup();
      const el = await recorder(ctx);
      const events = listen(el);
      press(el, 'record-button');
      await reach(el, 'recording');
      await sleep(1200);
      press(el, 'stop-button');
      await reach(el, 'error', STOP_TIMEOUT_MS + 2000);
      expect(events['reel-error'].map((d) => d.error.code)).to.deep.equal(['media']);
      expect(part(el, 'status')!.textContent).to.contain(
        bytes ? recorderStrings.errorMedia : recorderStrings.errorEmpty,
      );
      expect(events['reel-record-stop']).to.deep.equal([]);
      expect(events['reel-message']).to.deep.equal([]);
      await waitUntil(async () => (await ctx.outbox.pending()).length === 0, 'nothing is kept');
    });
  }

  it('says what the server’s limit is when it refuses a take, and keeps the take', async () => {
    recordWith(stubRecorder(1000));
    const ctx = setup();
    const refusing = Object.assign(Object.create(ctx.memory) as ReelTransport, {
      upload: () =>
        Promise.reject(
          new ReelError('quota-exceeded', 'Too many uploads: at most 20 an hour.', {
            status: 429,
            retryAfter: 600_000,
          }),
        ),
    });
    const el = await fixture<ReelRecorder>(
      html`<reel-recorder
        conversation="c1"
        autostart
        no-confirm
        .transport=${refusing}
        .outbox=${ctx.outbox}
      ></reel-recorder>`,
    );
    await reach(el, 'previewing');
    const events = listen(el);
    press(el, 'record-button');
    await sleep(1200);
    press(el, 'stop-button');
    await reach(el, 'error');
    const status = part(el, 'status')!.textContent!;
    expect(status).to.contain('Too many uploads: at most 20 an hour.');
    expect(status).to.not.contain(recorderStrings.errorQuota);
    expect(events['reel-error'].map((d) => d.error.code)).to.deep.equal(['quota-exceeded']);
    expect(await ctx.outbox.pending()).to.have.length(1);
    expect(part(el, 'retry-button')).to.not.equal(null);
  });

  it('resumes a take a departed page left mid-upload and sends it exactly once', async () => {
    const ctx = setup();
    // The first page's network: it takes the bytes, then dies (the page goes away).
    let die: (error: ReelError) => void = () => {};
    const dying = Object.assign(Object.create(ctx.memory) as ReelTransport, {
      async upload(_c: string, source: UploadSource, options: UploadOptions): Promise<Video> {
        const reading = (async () => {
          for await (const chunk of streamOf(source as ResumableSource, 0))
            options.onProgress?.(chunk.length);
        })();
        await reading;
        return new Promise<Video>((_, reject) => (die = reject));
      },
    });
    const first = await fixture<ReelRecorder>(
      html`<reel-recorder
        conversation="c1"
        no-confirm
        autostart
        .transport=${dying}
        .outbox=${ctx.outbox}
      ></reel-recorder>`,
    );
    await reach(first, 'previewing');
    press(first, 'record-button');
    await sleep(1500);
    press(first, 'stop-button');
    await reach(first, 'uploading');
    first.remove();
    await waitUntil(
      async () => (await ctx.outbox.pending()).length === 1,
      'the take stays in the outbox',
    );
    const [left] = await ctx.outbox.pending();
    expect(left).to.include({ state: 'recorded', send: true, user: 'alice' });

    // "Reload": a new outbox instance on the same database, a new transport, a new element.
    // It comes while the first page still holds the take (its upload has not failed yet):
    // the new one waits for it to let go, as a new tab does while an old one closes.
    const outbox = new Outbox({ name: ctx.outbox.name });
    const transport = new MemoryTransport({ user: 'alice', room: ctx.room, processingDelay: 5 });
    const messages: ReelEventDetails['reel-message'][] = [];
    const second = await fixture<ReelRecorder>(
      html`<reel-recorder
        conversation="c1"
        .transport=${transport}
        .outbox=${outbox}
        @reel-message=${(event: CustomEvent<ReelEventDetails['reel-message']>) => messages.push(event.detail)}
      ></reel-recorder>`,
    );
    await sleep(300);
    expect(messages, 'nothing is sent while the first page holds the take').to.deep.equal([]);
    die(new ReelError('network', 'The page went away.'));
    await waitUntil(() => messages.length === 1, 'the resumed take is sent');
    expect(messages[0].message.clientId).to.equal(left.clientId);
    expect(second.state).to.equal('idle');
    expect(await outbox.pending()).to.deep.equal([]);

    // Another reload finds nothing to send.
    const again = await resumePendingUploads(transport, new Outbox({ name: ctx.outbox.name }));
    expect(again.messages).to.deep.equal([]);
    const page = await transport.listMessages('c1');
    expect(page.items.map((m) => m.clientId)).to.deep.equal([left.clientId]);
    const video = await transport.getVideo('c1', page.items[0].video!);
    expect(video.bytes).to.equal(left.bytes);
  });
});
