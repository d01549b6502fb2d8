// What the converter's tests share (converter.test.ts, converter.isolation.test.ts): real
// ffmpeg and ffprobe, small clips made by ffmpeg in a folder of the test file's own, and the
// checks on what ffmpeg is doing. Each test file runs in a process of its own, so the folder
// is this module's.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Converter, ConvertError } from '../convert/index.js';

export const run = promisify(execFile);
export const FFMPEG = process.env.FFMPEG_PATH || 'ffmpeg';
export const FFPROBE = process.env.FFPROBE_PATH || 'ffprobe';
export const tools = { ffmpegPath: FFMPEG, ffprobePath: FFPROBE };

let folder: string | undefined;
let outputs = 0;

/** This test file's folder: made on first use (removed after its tests: `useClipFolder`). */
export function dir(): string {
  folder ??= mkdtempSync(join(tmpdir(), 'reelchat-convert-'));
  return folder;
}

/** Registers the hook that removes the folder after the file's tests. */
export function useClipFolder(): void {
  after(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });
}

/** Makes a clip with ffmpeg from lavfi sources; `args` go between the inputs and the file. */
export async function makeClip(name: string, args: string[], seconds = 3): Promise<string> {
  const path = join(dir(), name);
  await run(FFMPEG, [
    '-v',
    'error',
    '-y',
    ...args.map((a) => a.replace('$T', String(seconds))),
    path,
  ]);
  return path;
}

export const picture = (size = '320x240') => [
  '-f',
  'lavfi',
  '-i',
  `testsrc2=size=${size}:rate=30:duration=$T`,
];
export const tone = (rate = 48000) => [
  '-f',
  'lavfi',
  '-i',
  `sine=frequency=440:sample_rate=${rate}:duration=$T`,
];
/** Like a camera warming up: the first frames are black. */
const darkStart = ['-vf', "drawbox=c=black:t=fill:enable='lt(t,0.3)'"];
/** Chromium's MediaRecorder H.264: baseline, no B-frames, keyframe every 2 s. */
export const recorderH264 = [
  '-c:v',
  'libx264',
  '-profile:v',
  'baseline',
  '-g',
  '60',
  '-sc_threshold',
  '0',
  '-pix_fmt',
  'yuv420p',
];

/** The clips the conversion tests start from, by file name: ffmpeg's arguments after the inputs. */
export const CLIP_ARGS = {
  'h264-aac.mp4': [...picture(), ...tone(), ...darkStart, ...recorderH264, '-c:a', 'aac'],
  'h264-opus.mkv': [...picture(), ...tone(), ...recorderH264, '-c:a', 'libopus', '-f', 'matroska'],
  'vp8-opus.webm': [
    ...picture(),
    ...tone(),
    ...darkStart,
    '-c:v',
    'libvpx',
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
    '-c:a',
    'libopus',
  ],
  'vp9-silent.webm': [
    ...picture(),
    '-c:v',
    'libvpx-vp9',
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
  ],
  // x264's defaults: B-frames; mono 44.1 kHz audio.
  'h264-bframes.mp4': [
    ...picture(),
    ...tone(44100),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-bf',
    '3',
    '-c:a',
    'aac',
    '-ac',
    '1',
  ],
  'upright.mp4': [...picture(), ...recorderH264],
} satisfies Record<string, string[]>;

/** Makes these clips side by side; their paths by file name. */
export async function makeClips(
  names: (keyof typeof CLIP_ARGS)[],
): Promise<Record<string, string>> {
  const paths = await Promise.all(names.map((name) => makeClip(name, CLIP_ARGS[name])));
  return Object.fromEntries(names.map((name, i) => [name, paths[i]!]));
}

export function newOutputDir(): string {
  return join(dir(), `out${outputs++}`);
}

export async function ffprobe(
  path: string,
  entries: string,
  extra: string[] = [],
): Promise<string> {
  const { stdout } = await run(FFPROBE, [
    '-v',
    'error',
    ...extra,
    '-show_entries',
    entries,
    '-of',
    'compact=p=0:nk=1',
    path,
  ]);
  return stdout.trim();
}

/** Pids of ffmpeg/ffprobe children reading `path` (Linux /proc). */
export async function toolsReading(path: string, tool = /ff(mpeg|probe)$/): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (tool.test(cmdline.split('\0')[0]) && cmdline.includes(path)) pids.push(Number(entry));
  }
  return pids;
}

/** Waits until ffmpeg itself (past the ffprobe checks) is converting `path`. */
export async function waitForFfmpeg(path: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if ((await toolsReading(path, /ffmpeg$/)).length > 0) return;
    await sleep(2);
  }
  throw new Error(`no ffmpeg started on ${path}`);
}

export function converter(
  overrides: Partial<ConstructorParameters<typeof Converter>[0]> = {},
): Converter {
  return new Converter({ ...tools, concurrency: 2, maxDurationS: 300, ...overrides });
}

export async function rejectsWithReason(promise: Promise<unknown>, reason: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ConvertError, `expected ConvertError, got ${String(error)}`);
    assert.match(error.reason, reason);
    return true;
  });
}
