// The converter against real ffmpeg: it reads nothing but the uploaded file (hostile
// playlists and concat scripts), and its jobs' lifecycle (queueing, abort, close).
import assert from 'node:assert/strict';
import { copyFile, readdir, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Converter, ToolsMissingError, checkTools } from './index.js';
import { safeInputArgs } from './safe-input.js';
import {
  FFMPEG,
  FFPROBE,
  converter,
  dir,
  ffprobe,
  makeClip,
  makeClips,
  newOutputDir,
  picture,
  recorderH264,
  rejectsWithReason,
  run,
  tools,
  toolsReading,
  useClipFolder,
  waitForFfmpeg,
} from '../test/converter.fixtures.js';

const clips: Record<string, string> = {};
useClipFolder();

before(async () => {
  Object.assign(clips, await makeClips(['h264-aac.mp4', 'vp8-opus.webm']));
});

describe('only the uploaded file is read', () => {
  let listener: Server;
  let connections = 0;
  let url: string;
  let otherClip: string;
  const hostile: Record<string, string> = {};

  before(async () => {
    listener = createServer((_request, response) => response.end('#EXTM3U\n'));
    listener.on('connection', () => connections++);
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/x.ts`;
    // Somebody else's clip, in the form the hls and concat demuxers read.
    otherClip = await makeClip('other-person.ts', [...picture(), ...recorderH264, '-f', 'mpegts']);
    const playlist = (target: string) =>
      `#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:3,\n${target}\n#EXT-X-ENDLIST\n`;
    const concat = (target: string) => `ffconcat version 1.0\nfile '${target}'\n`;
    const files: Record<string, string | Buffer> = {
      'playlist-local.webm': playlist(otherClip),
      'playlist-url.webm': playlist(url),
      'concat-local.mp4': concat(otherClip),
      'concat-url.webm': concat(url),
      'ebml-then-playlist.webm': Buffer.concat([
        Buffer.from([0x1a, 0x45, 0xdf, 0xa3]),
        Buffer.from(`\n${playlist(url)}`),
      ]),
      'ftyp-then-playlist.mp4': Buffer.concat([
        Buffer.from([0, 0, 0, 8]),
        Buffer.from(`ftyp\n${playlist(otherClip)}`),
      ]),
    };
    for (const [name, content] of Object.entries(files)) {
      hostile[name] = join(dir(), name);
      await writeFile(hostile[name], content);
    }
  });

  after(() => new Promise<void>((resolve) => listener.close(() => resolve())));

  test('the hostile files are real: unprotected, ffprobe would read the other clip', async () => {
    const streams = await ffprobe(hostile['playlist-local.webm'], 'stream=codec_name');
    assert.match(streams, /h264/);
  });

  test('playlists and concat scripts are refused, and nothing is fetched', async () => {
    const convert = converter();
    for (const path of Object.values(hostile)) {
      await rejectsWithReason(convert.convert(path, newOutputDir()), /Not a video|damaged/);
    }
    assert.equal(connections, 0);
  });

  test('even past the sniffer, forced formats make ffprobe and ffmpeg read nothing else', async () => {
    for (const path of Object.values(hostile)) {
      for (const container of ['matroska', 'mov'] as const) {
        const input = safeInputArgs(container, path);
        await assert.rejects(run(FFPROBE, ['-v', 'error', ...input, '-show_streams']));
        await assert.rejects(run(FFMPEG, ['-v', 'error', '-nostdin', ...input, '-f', 'null', '-']));
      }
    }
    assert.equal(connections, 0);
  });
});

describe('lifecycle', () => {
  test('with concurrency 1, two jobs never overlap, and both finish', async () => {
    const convert = converter({ concurrency: 1 });
    const first = join(dir(), 'queued-a.webm');
    const second = join(dir(), 'queued-b.webm');
    await copyFile(clips['vp8-opus.webm'], first);
    await copyFile(clips['vp8-opus.webm'], second);
    let overlapped = false;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const [a, b] = await Promise.all([toolsReading(first), toolsReading(second)]);
        if (a.length > 0 && b.length > 0) overlapped = true;
        await sleep(2);
      }
    })();
    const results = await Promise.all([
      convert.convert(first, newOutputDir()),
      convert.convert(second, newOutputDir()),
    ]);
    watching = false;
    await watcher;
    assert.equal(overlapped, false);
    assert.equal(results.length, 2);
    await convert.close();
  });

  test('abort kills ffmpeg and leaves no temp folder', async () => {
    const convert = converter();
    const source = join(dir(), 'to-abort.webm');
    await copyFile(clips['vp8-opus.webm'], source);
    const controller = new AbortController();
    const out = newOutputDir();
    const job = convert.convert(source, out, controller.signal);
    await waitForFfmpeg(source);
    controller.abort();
    await assert.rejects(job, { name: 'AbortError' });
    assert.deepEqual(await toolsReading(source), []);
    assert.deepEqual(
      (await readdir(dir())).filter((name) => name.includes('.converting-')),
      [],
    );
    await assert.rejects(stat(out), { code: 'ENOENT' });
    await convert.close();
  });

  test('close() kills running jobs, rejects waiting ones and later ones', async () => {
    const convert = converter({ concurrency: 1 });
    const source = join(dir(), 'to-close.webm');
    await copyFile(clips['vp8-opus.webm'], source);
    const running = convert.convert(source, newOutputDir());
    const waiting = convert.convert(source, newOutputDir());
    await waitForFfmpeg(source);
    await convert.close();
    await assert.rejects(running, { name: 'AbortError' });
    await assert.rejects(waiting, { name: 'AbortError' });
    await assert.rejects(convert.convert(source, newOutputDir()), { name: 'AbortError' });
    assert.deepEqual(await toolsReading(source), []);
    assert.deepEqual(
      (await readdir(dir())).filter((name) => name.includes('.converting-')),
      [],
    );
  });

  test('an existing output folder is refused, not overwritten', async () => {
    const convert = converter();
    await assert.rejects(convert.convert(clips['h264-aac.mp4'], dir()), /already exists/);
  });

  test('checkTools reports versions, or how to install ffmpeg', async () => {
    const versions = await checkTools(FFMPEG, FFPROBE);
    assert.match(versions.ffmpeg, /^\S+$/);
    assert.match(versions.ffprobe, /^\S+$/);
    await assert.rejects(checkTools('/nonexistent/ffmpeg', FFPROBE), (error: unknown) => {
      assert.ok(error instanceof ToolsMissingError);
      assert.match(error.message, /\/nonexistent\/ffmpeg/);
      assert.match(error.message, /apt-get install ffmpeg/);
      assert.match(error.message, /brew install ffmpeg/);
      assert.match(error.message, /FFMPEG_PATH/);
      return true;
    });
    const missing = new Converter({
      ...tools,
      ffprobePath: '/nonexistent/ffprobe',
      concurrency: 1,
      maxDurationS: 300,
    });
    await assert.rejects(missing.convert(clips['h264-aac.mp4'], newOutputDir()), ToolsMissingError);
  });
});
