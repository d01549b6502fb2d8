// Quality against bitrate for a chat clip (issue 24): which short side to record at which
// bitrate. Two kinds of content, both 1280×720 at 30 fps:
// - camera: the realistic fake camera of bench/page.mjs (a moving test pattern with heavy
//   temporal noise, as a phone's sensor in a dim room), judged against the same pattern
//   without its noise: the encoder pays for the noise, but the noise is not what was filmed
//   (against the noisy input, SSIM only says how much noise survived: 0.56-0.60 everywhere);
// - talking head: a slow gradient background and one detailed, slowly swaying region in
//   front (a face and shoulders), with light noise (a phone in daylight), judged against the
//   encoder's input, as usual.
// Each is encoded at each short side and bitrate with libx264 in real-time settings
// (veryfast, zerolatency, baseline, a 1 s rate buffer: what a browser's encoder does, and a
// little better than Chromium's OpenH264), scaled back to 1280×720 (bicubic) and compared with
// ffmpeg's `ssim` filter (this ffmpeg has no libvmaf). Prints SSIM (all planes) per short
// side and bitrate, the bitrate each encode really reached, and for each bitrate the short
// side that scored best.
// Run: node bench/quality-ladder.mjs [--heights 360,480,720] [--kbps 300,500,750,1200,2000]
//        [--seconds 4] [--content 'camera,talking head']
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { realisticCamera, root } from './page.mjs';

const run = promisify(execFile);
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const numbers = (text) => text.split(',').map(Number);
const HEIGHTS = numbers(arg('heights', '360,480,720'));
const KBPS = numbers(arg('kbps', '300,500,750,1200,2000'));
const SECONDS = Number(arg('seconds', '4'));
const CONTENTS = arg('content', 'camera,talking head').split(',');
const OUT = join(root, 'bench/out');

for (const value of [...HEIGHTS, ...KBPS, SECONDS]) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`Not a positive number: ${value}`);
}

const CAMERA_CLEAN = 'testsrc2=size=1280x720:rate=30';
const HEAD = [
  'gradients=s=1280x720:r=30:speed=0.005:c0=slategray:c1=tan,format=yuv420p,noise=alls=2:allf=t[bg]',
  'testsrc2=s=480x560:r=30,boxblur=2,format=yuv420p,noise=alls=3:allf=t[face]',
  "[bg][face]overlay=x='400+30*sin(t*1.3)':y='160+12*sin(t*0.9)'",
].join(';');

/** A 4 s y4m of a lavfi graph, made once under bench/out/. */
async function made(name, graph) {
  const path = join(OUT, name);
  if (existsSync(path)) return path;
  mkdirSync(OUT, { recursive: true });
  await run('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', graph, '-t', '4'],
    ...['-pix_fmt', 'yuv420p', '-y', path],
  ]);
  return path;
}

/** Encodes `source` at `height` and `kbps`; returns { ssim, kbps } as reached. */
async function measure({ source, clean }, height, kbps) {
  const width = Math.round((height * 16) / 9 / 2) * 2;
  const encoded = join(OUT, `ladder-${process.pid}.mp4`);
  const rate = `${kbps}k`;
  await run('ffmpeg', [
    ...['-v', 'error', '-i', source, '-t', String(SECONDS)],
    ...['-vf', `scale=${width}:${height}:flags=bicubic`, '-c:v', 'libx264'],
    ...['-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'baseline'],
    ...['-b:v', rate, '-maxrate', rate, '-bufsize', rate, '-g', '60', '-an', '-y', encoded],
  ]);
  const reached = (statSync(encoded).size * 8) / SECONDS / 1000;
  const { stderr } = await run('ffmpeg', [
    ...['-i', encoded, '-t', String(SECONDS), '-i', clean, '-lavfi'],
    '[0:v]scale=1280:720:flags=bicubic[a];[a][1:v]ssim',
    ...['-f', 'null', '-'],
  ]);
  unlinkSync(encoded);
  const all = /All:([\d.]+)/.exec(stderr);
  if (!all) throw new Error(`ffmpeg's ssim printed no score for ${height}p at ${kbps} kbit/s`);
  return { ssim: Number(all[1]), kbps: reached };
}

async function main() {
  const sources = {
    camera: {
      source: await realisticCamera(),
      clean: await made('camera-720p-clean.y4m', CAMERA_CLEAN),
    },
    'talking head': {
      source: await made('talking-head-720p.y4m', HEAD),
      clean: await made('talking-head-720p.y4m', HEAD),
    },
  };
  const summary = { bench: 'quality-ladder' };
  for (const [name, source] of Object.entries(sources)) {
    if (!CONTENTS.includes(name)) continue;
    console.log(`\n${name}: SSIM (reached kbit/s)`);
    console.log(['kbit/s', ...HEIGHTS.map((h) => `${h}p`), 'best'].map(pad).join(''));
    for (const kbps of KBPS) {
      const cells = [];
      let best;
      for (const height of HEIGHTS) {
        const r = await measure(source, height, kbps);
        summary[`${name.replace(' ', '')}_${height}p_${kbps}k`] = Number(r.ssim.toFixed(4));
        cells.push(`${r.ssim.toFixed(3)} (${Math.round(r.kbps)})`);
        if (!best || r.ssim > best.ssim) best = { height, ssim: r.ssim };
      }
      console.log([String(kbps), ...cells, `${best.height}p`].map(pad).join(''));
    }
  }
  console.log(
    `\n(libx264 veryfast zerolatency baseline, ${SECONDS} s, load ${loadavg()[0].toFixed(2)})`,
  );
  console.log(JSON.stringify(summary));
}

const pad = (cell) => cell.padEnd(16);

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
