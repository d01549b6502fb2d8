// What one clip may cost ffmpeg (issue 10, items 3, 5 and 6): limits on the displayed
// picture, a pixel budget from the frames really in the file, a capped output size, and
// peak ffmpeg memory measured from /proc. Real ffmpeg, clips made here.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { readConfig } from '../config.js';
import { Converter, ConvertError, type ConvertResult } from './index.js';
import { checkTranscodeBudget } from './limits.js';
import { DEFAULT_CLIP_LIMITS, type ConversionCost, type ConverterOptions } from './types.js';

const run = promisify(execFile);
const FFMPEG = process.env.FFMPEG_PATH || 'ffmpeg';
const FFPROBE = process.env.FFPROBE_PATH || 'ffprobe';
/** A converter given this can only answer from its ffprobe checks: ffmpeg never runs. */
const NO_FFMPEG = '/nonexistent/ffmpeg';
const MB = 1024 * 1024;

let dir: string;
let outputs = 0;
const clips: Record<string, string> = {};

async function ffmpeg(args: string[]): Promise<void> {
  await run(FFMPEG, ['-v', 'error', '-y', ...args]);
}

function converter(options: Partial<ConverterOptions> = {}): Converter {
  return new Converter({
    ffmpegPath: FFMPEG,
    ffprobePath: FFPROBE,
    concurrency: 1,
    maxDurationS: 300,
    ...options,
  });
}

const newOutputDir = (): string => join(dir, `out${outputs++}`);

async function rejectsWithReason(promise: Promise<unknown>, reason: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ConvertError, `expected ConvertError, got ${String(error)}`);
    assert.match(error.reason, reason);
    return true;
  });
}

/** Width and height of the first video stream (and its rotation, if any). */
async function videoSize(path: string): Promise<{ width: number; height: number }> {
  const { stdout } = await run(FFPROBE, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=width,height',
    '-of',
    'json',
    path,
  ]);
  const [stream] = (JSON.parse(stdout) as { streams: { width: number; height: number }[] }).streams;
  return { width: stream.width, height: stream.height };
}

/**
 * Runs `work` while polling /proc for ffmpeg processes reading `input`; resolves with its
 * result and the sum of their peak resident memory (VmHWM), in bytes.
 */
