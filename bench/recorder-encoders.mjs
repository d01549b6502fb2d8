// Which way can a recording fit its uplink (issue 24)? In Chromium, with the realistic camera
// of bench/page.mjs (1280×720, heavy temporal noise):
// - MediaRecorder: what it records when asked for a smaller picture (getUserMedia's width and
//   height) and a lower videoBitsPerSecond, Matroska H.264 + Opus at 32 kbit/s;
// - WebCodecs: VideoEncoder (H.264, real-time) fed by MediaStreamTrackProcessor, scaled to the
//   asked size, its bitrate changed by configure() halfway through the take, and Opus from
//   AudioEncoder, muxed live by mediabunny into append-only Matroska: the bitrate before and
//   after the change, when the bytes come out (first video bytes, the longest pause between
//   writes, what is left at the end), and whether ffmpeg reads the result without errors.
// Run: node bench/recorder-encoders.mjs [--seconds 8]
import { chromium } from 'playwright-core';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromiumArgs, requireChromium } from '../scripts/chromium.mjs';
import { bundlePage, realisticCamera, root, servePage } from './page.mjs';

const at = process.argv.indexOf('--seconds');
const SECONDS = at > 0 ? Number(process.argv[at + 1]) : 8;
if (!(SECONDS >= 2)) throw new Error('--seconds must be at least 2');

const ENTRY = `
import { AppendOnlyStreamTarget, EncodedAudioPacketSource, EncodedPacket, EncodedVideoPacketSource,
  MkvOutputFormat, Output } from 'mediabunny';

const base64 = (blob) => new Promise((resolve) => {
  const reader = new FileReader();
  reader.onload = () => resolve(reader.result.split(',')[1]);
  reader.readAsDataURL(blob);
});
const camera = (width, height) => navigator.mediaDevices.getUserMedia({
  video: { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: 30 } }, audio: true });

window.mediaRecorder = async ({ width, height, kbps, seconds }) => {
  const stream = await camera(width, height);
  const settings = stream.getVideoTracks()[0].getSettings();
  const recorder = new MediaRecorder(stream, { mimeType: 'video/x-matroska;codecs=avc1,opus',
    videoBitsPerSecond: kbps * 1000, audioBitsPerSecond: 32000 });
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  recorder.start(500);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const stopped = new Promise((resolve) => (recorder.onstop = resolve));
  recorder.stop();
  await stopped;
  stream.getTracks().forEach((track) => track.stop());
  const blob = new Blob(chunks);
  return { track: settings.width + '×' + settings.height, bytes: blob.size, file: await base64(blob) };
};

window.webCodecs = async ({ width, height, kbps, kbpsAfter, seconds }) => {
  const stream = await camera(1280, 720);
  const started = performance.now();
  const writes = [];
  const pieces = [];
  const output = new Output({
    format: new MkvOutputFormat({ appendOnly: true, minimumClusterDuration: 0.5 }),
    target: new AppendOnlyStreamTarget(new WritableStream({ write(data) {
      pieces.push(data.slice());
      writes.push({ at: performance.now() - started, bytes: data.byteLength });
    } })),
  });
  const videoTrack = new EncodedVideoPacketSource('avc');
  const audioTrack = new EncodedAudioPacketSource('opus');
  output.addVideoTrack(videoTrack);
  output.addAudioTrack(audioTrack);
  await output.start();
  // The muxer takes packets one at a time, in order.
  let muxing = Promise.resolve();
  const mux = (track, chunk, meta) => {
    const packet = EncodedPacket.fromEncodedChunk(chunk);
    muxing = muxing.then(() => track.add(packet, meta));
  };
  const videoBits = [];
  const video = new VideoEncoder({ output: (chunk, meta) => {
    videoBits.push({ at: performance.now() - started, bytes: chunk.byteLength });
    mux(videoTrack, chunk, meta);
  }, error: (error) => console.error(String(error)) });
  const config = { codec: 'avc1.42001f', width, height, bitrate: kbps * 1000, framerate: 30,
    latencyMode: 'realtime', avc: { format: 'avc' } };
  video.configure(config);
  const [videoInput] = stream.getVideoTracks();
  const [audioInput] = stream.getAudioTracks();
  const audioSettings = audioInput.getSettings();
  const audio = new AudioEncoder({ output: (chunk, meta) => mux(audioTrack, chunk, meta),
    error: (error) => console.error(String(error)) });
  audio.configure({ codec: 'opus', sampleRate: audioSettings.sampleRate || 48000,
    numberOfChannels: audioSettings.channelCount || 1, bitrate: 32000 });
  // Each track from its own first timestamp: Chromium's audio and video clocks differ.
  const firsts = {};
  const since = (kind, timestamp) => timestamp - (firsts[kind] ??= timestamp);
  let stop = false;
  let frames = 0;
  let changedAt;
  let lastVideoUs = -1;
  const frameReader = new MediaStreamTrackProcessor({ track: videoInput }).readable.getReader();
  const soundReader = new MediaStreamTrackProcessor({ track: audioInput }).readable.getReader();
  const pictures = (async () => {
    while (!stop) {
      const { value, done } = await frameReader.read();
      if (done) break;
      if (changedAt === undefined && performance.now() - started > (seconds * 1000) / 2) {
        changedAt = performance.now() - started;
        video.configure({ ...config, bitrate: kbpsAfter * 1000 });
      }
      // Matroska counts in milliseconds: a frame within 1 ms of the last is dropped.
      const us = since('video', value.timestamp);
      if (us - lastVideoUs < 1000 || video.encodeQueueSize > 4) { value.close(); continue; }
      lastVideoUs = us;
      const frame = new VideoFrame(value, { timestamp: us });
      value.close();
      video.encode(frame, { keyFrame: frames++ % 60 === 0 });
      frame.close();
    }
  })();
  const sound = (async () => {
    while (!stop) {
      const { value, done } = await soundReader.read();
      if (done) break;
      const samples = new Float32Array(value.numberOfFrames * value.numberOfChannels);
      value.copyTo(samples, { planeIndex: 0, format: 'f32' });
      const data = new AudioData({ format: 'f32', sampleRate: value.sampleRate,
        numberOfFrames: value.numberOfFrames, numberOfChannels: value.numberOfChannels,
        timestamp: since('audio', value.timestamp), data: samples });
      value.close();
      audio.encode(data);
      data.close();
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  stop = true;
  const stoppedAt = performance.now() - started;
  await Promise.all([pictures, sound]);
  stream.getTracks().forEach((track) => track.stop());
  await video.flush();
  await audio.flush();
  await muxing;
  await output.finalize();
  const kbpsOver = (from, to) => Math.round(videoBits.filter((b) => b.at >= from && b.at < to)
    .reduce((sum, b) => sum + b.bytes, 0) * 8 / (to - from));
  let longestPause = 0;
  for (let i = 1; i < writes.length; i++)
    if (writes[i].at < stoppedAt) longestPause = Math.max(longestPause, writes[i].at - writes[i - 1].at);
  const blob = new Blob(pieces);
  return {
    frames, changedAt,
    kbpsBefore: kbpsOver(1000, changedAt), kbpsAfter: kbpsOver(changedAt + 1000, stoppedAt),
    firstBigWrite: writes.find((w) => w.bytes > 1000)?.at,
    longestPause,
    afterStop: writes.filter((w) => w.at >= stoppedAt).reduce((sum, w) => sum + w.bytes, 0),
    bytes: blob.size, file: await base64(blob),
  };
};
window.ready = true;
`;

