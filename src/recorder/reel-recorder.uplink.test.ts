// <reel-recorder> on an uplink slower than its recording: it says how long sending will take
// after Stop while it records, and the time left (not only a percentage) while it sends.
import { expect } from '@open-wc/testing';
import { waitUntil } from '../test-helpers/wait.js';
import type {
  ReelTransport,
  ResumableSource,
  UploadOptions,
  UploadSource,
} from '../transport/types.js';
import { streamOf } from '../transport/upload-source.js';
import './index.js';
import {
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
import { uplinkStrings } from './uplink-strings.js';

/** The memory transport's upload, its source read at `bytesPerSecond` (a slow uplink). */
function throttled(ctx: ReturnType<typeof setup>, bytesPerSecond: number): ReelTransport {
  const inner = ctx.memory;
  async function* paced(stream: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of stream) {
      await sleep((chunk.byteLength / bytesPerSecond) * 1000);
      yield chunk;
    }
  }
  return Object.assign(Object.create(inner) as ReelTransport, {
    upload: (conversation: string, source: UploadSource, options: UploadOptions) => {
      const slow: ResumableSource = {
        read: (offset: number) => paced(streamOf(source as ResumableSource, offset)),
      };
      return inner.upload(conversation, slow, options);
    },
  });
}

const status = (el: HTMLElement) =>
  (el.shadowRoot!.querySelector('[part~="status"]')?.textContent ?? '').trim();
/** The template's words before its first placeholder. */
const opening = (template: string) => template.split('{')[0];

describe('<reel-recorder> on a slow uplink', function () {
  this.timeout(30_000);
  recordInEveryEngine();
  afterEach(() => localStorage.removeItem('reelchat:uplink'));

  it('says the wait after Stop while recording, then the time left while sending', async () => {
    // 60 kB every 500 ms (960 kbit/s recorded) up a 40 kB/s (320 kbit/s) link.
    recordWith(stubRecorder(60_000));
    const ctx = setup();
    const el = await recorder(
      { ...ctx, watched: { transport: throttled(ctx, 40_000) } as typeof ctx.watched },
      { noConfirm: true },
    );
    expect(part(el, 'status')).to.not.equal(null);
    press(el, 'record-button');
    await reach(el, 'recording');
    await waitUntil(
      () => status(el).startsWith(opening(uplinkStrings.recordingSlow)),
      `the recorder says the link is slow (says "${status(el)}")`,
      { timeout: 8000 },
    );
    // The wait is in seconds (English words here), in steps of 5 (the status is read out
    // when it changes), and grows while the backlog does (by ~2 s a second here).
    const seconds = () => Number(/(\d+) seconds?/.exec(status(el))?.[1]);
    const first = seconds();
    expect(first).to.be.at.least(5);
    const said = new Set([first]);
    const started = performance.now();
    while (performance.now() - started < 4000) {
      said.add(seconds());
      await sleep(100);
    }
    for (const wait of said) expect(wait % 5, `said ${[...said].join(', ')}`).to.equal(0);
    expect(seconds()).to.be.above(first);
    const saidAtStop = seconds();
    press(el, 'stop-button');
    await reach(el, 'uploading');
    await waitUntil(
      () =>
        / left$/.test(status(el)) &&
        status(el).startsWith(opening(uplinkStrings.uploadingTimeLeft)),
      `the time left is shown (says "${status(el)}")`,
    );
    // About what was said at Stop (what was recorded meanwhile, and the time since, apart).
    expect(seconds()).to.be.within(saidAtStop / 2, saidAtStop * 1.5 + 5);
    await reach(el, 'sent', 30_000);
    // The measured rate is kept for the next take: about the link's 320 kbit/s (the pace of
    // the memory transport's reads is the link here).
    const stored = JSON.parse(localStorage.getItem('reelchat:uplink')!) as { bps: number };
    expect(stored.bps).to.be.within(200_000, 400_000);
  });

  it('says nothing of the kind when the link keeps up', async () => {
    recordWith(stubRecorder(20_000));
    const ctx = setup();
    const el = await recorder(ctx, { noConfirm: true });
    press(el, 'record-button');
    await reach(el, 'recording');
    const seen = new Set<string>();
    const started = performance.now();
    while (performance.now() - started < 3000) {
      seen.add(status(el));
      await sleep(100);
    }
    expect([...seen].some((text) => text.includes(opening(uplinkStrings.recordingSlow)))).to.equal(
      false,
    );
    press(el, 'stop-button');
    await reach(el, 'sent');
  });
});
