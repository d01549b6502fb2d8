// Makes the real media files the browser tests play and upload, with ffmpeg, once.
// Everything lands in test-fixtures/ (ignored by git) and is reused while it exists.
import { existsSync, mkdirSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
export const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-fixtures');
const ffmpeg = process.env.FFMPEG_PATH || 'ffmpeg';

/** Synthetic picture and tone; `hue` tells clips apart on screen. */
function sources(seconds, { hue = 0, size = '640x360', rate = 30 } = {}) {
  return [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=${rate}:duration=${seconds},hue=h=${hue}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${440 + hue}:sample_rate=48000:duration=${seconds}`,
  ];
}

/** H.264 without B-frames and one audio format: what the server makes and the player stitches. */
const h264Aac = [
  '-c:v',
  'libx264',
  '-profile:v',
  'baseline',
  '-bf',
  '0',
  '-preset',
  'veryfast',
  '-pix_fmt',
  'yuv420p',
  '-c:a',
  'aac',
  '-ar',
  '48000',
  '-ac',
  '2',
  '-b:a',
  '96k',
];

const specs = [
  ...[1, 2, 3, 4].map((n) => ({
    out: `hls/clip${n}/index.m3u8`,
    args: (out) => [
      ...sources(3, { hue: n * 80 }),
      ...h264Aac,
      '-g',
      '30',
      '-keyint_min',
      '30',
      '-sc_threshold',
      '0',
      '-f',
      'hls',
      '-hls_time',
      '1',
      '-hls_playlist_type',
      'vod',
      '-hls_segment_type',
      'fmp4',
      '-hls_fmp4_init_filename',
      'init.mp4',
      '-hls_segment_filename',
      join(dirname(out), 'seg%d.m4s'),
      out,
    ],
  })),
  {
    out: 'video/sample.webm',
    args: (out) => [
      ...sources(2, { size: '320x240' }),
      '-c:v',
      'libvpx',
      '-b:v',
      '300k',
      '-c:a',
      'libopus',
      out,
    ],
  },
  // What WebKit's and Safari's MediaRecorder write (video/mp4;codecs=avc1.42E01E,mp4a.40.2):
  // H.264 Constrained Baseline 3.0 and AAC-LC in a fragmented MP4, one fragment a second. The
  // recorder's element tests feed it through the element where WebKit's recorder gives no bytes.
  // No mfra index at the end: a recorder writing a stream cannot go back to write one.
  {
    out: 'video/webkit-recording.mp4',
    args: (out) => [
      ...sources(12, { size: '640x360' }),
      ...h264Aac,
      '-level:v',
      '3.0',
      '-g',
      '30',
      '-keyint_min',
      '30',
      '-sc_threshold',
      '0',
      '-movflags',
      'frag_keyframe+empty_moov+default_base_moof+skip_trailer',
      out,
    ],
  },
  {
    out: 'video/sample.mp4',
    args: (out) => [...sources(2, { size: '320x240' }), ...h264Aac, '-movflags', '+faststart', out],
  },
];

export async function makeFixtures() {
  for (const spec of specs) {
    const out = join(fixturesDir, spec.out);
    if (existsSync(out)) continue;
    mkdirSync(dirname(out), { recursive: true });
    await run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...spec.args(out)]);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await makeFixtures();