async function withPeakMemory<T>(
  input: string,
  work: () => Promise<T>,
): Promise<{ result: T; peakBytes: number; processes: number }> {
  const peaks = new Map<number, number>();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      for (const entry of await readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
        const argv = cmdline.split('\0');
        if (!/ffmpeg$/.test(argv[0]) || !argv.some((a) => a.endsWith(input))) continue;
        const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
        const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
        peaks.set(Number(entry), Math.max(peaks.get(Number(entry)) ?? 0, kb * 1024));
      }
      await sleep(5);
    }
  })();
  try {
    const result = await work();
    return {
      result,
      peakBytes: [...peaks.values()].reduce((sum, bytes) => sum + bytes, 0),
      processes: peaks.size,
    };
  } finally {
    watching = false;
    await watcher;
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelchat-limits-'));
  const path = (name: string): string => (clips[name] = join(dir, name));
  // As Chromium records H.264 (baseline, no B-frames): today's code copies such a clip.
  const recorderH264 = ['-c:v', 'libx264', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p'];
  await Promise.all([
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=4096x4096:rate=30:duration=1'],
      ...[...recorderH264, '-preset', 'ultrafast', '-crf', '35', '-g', '30'],
      path('square-4096.mp4'),
    ]),
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=2560x1440:rate=30:duration=1'],
      ...[...recorderH264, '-preset', 'ultrafast'],
      path('landscape-1440p.mp4'),
    ]),
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'color=c=red:size=2x2:rate=30:duration=1', '-vf', 'scale=1:1'],
      ...['-c:v', 'libvpx', '-deadline', 'realtime'],
      path('one-pixel.webm'),
    ]),
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=16x16:rate=30:duration=1'],
      ...['-c:v', 'libvpx', '-deadline', 'realtime'],
      path('sixteen.webm'),
    ]),
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30:duration=2'],
      ...['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8'],
      path('small-vp8.webm'),
    ]),
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30:duration=2'],
      ...[...recorderH264, '-g', '60'],
      path('small-h264.mp4'),
    ]),
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=400x400:rate=30:duration=1'],
      ...[...recorderH264, '-aspect', '8:1'],
      path('stretched-pixels.mp4'),
    ]),
  ]);
  // The clip: the same pixels, flagged as 4:1 pixels (a remux, nothing re-encoded).
  await ffmpeg([
    ...['-i', clips['square-4096.mp4'], '-c', 'copy', '-aspect', '4:1'],
    path('aspect-4to1.mp4'),
  ]);
  // 4096×4096 coded pictures whose header crops them to a stated 16×16.
  await ffmpeg([
    ...['-i', clips['square-4096.mp4'], '-c', 'copy'],
    ...['-bsf:v', 'h264_metadata=crop_right=4080:crop_bottom=4080'],
    path('cropped-to-16.mp4'),
  ]);
  // A phone's portrait clip: landscape pixels and a display matrix saying "turn 90°"
  // (ffmpeg 5.1 sets it from the rotate tag when copying).
  await ffmpeg([
    ...['-i', clips['landscape-1440p.mp4'], '-c', 'copy', '-metadata:s:v:0', 'rotate=90'],
    path('portrait-1440p.mp4'),
  ]);
  // 300 s of 4096×4096 at 60 fps in 15 MB, made in seconds: one second of a still picture
  // as raw H.264, its bytes repeated 300 times, then put into Matroska with 60 fps times.
  const second = join(dir, 'second.h264');
  await ffmpeg([
    ...['-f', 'lavfi', '-i', 'color=c=gray:size=4096x4096:rate=60:duration=1'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '51', '-g', '60'],
    ...['-pix_fmt', 'yuv420p', '-f', 'h264', second],
  ]);
  const repeated = join(dir, 'repeated.h264');
  await writeFile(repeated, Buffer.concat(Array<Buffer>(300).fill(await readFile(second))));
  await ffmpeg(['-f', 'h264', '-framerate', '60', '-i', repeated, '-c', 'copy', path('long.mkv')]);
  // A stream whose picture grows mid-way: a second sequence header, four times the size.
  const small = join(dir, 'small.h264');
  const large = join(dir, 'large.h264');
  await ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30:duration=1'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'h264', small],
  ]);
  await ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x960:rate=30:duration=1'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'h264', large],
  ]);
  const growing = join(dir, 'growing.h264');
  await writeFile(growing, Buffer.concat([await readFile(small), await readFile(large)]));
  await ffmpeg([
    '-f',
    'h264',
    '-framerate',
    '30',
    '-i',
    growing,
    '-c',
    'copy',
    path('growing.mkv'),
  ]);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the picture as displayed', () => {
  const probeOnly = converter({ ffmpegPath: NO_FFMPEG });

  test('4096×4096 flagged with 4:1 pixels is refused by its displayed size, before ffmpeg', async () => {
    await rejectsWithReason(
      probeOnly.convert(clips['aspect-4to1.mp4'], newOutputDir()),
      /^The picture is larger than 4096 pixels as displayed \(16384×4096\)$/,
    );
  });

  test('absurd pixel aspect within the size limit is refused too', async () => {
    await rejectsWithReason(
      probeOnly.convert(clips['stretched-pixels.mp4'], newOutputDir()),
      /^The pixel aspect ratio is out of range \(8:1; at most 3:1 either way\)$/,
    );
  });

  test('a 1×1 video is refused as too small; 16×16 converts', async () => {
    await rejectsWithReason(
      probeOnly.convert(clips['one-pixel.webm'], newOutputDir()),
      /^The picture is too small \(1×1; at least 16×16 pixels\)$/,
    );
    const result = await converter().convert(clips['sixteen.webm'], newOutputDir());
    assert.deepEqual([result.width, result.height], [16, 16]);
  });

  test('pictures larger than the stated size (growing mid-way, or cropped) are refused', async () => {
    assert.deepEqual(await videoSize(clips['growing.mkv']), { width: 320, height: 240 });
    await rejectsWithReason(
      converter().convert(clips['growing.mkv'], newOutputDir()),
      /^The video holds pictures larger than its stated 320×240$/,
    );
    assert.deepEqual(await videoSize(clips['cropped-to-16.mp4']), { width: 16, height: 16 });
    await rejectsWithReason(
      converter().convert(clips['cropped-to-16.mp4'], newOutputDir()),
      /^The video holds pictures larger than its stated 16×16$/,
    );
  });
});

