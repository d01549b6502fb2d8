// The reference server's API as the end-to-end tests call it from Node: a dev token, a clip
// shared as a video message (uploaded over tus in one PATCH), and waiting until it is ready.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

export interface Video {
  id: string;
  state: string;
  duration?: number;
}

/** A token for `user` from the server's dev endpoint (`--demo`), good for `conversation`. */
export async function devToken(server: string, user: string, conversation: string) {
  const query = new URLSearchParams({ user, name: user, conversations: conversation });
  const response = await fetch(`${server}/v1/dev/token?${query}`);
  assert.equal(response.status, 200);
  return ((await response.json()) as { token: string }).token;
}

export async function getVideo(
  server: string,
  auth: string,
  conversation: string,
  id: string,
): Promise<Video> {
  const response = await fetch(`${server}/v1/conversations/${conversation}/videos/${id}`, {
    headers: { authorization: `Bearer ${auth}` },
  });
  assert.equal(response.status, 200, `GET video ${id}`);
  return (await response.json()) as Video;
}

/** The video once the server has made it ready; fails at once if its conversion failed. */
export async function untilReady(
  server: string,
  auth: string,
  conversation: string,
  id: string,
): Promise<Video> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const video = await getVideo(server, auth, conversation, id);
    if (video.state === 'ready') return video;
    assert.notEqual(video.state, 'failed', `video ${id} failed to convert`);
    assert.ok(Date.now() < deadline, `video ${id} not ready after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Uploads `file` over tus as `auth`'s user, sends it as a video message, waits until ready. */
export async function shareClip(
  server: string,
  auth: string,
  share: { conversation: string; file: string; clientId: string },
): Promise<Video> {
  const { conversation, file, clientId } = share;
  const bytes = readFileSync(file);
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const headers = { authorization: `Bearer ${auth}`, 'tus-resumable': '1.0.0' };
  const created = await fetch(`${server}/v1/uploads`, {
    method: 'POST',
    headers: {
      ...headers,
      'upload-length': String(bytes.length),
      'upload-metadata': `conversation ${b64(conversation)},clientId ${b64(clientId)},filetype ${b64('video/mp4')}`,
    },
  });
  assert.equal(created.status, 201, await created.text());
  const location = new URL(created.headers.get('location')!, `${server}/v1/uploads`);
  const patched = await fetch(location, {
    method: 'PATCH',
    headers: {
      ...headers,
      'upload-offset': '0',
      'content-type': 'application/offset+octet-stream',
    },
    body: bytes,
  });
  assert.equal(patched.status, 204, await patched.text());
  const id = location.pathname.split('/').pop()!;
  const message = await fetch(`${server}/v1/conversations/${conversation}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
    body: JSON.stringify({ clientId, video: id }),
  });
  assert.equal(message.status, 201, await message.text());
  return untilReady(server, auth, conversation, id);
}
