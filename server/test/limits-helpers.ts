// Shared by the limit tests: a server whose converter makes every upload ready at once (no
// ffmpeg runs), upload metadata, and the shape of a quota refusal.
import assert from 'node:assert/strict';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConvertResult } from '../convert/index.js';
import type { VideoConverter } from '../jobs/worker.js';
import { json, startServer, type TestServer } from './helpers.js';

/** Every clip is ready at once: a tiny HLS set, the input's size as `bytes`. */
const instantConverter: VideoConverter = {
  async convert(inputPath: string, outputDir: string): Promise<ConvertResult> {
    await mkdir(outputDir, { recursive: true });
    await writeFile(join(outputDir, 'index.m3u8'), '#EXTM3U\n#EXT-X-ENDLIST\n');
    await writeFile(join(outputDir, 'poster.jpg'), 'poster');
    return {
      duration: 1,
      width: 320,
      height: 240,
      bytes: (await stat(inputPath)).size,
      videoCodec: 'h264',
      audioCodec: null,
      remuxed: true,
    };
  },
};

export type ErrorBody = { error: { code: string; message: string; retryAfter?: number } };

export const meta = (clientId: string, conversation = 'c1') => ({
  conversation,
  clientId,
  filetype: 'video/mp4',
});

export const idOf = (response: Response) => response.headers.get('location')!.split('/').pop()!;

export async function startLimited(env: Record<string, string>): Promise<TestServer> {
  return startServer(env, { converter: instantConverter });
}

/** Asserts a quota refusal: status, code, and Retry-After (header and body) when `retry`. */
export async function assertQuota(response: Response, status: 413 | 429, retry: boolean) {
  const body = await json<ErrorBody>(response);
  assert.equal(response.status, status, body.error.message);
  assert.equal(body.error.code, 'quota-exceeded');
  const header = response.headers.get('retry-after');
  if (retry) {
    assert.match(header ?? '', /^[1-9]\d*$/);
    assert.equal(body.error.retryAfter, Number(header));
  } else {
    assert.equal(header, null);
  }
  return body;
}
