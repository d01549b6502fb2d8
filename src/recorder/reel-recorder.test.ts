// <reel-recorder> in each engine (Chromium, Firefox, WebKit): the engine's own recorder, and a
// take's way from record to sent. When things go wrong: reel-recorder.failures.test.ts.
import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { nanoid } from 'nanoid';
import sinon from 'sinon';
import { Outbox } from '../outbox/outbox.js';
import { waitUntil } from '../test-helpers/wait.js';
import { MemoryTransport } from '../transport/memory-transport.js';
import { hasTransport, registerTransport } from '../transport/registry.js';
import type {} from '../transport/types.js';
import {
  CameraRecorder,
  RECORDING_TYPES,
  STOP_TIMEOUT_MS,
  pickRecordingType,
} from './camera-recorder.js';
import './index.js';
import type { ReelRecorder } from './reel-recorder.js';
import {
  BEST_FORMAT,
  engine,
  engineRecordingBytes,
  listen,
  part,
  press,
  reach,
  recordInEveryEngine,
  recorder,
  setup,
  sleep,
} from './reel-recorder.fixtures.js';
import { recorderStrings } from './strings.js';

describe('<reel-recorder> with the engine’s own MediaRecorder', function () {
  this.timeout(20_000);
  afterEach(() => sinon.restore());

  it('picks the best format this engine offers', () => {
    const offered = RECORDING_TYPES.filter((type) => MediaRecorder.isTypeSupported(type));
    const type = pickRecordingType();
    console.log(`${engine}: offers ${offered.join(' | ')}; picked ${type}`);
    expect(type).to.equal(offered[0]);
    // Chromium: H.264 in Matroska (ahead of MP4: see RECORDING_TYPES); Firefox: no H.264
    // recorder at all, so VP8/Opus WebM; WebKit (as Safari): H.264/AAC MP4 only.
    expect(type).to.equal(BEST_FORMAT[engine]);
    if (engine === 'firefox') expect(offered.filter((t) => /avc1|h264/.test(t))).to.deep.equal([]);
  });

  it('records bytes, or (WebKitGTK here) refuses the empty take instead of staying recording', async () => {
    const bytes = await engineRecordingBytes();
    console.log(`${engine}: its MediaRecorder gave ${bytes} bytes for 1.5 s`);
    if (engine !== 'webkit') {
      expect(bytes, `${engine} records`).to.be.greaterThan(0);
      return;
    }
    if (bytes > 0) return; // WebKit records here (a streaming MP4 muxer): the other tests use it
    // WebKitGTK without isofmp4mux: its recorder yields nothing, and the element says so.
    const ctx = setup();
    const el = await recorder(ctx);
    const events = listen(el);
    press(el, 'record-button');
    await reach(el, 'recording');
    await sleep(1200);
    press(el, 'stop-button');
    await reach(el, 'error', STOP_TIMEOUT_MS + 2000);
    console.log(`webkit: the element's take: ${events['reel-error'][0]?.error.message}`);
    expect(events['reel-error'].map((d) => d.error.code)).to.deep.equal(['media']);
    expect(part(el, 'status')!.textContent).to.contain(recorderStrings.errorEmpty);
    expect(events['reel-record-stop']).to.deep.equal([]);
    await waitUntil(async () => (await ctx.outbox.pending()).length === 0, 'nothing is kept');
  });
});

