import { expect } from '@open-wc/testing';
import {
  AUDIO_BPS,
  LADDER,
  MIN_VIDEO_BPS,
  nextVideoBitrate,
  startingEncoding,
  UNMEASURED_VIDEO_BPS,
} from './encoding-ladder.js';

const rung = (shortSide: number) => LADDER.find((r) => r.shortSide === shortSide)!;

describe('the encoding ladder', () => {
  it('starts a take at the short side the measured uplink allows', () => {
    const at = (kbps: number) => startingEncoding(kbps * 1000);
    expect(at(3000).rung.shortSide).to.equal(720);
    expect(at(3000).videoBps).to.equal(1_500_000); // the rung's top, not the whole link
    expect(at(1500).rung.shortSide).to.equal(720);
    // The goal: at least 360 px short side at 750 kbit/s (480 here), within the link.
    expect(at(750).rung.shortSide).to.equal(480);
    expect(at(750).videoBps + AUDIO_BPS).to.be.below(750_000 * 0.75);
    expect(at(400).rung.shortSide).to.equal(360);
    // Under ~300 kbit/s only does it go below 360.
    expect(at(330).rung.shortSide).to.equal(360);
    expect(at(250).rung.shortSide).to.equal(240);
    expect(at(100).videoBps).to.equal(MIN_VIDEO_BPS);
  });

  it('starts a take no earlier take measured at 480p, 600 kbit/s', () => {
    expect(startingEncoding()).to.deep.equal({ rung: rung(480), videoBps: UNMEASURED_VIDEO_BPS });
  });

  it('comes down to the link at once when the backlog grows, and not below the floor', () => {
    // 720p at 1.5 Mbit/s when the link drops to 500 kbit/s: 318 kbit/s of video.
    const down = nextVideoBitrate(1_500_000, rung(720), {
      uplinkBps: 500_000,
      backlogSeconds: 2,
      keptUpSeconds: 0,
    });
    expect(down).to.equal(500_000 * 0.7 - AUDIO_BPS);
    const floor = nextVideoBitrate(200_000, rung(720), {
      uplinkBps: 50_000,
      backlogSeconds: 5,
      keptUpSeconds: 0,
    });
    expect(floor).to.equal(MIN_VIDEO_BPS);
    // A backlog on a link that is not slower than the recording: 15 % down all the same.
    expect(
      nextVideoBitrate(600_000, rung(480), {
        uplinkBps: 3_000_000,
        backlogSeconds: 2,
        keptUpSeconds: 0,
      }),
    ).to.equal(510_000);
  });

  it('goes up slowly, only after keeping up a while with room to spare, within the rung', () => {
    const current = 318_000;
    const roomy = { uplinkBps: 3_000_000, backlogSeconds: 0 };
    expect(nextVideoBitrate(current, rung(720), { ...roomy, keptUpSeconds: 3 })).to.equal(current);
    expect(nextVideoBitrate(current, rung(720), { ...roomy, keptUpSeconds: 6 })).to.equal(
      Math.round(current * 1.15),
    );
    expect(nextVideoBitrate(1_400_000, rung(720), { ...roomy, keptUpSeconds: 6 })).to.equal(
      1_500_000,
    );
    // No room: the link carries the recording, but not 30 % more.
    expect(
      nextVideoBitrate(current, rung(720), {
        uplinkBps: 560_000,
        backlogSeconds: 0,
        keptUpSeconds: 20,
      }),
    ).to.equal(current);
    // Nothing measured yet: as it is.
    expect(nextVideoBitrate(current, rung(720), { keptUpSeconds: 20 })).to.equal(current);
  });
});