const run = promisify(execFile);
const OUT = join(root, 'bench/out');

/** The file's video size and bitrate, and ffmpeg's complaints when it reads it. */
async function inspect(path, seconds) {
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height'],
    ...['-of', 'csv=p=0', path],
  ]);
  const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', path, '-f', 'null', '-']);
  const [width, height] = stdout.trim().split(',').map(Number);
  const errors = stderr.split('\n').filter(Boolean).length;
  return { size: `${width}×${height}`, errors, seconds };
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const cameraFile = await realisticCamera();
  const page = await servePage(await bundlePage(ENTRY), 'recorder encoders');
  const browser = await chromium.launch({
    executablePath: requireChromium(),
    headless: true,
    args: [...chromiumArgs, `--use-file-for-fake-video-capture=${cameraFile}`],
  });
  const tab = await browser.newPage();
  tab.on('console', (message) => {
    if (message.type() === 'error' && !message.text().includes('404'))
      console.error(`page: ${message.text()}`);
  });
  await tab.goto(`${page.origin}/`);
  await tab.waitForFunction(() => window.ready);
  try {
    console.log('MediaRecorder (Matroska H.264 + Opus 32 kbit/s):');
    for (const [width, height, kbps] of [
      [640, 360, 400],
      [640, 360, 600],
      [854, 480, 900],
      [1280, 720, 1500],
      [1280, 720, 2500],
    ]) {
      const r = await tab.evaluate((o) => window.mediaRecorder(o), {
        width,
        height,
        kbps,
        seconds: SECONDS,
      });
      const path = join(OUT, 'encoders-mediarecorder.mkv');
      writeFileSync(path, Buffer.from(r.file, 'base64'));
      const file = await inspect(path, SECONDS);
      console.log(
        `  asked ${width}×${height} at ${kbps} kbit/s: track ${r.track}, recorded ${file.size} at ${Math.round((r.bytes * 8) / SECONDS / 1000)} kbit/s`,
      );
    }
    console.log('WebCodecs H.264 + Opus 32 kbit/s, mediabunny append-only Matroska:');
    for (const [width, height, kbps, kbpsAfter] of [
      [1280, 720, 2500, 600],
      [854, 480, 1200, 400],
      [640, 360, 600, 300],
    ]) {
      const r = await tab.evaluate((o) => window.webCodecs(o), {
        width,
        height,
        kbps,
        kbpsAfter,
        seconds: SECONDS,
      });
      const path = join(OUT, 'encoders-webcodecs.mkv');
      writeFileSync(path, Buffer.from(r.file, 'base64'));
      const file = await inspect(path, SECONDS);
      console.log(
        `  ${file.size}, ${kbps} → ${kbpsAfter} kbit/s at ${(r.changedAt / 1000).toFixed(1)} s: ` +
          `${r.kbpsBefore} → ${r.kbpsAfter} kbit/s reached, ${r.frames} frames; first video bytes out ` +
          `at ${Math.round(r.firstBigWrite)} ms, longest pause between writes ${Math.round(r.longestPause)} ms, ` +
          `${(r.afterStop / 1000).toFixed(1)} kB written after stop; ffmpeg: ${file.errors} error lines`,
      );
    }
  } finally {
    await browser.close();
    page.close();
  }
  console.log(`(Chromium, ${SECONDS} s takes, load ${loadavg()[0].toFixed(2)})`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
