// The converter against real ffmpeg, with small clips made by ffmpeg here: what it makes of
// each kind of recording, and what it refuses. Reading nothing but the upload, and its
// lifecycle: converter.isolation.test.ts.
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ConvertResult } from './index.js';
import {
  CLIP_ARGS,
  FFMPEG,
  FFPROBE,
  converter,
  dir,
  ffprobe,
  makeClip,
  makeClips,
  newOutputDir,
  picture,
  rejectsWithReason,
  run,
  tone,
  useClipFolder,
} from '../test/converter.fixtures.js';

const clips: Record<string, string> = {};
useClipFolder();

async function streamsOf(playlist: string) {
  const { stdout } = await run(FFPROBE, [
    '-v',
    'error',
    '-show_streams',
    '-show_format',
    '-of',
    'json',
    playlist,
  ]);
  return JSON.parse(stdout) as {
    streams: {
      codec_type: string;
      codec_name: string;
      width?: number;
      height?: number;
      has_b_frames?: number;
      sample_rate?: string;
      channels?: number;
      profile?: string;
      side_data_list?: { rotation?: number }[];
    }[];
    format: { duration: string };
  };
}

async function segmentDurations(outputDir: string): Promise<number[]> {
  const text = await readFile(join(outputDir, 'index.m3u8'), 'utf8');
  return [...text.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
}

/** The checks every good conversion must pass, whatever came in. */
async function assertGoodOutput(source: string, outputDir: string, result: ConvertResult) {
  const files = await readdir(outputDir);
  for (const name of ['index.m3u8', 'init.mp4', 'seg0.m4s', 'poster.jpg'])
    assert.ok(files.includes(name), name);
  const info = await streamsOf(join(outputDir, 'index.m3u8'));
  const video = info.streams.find((s) => s.codec_type === 'video');
  const audio = info.streams.find((s) => s.codec_type === 'audio');
  assert.equal(video?.codec_name, 'h264');
  assert.equal(video?.has_b_frames, 0);
  assert.deepEqual(
    {
      codec: audio?.codec_name,
      profile: audio?.profile,
      rate: audio?.sample_rate,
      channels: audio?.channels,
    },
    { codec: 'aac', profile: 'LC', rate: '48000', channels: 2 },
  );
  const sourceDuration = Number(await ffprobe(source, 'format=duration'));
  assert.ok(
    Math.abs(Number(info.format.duration) - sourceDuration) <= 0.2,
    `${info.format.duration} vs ${sourceDuration}`,
  );
  assert.ok(
    Math.abs(result.duration - sourceDuration) <= 0.2,
    `${result.duration} vs ${sourceDuration}`,
  );
  const segments = await segmentDurations(outputDir);
  assert.ok(
    segments.every((s) => s <= 2.1),
    `segments ${segments}`,
  );
  assert.ok(
    segments.slice(0, -1).every((s) => s >= 1.9),
    `segments ${segments}`,
  );
  assert.equal(result.bytes, (await stat(source)).size);
  // A JPEG, of modest size, and not the black first frame.
  const poster = join(outputDir, 'poster.jpg');
  assert.deepEqual([...(await readFile(poster)).subarray(0, 3)], [0xff, 0xd8, 0xff]);
  const [posterWidth, posterHeight] = (await ffprobe(poster, 'stream=width,height'))
    .split('|')
    .map(Number);
  assert.ok(posterWidth <= 640 && posterHeight <= 640);
  const brightness = await ffprobe(
    `movie=${poster},signalstats`,
    'frame_tags=lavfi.signalstats.YAVG',
    ['-f', 'lavfi'],
  );
  assert.ok(Number(brightness) > 40, `poster brightness ${brightness}`);
  // Nothing left behind beside the output.
  assert.deepEqual(
    (await readdir(dir())).filter((name) => name.includes('.converting-')),
    [],
  );
}

before(async () => {
  Object.assign(clips, await makeClips(Object.keys(CLIP_ARGS) as (keyof typeof CLIP_ARGS)[]));
  // A phone's portrait clip: landscape pixels plus a display matrix saying "turn 90°"
  // (ffmpeg 5.1 sets it from the rotate tag when copying).
  clips['portrait.mp4'] = await makeClip('portrait.mp4', [
    '-i',
    clips['upright.mp4'],
    '-c',
    'copy',
    '-metadata:s:v:0',
    'rotate=90',
  ]);
  assert.match(await ffprobe(clips['portrait.mp4'], 'stream_side_data=rotation'), /90/);
});

describe('conversion', () => {
  const convert = converter();
  after(() => convert.close());

  test('H.264 + AAC in MP4 is remuxed', async () => {
    const out = newOutputDir();
    const result = await convert.convert(clips['h264-aac.mp4'], out);
    assert.deepEqual(
      { ...result, duration: undefined, bytes: undefined },
      {
        duration: undefined,
        bytes: undefined,
        width: 320,
        height: 240,
        videoCodec: 'h264',
        audioCodec: 'aac',
        remuxed: true,
      },
    );
    await assertGoodOutput(clips['h264-aac.mp4'], out, result);
  });

  test('H.264 + Opus in Matroska (as Chromium records) is remuxed', async () => {
    const out = newOutputDir();
    const result = await convert.convert(clips['h264-opus.mkv'], out);
    assert.equal(result.remuxed, true);
    assert.equal(result.audioCodec, 'opus');
    await assertGoodOutput(clips['h264-opus.mkv'], out, result);
  });

  test('VP8 + Opus WebM is transcoded', async () => {
    const out = newOutputDir();
    const result = await convert.convert(clips['vp8-opus.webm'], out);
    assert.equal(result.remuxed, false);
    assert.equal(result.videoCodec, 'vp8');
    await assertGoodOutput(clips['vp8-opus.webm'], out, result);
  });

  test('VP9 WebM without audio is transcoded and gets a silent track', async () => {
    const out = newOutputDir();
    const result = await convert.convert(clips['vp9-silent.webm'], out);
    assert.deepEqual([result.remuxed, result.videoCodec, result.audioCodec], [false, 'vp9', null]);
    await assertGoodOutput(clips['vp9-silent.webm'], out, result);
  });

  test('H.264 with B-frames is transcoded to none; mono 44.1 kHz becomes stereo 48 kHz', async () => {
    const source = clips['h264-bframes.mp4'];
    assert.notEqual(await ffprobe(source, 'stream=has_b_frames', ['-select_streams', 'v']), '0');
    const out = newOutputDir();
    const result = await convert.convert(source, out);
    assert.equal(result.remuxed, false);
    await assertGoodOutput(source, out, result);
    // Presentation times rise packet by packet: nothing is reordered.
    const times = (await ffprobe(join(out, 'index.m3u8'), 'packet=pts', ['-select_streams', 'v']))
      .split('\n')
      .map(Number);
    assert.ok(times.every((t, i) => i === 0 || t > times[i - 1]));
  });

  test('a portrait clip with rotation metadata is displayed portrait', async () => {
    const out = newOutputDir();
    const result = await convert.convert(clips['portrait.mp4'], out);
    assert.deepEqual([result.width, result.height, result.remuxed], [240, 320, false]);
    const video = (await streamsOf(join(out, 'index.m3u8'))).streams.find(
      (s) => s.codec_type === 'video',
    )!;
    const rotation = video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? 0;
    const sideways = Math.abs(rotation) % 180 === 90;
    const [shownWidth, shownHeight] = sideways
      ? [video.height!, video.width!]
      : [video.width!, video.height!];
    assert.ok(shownWidth < shownHeight, `${shownWidth}x${shownHeight}`);
    const [posterWidth, posterHeight] = (
      await ffprobe(join(out, 'poster.jpg'), 'stream=width,height')
    )
      .split('|')
      .map(Number);
    assert.ok(posterWidth < posterHeight);
  });

  test('a recording without duration in its header is measured from its packets', async () => {
    // Written to a pipe, so the muxer cannot go back to fill in the duration: as MediaRecorder.
    const path = join(dir(), 'recorded.webm');
    const { stdout } = await run(
      FFMPEG,
      [
        '-v',
        'error',
        ...picture().map((a) => a.replace('$T', '3')),
        '-c:v',
        'libvpx',
        '-deadline',
        'realtime',
        '-cpu-used',
        '8',
        '-f',
        'webm',
        'pipe:1',
      ],
      { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
    );
    await writeFile(path, stdout);
    assert.equal(await ffprobe(path, 'format=duration'), 'N/A');
    const result = await convert.convert(path, newOutputDir());
    assert.ok(Math.abs(result.duration - 3) <= 0.2, String(result.duration));
    await rejectsWithReason(
      converter({ maxDurationS: 1 }).convert(path, newOutputDir()),
      /^Longer than 1 s$/,
    );
  });
});

describe('refused inputs', () => {
  const convert = converter();
  after(() => convert.close());

  test('a clip over the limit', async () => {
    const short = converter({ maxDurationS: 1 });
    await rejectsWithReason(
      short.convert(clips['h264-aac.mp4'], newOutputDir()),
      /^Longer than 1 s$/,
    );
  });

  test('zero bytes, a PNG, audio only, a truncated MP4 and a truncated WebM', async () => {
    const empty = join(dir(), 'empty.webm');
    await writeFile(empty, '');
    const png = await makeClip('still.png', [...picture(), '-frames:v', '1']);
    const audioOnly = await makeClip('audio.webm', [...tone(), '-c:a', 'libopus']);
    const halfOf = async (path: string, name: string) => {
      const bytes = await readFile(path);
      await writeFile(join(dir(), name), bytes.subarray(0, bytes.length >> 1));
      return join(dir(), name);
    };
    const mp4Half = await halfOf(clips['h264-aac.mp4'], 'half.mp4');
    const webmHalf = await halfOf(clips['vp8-opus.webm'], 'half.webm');
    await rejectsWithReason(convert.convert(empty, newOutputDir()), /empty/);
    await rejectsWithReason(convert.convert(png, newOutputDir()), /Not a video file/);
    await rejectsWithReason(convert.convert(audioOnly, newOutputDir()), /no picture/);
    await rejectsWithReason(convert.convert(mp4Half, newOutputDir()), /damaged|incomplete/);
    await rejectsWithReason(convert.convert(webmHalf, newOutputDir()), /incomplete/);
    assert.deepEqual(
      (await readdir(dir())).filter((name) => name.startsWith('.out')),
      [],
    );
  });
});