describe('the pixel budget', () => {
  test('300 s of 4096×4096 at 60 fps (15 MB) is refused at probe, without decoding', async () => {
    const started = Date.now();
    await rejectsWithReason(
      converter({ ffmpegPath: NO_FFMPEG }).convert(clips['long.mkv'], newOutputDir()),
      /^Too much video to convert \(4096×4096 at 60 fps for 300 s is 302 gigapixels; the limit is 20, about 321 s of 1080p at 30 fps\)$/,
    );
    // Reading 18 000 packet times, not decoding 18 000 frames (that took ~18 min of CPU).
    assert.ok(Date.now() - started < 20_000, `${Date.now() - started} ms`);
  });

  test('the default admits 5 minutes of 1080p30 and a minute of 4K30, not 300 s of 4096² at 60', () => {
    const limits = DEFAULT_CLIP_LIMITS;
    const picture = (width: number, height: number) => ({
      width,
      height,
      rotation: 0,
      sampleAspect: 1,
      pixelFormat: 'yuv420p',
    });
    checkTranscodeBudget(picture(1920, 1080), 300 * 30, 300, limits);
    checkTranscodeBudget(picture(1080, 1920), 300 * 30, 300, limits);
    checkTranscodeBudget(picture(3840, 2160), 60 * 30, 60, limits);
    checkTranscodeBudget(picture(3840, 2160), 30 * 60, 30, limits);
    assert.throws(
      () => checkTranscodeBudget(picture(4096, 4096), 300 * 60, 300, limits),
      ConvertError,
    );
  });

  test('frames are counted from the packets; the budget and the frame rate are configurable', async () => {
    const costs: ConversionCost[] = [];
    const timeoutMs = (cost: ConversionCost): number => {
      costs.push(cost);
      return 60_000;
    };
    // 2 s of 320×240 at 30 fps: 60 frames of 76 800 pixels.
    await converter({ timeoutMs }).convert(clips['small-vp8.webm'], newOutputDir());
    assert.equal(costs.length, 1);
    assert.ok(Math.abs(costs[0].durationS - 2) < 0.1, String(costs[0].durationS));
    assert.equal(costs[0].transcodedPixels, 60 * 320 * 240);
    await rejectsWithReason(
      converter({
        ffmpegPath: NO_FFMPEG,
        limits: { maxPixelsPerClip: 60 * 320 * 240 - 1 },
      }).convert(clips['small-vp8.webm'], newOutputDir()),
      /^Too much video to convert \(320×240 at 30 fps for 2 s/,
    );
    await rejectsWithReason(
      converter({ ffmpegPath: NO_FFMPEG, limits: { maxFrameRate: 25 } }).convert(
        clips['small-vp8.webm'],
        newOutputDir(),
      ),
      /^The frame rate is too high \(30 fps on average; at most 25\)$/,
    );
  });

  test('a remux decodes no video, so the budget does not hold it back', async () => {
    const result = await converter({ limits: { maxPixelsPerClip: 1 } }).convert(
      clips['small-h264.mp4'],
      newOutputDir(),
    );
    assert.equal(result.remuxed, true);
  });
});

describe('the output size and ffmpeg memory', () => {
  test('a 4096×4096 clip is transcoded to 1080×1080, its ffmpeg peaking at ≤ 600 MB', async () => {
    const out = newOutputDir();
    const input = clips['square-4096.mp4'];
    const { result, peakBytes, processes } = await withPeakMemory(input, () =>
      converter().convert(input, out),
    );
    assert.deepEqual(
      { width: result.width, height: result.height, remuxed: result.remuxed },
      { width: 1080, height: 1080, remuxed: false },
    );
    assert.deepEqual(await videoSize(join(out, 'index.m3u8')), { width: 1080, height: 1080 });
    assert.deepEqual(await videoSize(join(out, 'poster.jpg')), { width: 640, height: 640 });
    assert.ok(processes >= 1, 'no ffmpeg was seen');
    assert.ok(peakBytes <= 600 * MB, `peak ${Math.round(peakBytes / MB)} MB`);
  });

  test('a portrait 2560×1440 phone clip (turned 90°) comes out 1080×1920, as reported', async () => {
    const out = newOutputDir();
    const result: ConvertResult = await converter().convert(clips['portrait-1440p.mp4'], out);
    assert.deepEqual([result.width, result.height, result.remuxed], [1080, 1920, false]);
    // Transcoded upright: the pixels are portrait, with no rotation flag left.
    assert.deepEqual(await videoSize(join(out, 'index.m3u8')), { width: 1080, height: 1920 });
    assert.deepEqual(await videoSize(join(out, 'poster.jpg')), { width: 360, height: 640 });
  });

  test('the output cap is configurable: 240 on the short side', async () => {
    const result = await converter({ limits: { maxOutputShortSide: 240 } }).convert(
      clips['portrait-1440p.mp4'],
      newOutputDir(),
    );
    assert.deepEqual([result.width, result.height], [240, 426]);
  });

  test('a conversion over the memory limit is stopped, with a reason, leaving nothing', async () => {
    const input = clips['small-vp8.webm'];
    await rejectsWithReason(
      converter({ limits: { maxMemoryBytes: 30 * MB } }).convert(input, newOutputDir()),
      /^The video needs too much memory to convert \(more than 30 MB\)$/,
    );
    assert.deepEqual(
      (await readdir(dir)).filter((name) => name.includes('.converting-')),
      [],
    );
  });
});

test('the limits come from the environment, with the defaults above', () => {
  const dev = { REELCHAT_DEV_TOKENS: '1' };
  assert.deepEqual(readConfig(dev).clipLimits, DEFAULT_CLIP_LIMITS);
  assert.deepEqual(
    readConfig({
      ...dev,
      REELCHAT_MAX_VIDEO_SIDE: '2048',
      REELCHAT_MAX_PIXELS_PER_CLIP: '5000000000',
      REELCHAT_MAX_FRAME_RATE: '120',
      REELCHAT_MAX_OUTPUT_SHORT_SIDE: '720',
      REELCHAT_MAX_CONVERT_MEMORY_MB: '400',
    }).clipLimits,
    {
      maxSide: 2048,
      maxPixelsPerClip: 5_000_000_000,
      maxFrameRate: 120,
      maxOutputShortSide: 720,
      maxMemoryBytes: 400 * MB,
    },
  );
  assert.throws(
    () => readConfig({ ...dev, REELCHAT_MAX_OUTPUT_SHORT_SIDE: '8' }),
    /REELCHAT_MAX_OUTPUT_SHORT_SIDE must be a whole number of at least 16/,
  );
});
