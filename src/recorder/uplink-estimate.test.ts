import { expect } from '@open-wc/testing';
import { storedUplink, storeUplink, UplinkEstimate } from './uplink-estimate.js';

/** An estimate on a clock the test moves. */
function clocked() {
  const clock = { now: 0 };
  return { clock, estimate: new UplinkEstimate(() => clock.now) };
}

describe('UplinkEstimate', () => {
  it('measures the rate of a busy upload from the PATCHes that follow one another', () => {
    const { clock, estimate } = clocked();
    // A chunk of 62.5 kB every 500 ms (1 Mbit/s recorded), while the server confirms
    // 93.75 kB a second (750 kbit/s), the PATCHes back to back.
    estimate.chunk(62_500);
    clock.now = 500;
    estimate.chunk(62_500);
    clock.now = 1000;
    estimate.confirmed(93_750);
    estimate.chunk(62_500);
    clock.now = 1500;
    estimate.chunk(62_500);
    clock.now = 2000;
    estimate.confirmed(187_500);
    expect(Math.round(estimate.bitsPerSecond! / 1000)).to.be.within(740, 760);
    expect(estimate.backlog).to.equal(250_000 - 187_500);
    // 62.5 kB at 750 kbit/s: 0.67 s, the moment the last answer came.
    expect(estimate.secondsToSend()).to.be.closeTo(0.667, 0.01);
    clock.now += 500;
    expect(estimate.secondsToSend()).to.be.closeTo(0.167, 0.01);
  });

  it('counts a PATCH from when its bytes were recorded when the upload was waiting for them', () => {
    const { clock, estimate } = clocked();
    estimate.chunk(10_000);
    clock.now = 100;
    estimate.confirmed(10_000);
    clock.now = 5000; // idle for seconds: none of that is the link's time
    estimate.chunk(30_000);
    clock.now = 5200;
    estimate.confirmed(40_000);
    // 40 kB in 300 ms of busy time.
    expect(Math.round(estimate.bitsPerSecond!)).to.equal(Math.round((40_000 * 8) / 0.3));
    expect(estimate.backlog).to.equal(0);
    expect(estimate.secondsToSend()).to.equal(0);
  });

  it('gives no rate before it measured enough, and then uses the earlier take’s', () => {
    const { clock, estimate } = clocked();
    estimate.chunk(100_000);
    expect(estimate.bitsPerSecond).to.equal(undefined);
    expect(estimate.secondsToSend()).to.equal(undefined);
    expect(estimate.secondsToSend(400_000)).to.equal(2);
    clock.now = 100;
    estimate.confirmed(20_000);
    expect(estimate.bitsPerSecond).to.equal(undefined);
  });

  it('follows a link that drops: the old PATCHes leave the window', () => {
    const { clock, estimate } = clocked();
    let sent = 0;
    // 10 s at 3 Mbit/s, then 10 s at 500 kbit/s, a PATCH of 128 kB at a time.
    for (const kbps of [3000, 500]) {
      const until = clock.now + 10_000;
      while (clock.now < until) {
        estimate.chunk(128_000);
        clock.now += (128_000 * 8) / kbps;
        sent += 128_000;
        estimate.confirmed(sent);
      }
    }
    expect(Math.round(estimate.bitsPerSecond! / 1000)).to.be.within(480, 520);
  });

  it('ignores a confirmation of bytes the server already had', () => {
    const { clock, estimate } = clocked();
    estimate.chunk(50_000);
    clock.now = 400;
    estimate.confirmed(50_000);
    const rate = estimate.bitsPerSecond;
    clock.now = 900;
    estimate.confirmed(50_000);
    estimate.confirmed(20_000);
    expect(estimate.bitsPerSecond).to.equal(rate);
  });
});

describe('the stored uplink rate', () => {
  afterEach(() => localStorage.removeItem('reelchat:uplink'));

  it('keeps a take’s rate for the next, for three days', () => {
    storeUplink(812_345.6, 1_000);
    expect(storedUplink(2_000)).to.equal(812_346);
    expect(storedUplink(1_000 + 3 * 24 * 3600 * 1000 + 1)).to.equal(undefined);
  });

  it('reads nothing from a missing or damaged value, and stores no nonsense', () => {
    expect(storedUplink()).to.equal(undefined);
    localStorage.setItem('reelchat:uplink', '{not json');
    expect(storedUplink()).to.equal(undefined);
    localStorage.setItem('reelchat:uplink', JSON.stringify({ bps: 'fast', at: Date.now() }));
    expect(storedUplink()).to.equal(undefined);
    storeUplink(Number.NaN);
    storeUplink(-5);
    expect(localStorage.getItem('reelchat:uplink')).to.include('fast');
  });
});