describe('<reel-recorder>', function () {
  this.timeout(20_000);
  recordInEveryEngine();

  it('records, uploads while recording, and sends one message after review', async () => {
    const ctx = setup();
    const el = await recorder(ctx);
    const events = listen(el);
    expect(el.getAttribute('state')).to.equal('previewing');
    // The preview is mirrored unless the camera faces away (Firefox's fake one says it does).
    const preview = part(el, 'preview') as HTMLVideoElement;
    const [track] = (preview.srcObject as MediaStream).getVideoTracks();
    const facing = track.getSettings().facingMode;
    console.log(`${engine}: camera facingMode ${facing ?? '(none)'}`);
    expect(preview.classList.contains('mirrored')).to.equal(facing !== 'environment');

    press(el, 'record-button');
    await reach(el, 'recording');
    expect(part(el, 'countdown')!.textContent).to.contain('0:30');
    await sleep(4500);
    expect(part(el, 'elapsed')!.textContent!.trim()).to.match(/^0:0[45]$/);
    const stoppedAt = performance.now();
    press(el, 'stop-button');
    await reach(el, 'reviewing');

    const [start] = events['reel-record-start'];
    const [stop] = events['reel-record-stop'];
    expect(start.mimeType).to.match(/^video\//);
    expect(stop.clientId).to.equal(start.clientId);
    expect(stop.duration).to.be.within(4, 5.5);
    expect(stop.blob!.size).to.equal(stop.bytes);
    expect(part(el, 'review')).to.not.equal(null);

    // Bytes went to the transport while the camera was still recording.
    const before = ctx.watched.yields.filter((y) => y.at < stoppedAt);
    const early = before.reduce((sum, y) => sum + y.bytes, 0);
    console.log(
      `${start.mimeType}: ${early} of ${stop.bytes} bytes reached the transport before stop`,
    );
    expect(before.length).to.be.greaterThan(0);
    expect(early).to.be.greaterThan(0);
    // Nothing is announced as uploading before the person chooses to send.
    expect(events['reel-upload-progress']).to.deep.equal([]);

    press(el, 'send-button');
    await reach(el, 'sent');
    expect(events['reel-upload-complete']).to.have.length(1);
    const video = events['reel-upload-complete'][0];
    expect(video.bytes).to.equal(stop.bytes);
    expect(events['reel-message']).to.have.length(1);
    expect(events['reel-message'][0].message).to.include({
      clientId: start.clientId,
      video: video.id,
    });
    expect(events['reel-upload-progress'].at(-1)).to.include({
      sent: stop.bytes,
      total: stop.bytes,
    });
    expect(events['reel-error']).to.deep.equal([]);

    const page = await ctx.memory.listMessages('c1');
    expect(page.items).to.have.length(1);
    expect(page.items[0]).to.include({ clientId: start.clientId, video: video.id });
    expect(ctx.watched.results).to.have.length(1);
    expect(await ctx.outbox.pending()).to.deep.equal([]);
    expect(part(el, 'again-button')).to.not.equal(null);
  });

  it('sends on stop with no-confirm', async () => {
    const ctx = setup();
    const el = await recorder(ctx, { noConfirm: true });
    const events = listen(el);
    press(el, 'record-button');
    await sleep(1500);
    press(el, 'stop-button');
    await reach(el, 'sent');
    expect(events['reel-message']).to.have.length(1);
    expect(events['reel-upload-complete']).to.have.length(1);
    expect((await ctx.memory.listMessages('c1')).items).to.have.length(1);
    expect(await ctx.outbox.pending()).to.deep.equal([]);
  });

  it('finishes sending a take when the element is removed while it uploads', async () => {
    const room = `rec-${nanoid(6)}`;
    const outbox = new Outbox({ name: `rec-test-${nanoid(6)}` });
    // A transport the element makes itself (by name), so it is the element's to close; its
    // sends take a moment, as over a network, so the element can leave in the middle.
    if (!hasTransport('slow-memory')) {
      registerTransport('slow-memory', (options) => {
        const transport = new MemoryTransport(options);
        const send = transport.sendMessage.bind(transport);
        transport.sendMessage = async (...args) => {
          await sleep(600);
          return send(...args);
        };
        return transport;
      });
    }
    const el = await fixture<ReelRecorder>(
      html`<reel-recorder
        transport="slow-memory"
        room=${room}
        user="alice"
        conversation="c1"
        no-confirm
        autostart
        .outbox=${outbox}
      ></reel-recorder>`,
    );
    await reach(el, 'previewing');
    press(el, 'record-button');
    await reach(el, 'recording');
    await sleep(1200);
    press(el, 'stop-button');
    await reach(el, 'uploading');
    el.remove();
    const bob = new MemoryTransport({ user: 'bob', room });
    await waitUntil(
      async () => (await bob.listMessages('c1')).items.length === 1,
      'the message was not sent',
      { timeout: 10_000 },
    );
    const [message] = (await bob.listMessages('c1')).items;
    expect(message.author).to.equal('alice');
    expect(message.video).to.be.a('string');
    await waitUntil(async () => (await outbox.pending()).length === 0, 'the outbox empties');
    await bob.close();
  });

  it('leaves nothing behind when recording is cancelled', async () => {
    const ctx = setup();
    const el = await recorder(ctx);
    const events = listen(el);
    press(el, 'record-button');
    await sleep(1500);
    press(el, 'cancel-button');
    await reach(el, 'previewing');
    expect(events['reel-record-cancel']).to.have.length(1);
    await waitUntil(() => ctx.watched.results.length === 1, 'the upload ends');
    expect(ctx.watched.results[0].error?.code).to.equal('aborted');
    await waitUntil(async () => (await ctx.outbox.pending()).length === 0, 'the outbox empties');
    expect((await ctx.memory.listMessages('c1')).items).to.deep.equal([]);
    expect(events['reel-upload-complete']).to.deep.equal([]);
  });

  it('stops by itself at max-duration, counting down', async () => {
    const ctx = setup();
    const el = await recorder(ctx, { maxDuration: 2 });
    const events = listen(el);
    press(el, 'record-button');
    await reach(el, 'recording');
    expect(part(el, 'countdown')!.textContent!.trim()).to.equal('0:02 left');
    await sleep(1300);
    expect(part(el, 'countdown')!.getAttribute('part')).to.contain('countdown-ending');
    await reach(el, 'reviewing', 4000);
    expect(events['reel-record-stop'][0].duration).to.be.within(1.8, 2.8);
  });

  it('retakes: the first take is dropped, the second is sent', async () => {
    const ctx = setup();
    const el = await recorder(ctx);
    const events = listen(el);
    press(el, 'record-button');
    await sleep(1200);
    press(el, 'stop-button');
    await reach(el, 'reviewing');
    press(el, 'retake-button');
    await reach(el, 'previewing');
    await waitUntil(
      async () => (await ctx.outbox.pending()).length === 0,
      'the first take is deleted',
    );

    press(el, 'record-button');
    await sleep(1200);
    press(el, 'stop-button');
    await reach(el, 'reviewing');
    press(el, 'send-button');
    await reach(el, 'sent');
    const [first, second] = events['reel-record-start'];
    expect(first.clientId).to.not.equal(second.clientId);
    const page = await ctx.memory.listMessages('c1');
    expect(page.items.map((m) => m.clientId)).to.deep.equal([second.clientId]);
    expect(ctx.watched.results.filter((r) => r.video)).to.have.length(1);
  });

  it('is keyboard operable: one button records and stops, Escape cancels', async () => {
    const ctx = setup();
    const el = await recorder(ctx);
    const button = part(el, 'record-button') as HTMLButtonElement;
    button.focus();
    await sendKeys({ press: 'Enter' });
    await reach(el, 'recording');
    expect(el.shadowRoot!.activeElement).to.equal(button);
    expect(button.getAttribute('part')).to.contain('stop-button');
    expect(button.textContent!.trim()).to.equal(recorderStrings.stop);
    await sendKeys({ press: 'Escape' });
    await reach(el, 'previewing');
    await waitUntil(async () => (await ctx.outbox.pending()).length === 0, 'nothing kept');
  });

  it('remembers the microphone chosen (offers no choice of one)', async () => {
    const ctx = setup();
    const el = await recorder(ctx);
    const { microphones } = await CameraRecorder.devices();
    console.log(`${engine}: ${microphones.length} microphone(s)`);
    expect(microphones.length, 'a microphone is listed').to.be.greaterThan(0);
    // The element lists the devices after the preview starts.
    const listed = el as unknown as { view: { microphones: MediaDeviceInfo[] } };
    await waitUntil(() => listed.view.microphones.length === microphones.length, 'devices listed');
    await el.updateComplete;
    if (microphones.length === 1) {
      // Firefox's fake devices: one microphone, so nothing to choose or remember.
      expect(part(el, 'microphone-select')).to.equal(null);
      return;
    }
    const select = part(el, 'microphone-select') as HTMLSelectElement;
    expect(select, 'a choice of microphones').to.not.equal(null);
    expect(select.options).to.have.length(microphones.length);
    const other = [...select.options].find((option) => !option.selected)!;
    select.value = other.value;
    select.dispatchEvent(new Event('change'));
    await reach(el, 'asking-permission', 1000).catch(() => undefined);
    await reach(el, 'previewing');
    el.remove();

    const next = await recorder(setup());
    // The device choices appear once the devices are listed, which may follow the preview.
    await waitUntil(() => part(next, 'microphone-select'), 'no microphone choice');
    const chosen = part(next, 'microphone-select') as HTMLSelectElement;
    expect(chosen.value).to.equal(other.value);
  });

  it('is accessible while previewing and reviewing', async () => {
    const ctx = setup();
    const el = await recorder(ctx);
    await expect(el).to.be.accessible();
    press(el, 'record-button');
    await reach(el, 'recording');
    await expect(el).to.be.accessible();
    await sleep(800);
    press(el, 'stop-button');
    await reach(el, 'reviewing');
    await expect(el).to.be.accessible();
  });
});
