// bench/network.mjs's playback half: a buddy's reel of realistic clips on the reference server,
// and the page function that plays it in a standalone <reel-player> and times what a person sees.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { root } from './page.mjs';

const CLIP_S = 6;

/**
 * Clip `n` as a phone would upload it: 1280×720, 30 fps, H.264 at 2.5 Mbit/s (what the
 * recorder asks for today) without B-frames, a moving pattern with noise, AAC; made once.
 */
async function realisticClip(n) {
  const path = join(root, `bench/out/reel-${n}.mp4`);
  if (existsSync(path)) return path;
  mkdirSync(join(root, 'bench/out'), { recursive: true });
  await promisify(execFile)('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i'],
    `testsrc2=size=1280x720:rate=30:duration=${CLIP_S},hue=h=${n * 70},noise=alls=12:allf=t`,
    ...['-f', 'lavfi', '-i', `sine=frequency=${400 + n * 60}:sample_rate=48000:duration=${CLIP_S}`],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '2500k', '-maxrate', '2500k'],
    ...['-bufsize', '2500k', '-bf', '0', '-g', '60', '-pix_fmt', 'yuv420p'],
    ...['-c:a', 'aac', '-b:a', '96k', '-ac', '2', '-movflags', '+faststart', '-y', path],
  ]);
  return path;
}

const tusMetadata = (meta) =>
  Object.entries(meta)
    .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
    .join(',');

/**
 * Alice sends `count` clips to a new conversation with Bob; resolves once all are ready, to
 * the conversation and Bob's token.
 */
export async function uploadReel(serverUrl, count) {
  const conversation = `net-reel-${Date.now()}`;
  const token = async (user) => {
    const query = new URLSearchParams({ user, conversations: conversation });
    return (await (await fetch(`${serverUrl}/v1/dev/token?${query}`)).json()).token;
  };
  const alice = { Authorization: `Bearer ${await token('alice')}` };
  for (let n = 1; n <= count; n++) {
    const bytes = readFileSync(await realisticClip(n));
    const clientId = `reel-${n}`;
    const created = await fetch(`${serverUrl}/v1/uploads`, {
      method: 'POST',
      headers: {
        ...alice,
        'Tus-Resumable': '1.0.0',
        'Upload-Length': String(bytes.length),
        'Upload-Metadata': tusMetadata({ conversation, clientId, filetype: 'video/mp4' }),
      },
    });
    if (created.status !== 201) throw new Error(`upload ${n}: ${created.status}`);
    const id = created.headers.get('location').split('/').pop();
    const patched = await fetch(`${serverUrl}/v1/uploads/${id}`, {
      method: 'PATCH',
      headers: {
        ...alice,
        'Tus-Resumable': '1.0.0',
        'Upload-Offset': '0',
        'Content-Type': 'application/offset+octet-stream',
      },
      body: bytes,
    });
    if (patched.status !== 204) throw new Error(`upload ${n}: PATCH ${patched.status}`);
    const posted = await fetch(`${serverUrl}/v1/conversations/${conversation}/messages`, {
      method: 'POST',
      headers: { ...alice, 'Content-Type': 'application/json' },
      body: JSON.stringify({ clientId: `msg-${n}`, video: id }),
    });
    if (!posted.ok) throw new Error(`message ${n}: ${posted.status}`);
  }
  const started = Date.now();
  for (;;) {
    const listed = await fetch(`${serverUrl}/v1/conversations/${conversation}/videos?owner=alice`, {
      headers: alice,
    });
    const { videos = [] } = await listed.json();
    if (videos.filter((video) => video.state === 'ready').length === count) break;
    if (Date.now() - started > 120_000) throw new Error('the reel did not become ready');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { conversation, token: await token('bob') };
}

/**
 * The page's function (in the bench page's bundle, as `window.benchPlay`): a standalone
 * <reel-player> in transport mode plays Alice's clips; once listed, play() is pressed.
 * Returns play → first frame, stalls after the first frame (`waiting` on the visible video)
 * and their total, whether the reel ended, and each presented frame for the joins.
 */
export const PLAY_ENTRY = `
window.benchPlay = async ({ endpoint, token, conversation, limitMs }) => {
  const el = document.createElement('reel-player');
  for (const [name, value] of Object.entries({ transport: 'http', endpoint, token, conversation, owner: 'alice' }))
    el.setAttribute(name, value);
  el.style.width = '640px';
  document.body.append(el);
  const listedBy = performance.now() + 30000;
  while (!(el.transportClips?.length > 0) && performance.now() < listedBy)
    await new Promise((resolve) => setTimeout(resolve, 20));
  const durations = el.transportClips.map((clip) => clip.duration);
  const frames = [];
  let firstFrame, stalledAt;
  const stalls = [];
  for (const [vi, video] of [...el.shadowRoot.querySelectorAll('video')].entries()) {
    const onFrame = (now, meta) => {
      if (video.hasAttribute('data-active')) {
        firstFrame ??= performance.now();
        frames.push({ vi, edt: meta.expectedDisplayTime, pf: meta.presentedFrames, mt: meta.mediaTime });
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    video.addEventListener('waiting', () => {
      if (firstFrame !== undefined && video.hasAttribute('data-active')) stalledAt ??= performance.now();
    });
    video.addEventListener('playing', () => {
      if (stalledAt !== undefined) stalls.push(performance.now() - stalledAt);
      stalledAt = undefined;
    });
  }
  const ended = new Promise((resolve) => el.addEventListener('reel-ended', () => resolve(true), { once: true }));
  const pressed = performance.now();
  void el.play();
  const done = await Promise.race([ended, new Promise((r) => setTimeout(() => r(false), limitMs))]);
  if (stalledAt !== undefined) stalls.push(performance.now() - stalledAt);
  const mode = el.mode;
  el.remove();
  return { firstFrameMs: firstFrame - pressed, stalls, ended: done, frames, durations, mode };
};
`;
