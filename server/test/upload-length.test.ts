// A deferred upload whose last PATCH (the one that declares the length) was cut after the
// server took the length: the client's resume declares the same length again, and the upload
// finishes (tus alone refused it with 400, and the take could never be sent). A different
// length is still refused.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createUpload, headUpload, patchUpload, startServer, type TestServer } from './helpers.js';

describe('a repeated Upload-Length', () => {
  let server: TestServer;
  let token: string;
  before(async () => {
    server = await startServer();
    token = await server.token('alice', ['c1']);
  });
  after(() => server.close());

  /** A deferred upload with its length declared and only `sent` of `bytes` stored. */
  async function cutLastPatch(bytes: Buffer, sent: number): Promise<string> {
    const created = await createUpload(
      server.url,
      token,
      {
        conversation: 'c1',
        clientId: `len-${randomBytes(4).toString('hex')}`,
        filetype: 'video/webm',
      },
      'deferred',
    );
    assert.equal(created.status, 201);
    const id = created.headers.get('location')!.split('/').pop()!;
    assert.equal((await patchUpload(server.url, token, id, 0, bytes.subarray(0, 100))).status, 204);
    // The last PATCH declares the length; only part of its body arrives (as a cut request).
    const last = await patchUpload(
      server.url,
      token,
      id,
      100,
      bytes.subarray(100, sent),
      bytes.length,
    );
    assert.equal(last.status, 204);
    const head = await headUpload(server.url, token, id);
    assert.equal(head.headers.get('upload-offset'), String(sent));
    assert.equal(head.headers.get('upload-length'), String(bytes.length));
    return id;
  }

  it('finishes when the resume declares the same length again', async () => {
    const bytes = randomBytes(1000);
    const id = await cutLastPatch(bytes, 600);
    const resumed = await patchUpload(
      server.url,
      token,
      id,
      600,
      bytes.subarray(600),
      bytes.length,
    );
    assert.equal(resumed.status, 204, await resumed.text());
    assert.equal(resumed.headers.get('upload-offset'), '1000');
  });

  it('refuses a different length', async () => {
    const bytes = randomBytes(1000);
    const id = await cutLastPatch(bytes, 600);
    const other = await patchUpload(server.url, token, id, 600, bytes.subarray(600), 1200);
    assert.equal(other.status, 400);
    const head = await headUpload(server.url, token, id);
    assert.equal(head.headers.get('upload-offset'), '600');
    assert.equal(head.headers.get('upload-length'), '1000');
  });
});
