// Press-and-hold on Record (issue 22): a held press records for as long as it is held and its
// release sends (with `no-confirm`) or goes to review; sliding away cancels; a tap records until
// Stop; holding Space on the focused button does what holding the pointer does.
import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { waitUntil } from '../test-helpers/wait.js';
import './index.js';
import type { ReelRecorder } from './reel-recorder.js';
import {
  engine,
  listen,
  part,
  reach,
  recordInEveryEngine,
  setup,
  sleep,
} from './reel-recorder.fixtures.js';
import { SLIDE_CANCEL_PX } from './hold-to-record.js';

async function recorderWith(noConfirm: boolean) {
  const ctx = setup();
  const el = await fixture<ReelRecorder>(
    html`<reel-recorder
      conversation="c1"
      ?no-confirm=${noConfirm}
      autostart
      .transport=${ctx.watched.transport}
      .outbox=${ctx.outbox}
    ></reel-recorder>`,
  );
  await reach(el, 'previewing');
  return { el, events: listen(el) };
}

/** A pointer event at the middle of `node` (moved by `dx`), as a mouse's primary button. */
function pointer(type: string, node: Element, dx = 0): PointerEvent {
  const box = node.getBoundingClientRect();
  return new PointerEvent(type, {
    bubbles: true,
    composed: true,
    button: 0,
    pointerId: 1,
    pointerType: 'mouse',
    clientX: box.left + box.width / 2 + dx,
    clientY: box.top + box.height / 2,
  });
}

/** Presses Record, holds it `ms`, and lets go (with the click a browser fires after). */
async function hold(el: ReelRecorder, ms: number, slide = 0): Promise<void> {
  const button = part(el, 'record-button')!;
  button.dispatchEvent(pointer('pointerdown', button));
  await sleep(ms / 2);
  if (slide) window.dispatchEvent(pointer('pointermove', button, slide));
  await sleep(ms / 2);
  const under = part(el, 'stop-button') ?? part(el, 'record-button') ?? button;
  window.dispatchEvent(pointer('pointerup', under, slide));
  // Released where it was pressed, the browser clicks the button there; slid off, it does not.
  if (!slide) under.click();
}

describe('<reel-recorder> press and hold', function () {
  this.timeout(30_000);
  recordInEveryEngine();

  it('held 2.5 s and released with no-confirm: a take of that length is sent', async () => {
    const { el, events } = await recorderWith(true);
    await hold(el, 2500);
    await waitUntil(() => events['reel-message'].length === 1, 'the take was not sent');
    const [stop] = events['reel-record-stop'];
    // WebKit's stand-in recorder (a file of its own) ends late: 3.6 s measured for this hold.
    expect(stop.duration).to.be.within(1.8, engine === 'webkit' ? 4.5 : 3.2);
    expect(events['reel-record-start']).to.have.length(1);
    expect(events['reel-record-cancel']).to.have.length(0);
  });

  it('released with confirmation on: the review', async () => {
    const { el, events } = await recorderWith(false);
    await hold(el, 1500);
    await reach(el, 'reviewing');
    expect(events['reel-record-stop']).to.have.length(1);
    await expect(el).to.be.accessible();
  });

  it('slid away before the release: cancelled, back to the preview', async () => {
    const { el, events } = await recorderWith(true);
    await hold(el, 1500, SLIDE_CANCEL_PX + 20);
    await waitUntil(() => events['reel-record-cancel'].length === 1, 'not cancelled');
    await reach(el, 'previewing');
    expect(events['reel-message']).to.have.length(0);
  });

  it('a tap records until Stop', async () => {
    const { el, events } = await recorderWith(false);
    await hold(el, 100);
    await reach(el, 'recording');
    await sleep(800);
    expect(el.state).to.equal('recording');
    part(el, 'stop-button')!.click();
    await reach(el, 'reviewing');
    expect(events['reel-record-start']).to.have.length(1);
  });

  it('holding Space on Record records until it is let go', async () => {
    const { el, events } = await recorderWith(false);
    const button = part(el, 'record-button')!;
    button.focus();
    // WebKit's driver only presses keys whole: there the key's two events come from the page.
    const key = (type: 'keydown' | 'keyup') =>
      engine === 'webkit'
        ? button.dispatchEvent(
            new KeyboardEvent(type, { key: ' ', bubbles: true, composed: true, cancelable: true }),
          )
        : sendKeys(type === 'keydown' ? { down: ' ' } : { up: ' ' });
    await key('keydown');
    await reach(el, 'recording');
    await sleep(1500);
    await key('keyup');
    await reach(el, 'reviewing');
    expect(events['reel-record-stop'][0].duration).to.be.within(1, 2.6);
  });
});
