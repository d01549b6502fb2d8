import { expect } from '@open-wc/testing';
import { ReelError } from '../transport/errors.js';
import { fetchMediaPlaylist, parseMediaPlaylist, partAt, pickVariant, stitch } from './stitcher.js';
import { Timers } from './timers.js';
import { bufferedAhead, Watchdog, type Stall, type WatchdogProbe } from './watchdog.js';

const clipText = (map = 'init.mp4') => `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="${map}"
#EXTINF:2.000000,
seg0.m4s
#EXTINF:1.500000,
seg1.m4s
#EXT-X-ENDLIST
`;

describe('playlist stitcher', () => {
  it('resolves every segment and init segment URI against the playlist URL', () => {
    const playlist = parseMediaPlaylist(clipText(), 'https://media.test/v/a/index.m3u8?t=1');
    expect(playlist.duration).to.equal(3.5);
    expect(playlist.segments.map((s) => s.uri)).to.deep.equal([
      'https://media.test/v/a/seg0.m4s',
      'https://media.test/v/a/seg1.m4s',
    ]);
    expect(playlist.segments[0].map).to.equal('#EXT-X-MAP:URI="https://media.test/v/a/init.mp4"');
  });

  it('joins clips with a discontinuity, each with its own EXT-X-MAP, and the largest target duration', () => {
    const a = parseMediaPlaylist(clipText(), 'https://media.test/v/a/index.m3u8');
    const b = parseMediaPlaylist(
      clipText().replace('TARGETDURATION:2', 'TARGETDURATION:4'),
      'https://media.test/v/b/index.m3u8',
    );
    const { text, parts, duration } = stitch([
      { index: 0, playlist: a },
      { index: 2, playlist: b },
    ]);
    expect(duration).to.equal(7);
    expect(parts).to.deep.equal([
      { index: 0, start: 0, duration: 3.5 },
      { index: 2, start: 3.5, duration: 3.5 },
    ]);
    const lines = text.trim().split('\n');
    expect(lines).to.include('#EXT-X-TARGETDURATION:4');
    expect(lines).to.include('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(lines.at(-1)).to.equal('#EXT-X-ENDLIST');
    expect(lines.filter((l) => l === '#EXT-X-DISCONTINUITY')).to.have.length(1);
    const join = lines.indexOf('#EXT-X-DISCONTINUITY');
    expect(lines[join + 1]).to.equal('#EXT-X-MAP:URI="https://media.test/v/b/init.mp4"');
    expect(lines.filter((l) => l.startsWith('#EXT-X-MAP'))).to.have.length(2);
  });

  it('maps stitched time to the clip playing', () => {
    const parts = [
      { index: 0, start: 0, duration: 3 },
      { index: 1, start: 3, duration: 3 },
    ];
    expect(partAt(parts, 0)).to.equal(0);
    expect(partAt(parts, 2.9)).to.equal(0);
    expect(partAt(parts, 2.97)).to.equal(1);
    expect(partAt(parts, 5)).to.equal(1);
  });

  it('takes a growing EVENT playlist as a live clip: the reel stops at it, without an end, until it ends', () => {
    const ready = parseMediaPlaylist(clipText(), 'https://m.test/a/index.m3u8');
    const growing = clipText()
      .replace('#EXT-X-ENDLIST', '')
      .replace('PLAYLIST-TYPE:VOD', 'PLAYLIST-TYPE:EVENT');
    const live = parseMediaPlaylist(growing, 'https://m.test/b/index.m3u8');
    expect(live.live).to.equal(true);
    expect(ready.live).to.equal(undefined);
    const after = parseMediaPlaylist(clipText(), 'https://m.test/c/index.m3u8');
    const clips = [
      { index: 0, playlist: ready },
      { index: 1, playlist: live },
      { index: 2, playlist: after },
    ];
    const growingReel = stitch(clips);
    expect(growingReel.live).to.equal(true);
    expect(growingReel.parts.map((p) => p.index)).to.deep.equal([0, 1]);
    expect(growingReel.text).to.include('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(growingReel.text).to.not.include('#EXT-X-ENDLIST');
    expect(growingReel.text).to.not.include('https://m.test/c/');
    // The take ended: the clips after it join, the type stays EVENT, the end is there.
    clips[1] = { index: 1, playlist: { ...live, live: false } };
    const ended = stitch(clips, true);
    expect(ended.live).to.equal(false);
    expect(ended.parts.map((p) => p.index)).to.deep.equal([0, 1, 2]);
    expect(ended.text).to.include('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(ended.text.trim().split('\n').at(-1)).to.equal('#EXT-X-ENDLIST');
  });

  it('refuses unfinished playlists and follows a multivariant playlist to its first variant', () => {
    expect(() =>
      parseMediaPlaylist(clipText().replace('#EXT-X-ENDLIST', ''), 'https://m.test/x.m3u8'),
    ).to.throw(ReelError);
    const master =
      '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nlow/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1\nx.m3u8\n';
    expect(pickVariant(master, 'https://m.test/v/master.m3u8')).to.equal(
      'https://m.test/v/low/index.m3u8',
    );
  });

  it('fetches a fixture clip and reports a missing one as not-found', async () => {
    const playlist = await fetchMediaPlaylist('/test-fixtures/hls/clip1/index.m3u8');
    expect(playlist.segments).to.have.length(3);
    expect(playlist.segments[0].uri).to.equal(
      new URL('/test-fixtures/hls/clip1/seg0.m4s', location.href).href,
    );
    try {
      await fetchMediaPlaylist('/test-fixtures/hls/missing/index.m3u8');
      expect.fail('should reject');
    } catch (error) {
      expect(ReelError.is(error, 'not-found')).to.equal(true);
    }
  });
});

describe('watchdog', () => {
  const watch = (probe: () => WatchdogProbe) => {
    const timers = new Timers();
    const stalls: Stall[] = [];
    const dog = new Watchdog(timers, probe, (stall) => stalls.push(stall), {
      interval: 20,
      stallMs: 100,
    });
    dog.start();
    return { timers, stalls, dog };
  };
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('reports a still clock near the end of a clip, whatever is buffered', async () => {
    const { stalls, dog, timers } = watch(() => ({
      time: 2.8,
      active: true,
      remaining: 0.2,
      ahead: 0,
    }));
    await wait(250);
    dog.stop();
    expect(stalls.length).to.be.greaterThan(0);
    expect(stalls[0]).to.deep.equal({ time: 2.8, nearEnd: true, repeat: 0 });
    expect(timers.size).to.equal(0);
  });

  it('reports a still clock anywhere in a clip with media buffered ahead, again if it stays stuck', async () => {
    let probe: WatchdogProbe = { time: 0, active: true, remaining: 3, ahead: 10 };
    const { stalls, dog } = watch(() => probe);
    await wait(150);
    expect(stalls[0]).to.deep.equal({ time: 0, nearEnd: false, repeat: 0 });
    // A nudge moves the clock a hair; still stuck there, it is the same stall again.
    probe = { ...probe, time: 0.01 };
    await wait(150);
    expect(stalls.at(-1)).to.deep.include({ time: 0.01, repeat: 1 });
    // Once playback gets well on, a later stall is a new one.
    probe = { ...probe, time: 1.5 };
    stalls.length = 0;
    await wait(150);
    dog.stop();
    expect(stalls[0]).to.deep.equal({ time: 1.5, nearEnd: false, repeat: 0 });
  });

  it('leaves a clock waiting for data, or paused, alone', async () => {
    let probe: WatchdogProbe = { time: 1, active: true, remaining: 2, ahead: 0.1 };
    const { stalls, dog } = watch(() => probe);
    await wait(250);
    expect(stalls).to.deep.equal([]);
    probe = { time: 1, active: false, remaining: 2, ahead: 10 };
    await wait(250);
    dog.stop();
    expect(stalls).to.deep.equal([]);
  });

  it('measures what is buffered ahead of the clock', () => {
    const ranges = (list: [number, number][]) =>
      ({
        length: list.length,
        start: (i: number) => list[i][0],
        end: (i: number) => list[i][1],
      }) as TimeRanges;
    const video = (time: number, list: [number, number][]) =>
      ({ currentTime: time, buffered: ranges(list) }) as HTMLVideoElement;
    expect(bufferedAhead(video(1, [[0, 4]]))).to.equal(3);
    expect(bufferedAhead(video(0, [[0.05, 2]]))).to.be.closeTo(2, 1e-9);
    expect(
      bufferedAhead(
        video(5, [
          [0, 4],
          [6, 8],
        ]),
      ),
    ).to.equal(0);
    expect(bufferedAhead(undefined)).to.equal(0);
  });
});
