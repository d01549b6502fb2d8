// Our upload row outlived a creation that failed half-way (PostgreSQL went away between our
// row and tus's record, seen in pg-restart.test.ts): tus has no record of it, so its clientId
// answered 409 naming an upload that answered 404, for ever. Once the creation is long past,
// asking for that upload removes our row, and the clientId can create it again.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createUpload, headUpload, patchUpload, startServer, type TestServer } from './helpers.js';

/** How long after its creation an upload without tus's record is taken as never stored. */
const ORPHAN_AFTER_MS = 5_000;

describe('an upload whose creation never reached tus', () => {
  let server: TestServer;
  let token: string;
  before(async () => {
    server = await startServer();
    token = await server.token('alice', ['c1']);
  });
  after(() => server.close());

  const create = (clientId: string) =>
    createUpload(
      server.url,
      token,
      { conversation: 'c1', clientId, filetype: 'video/webm' },
      'deferred',
    );

  it('answers 404 once its creation is long past, and its clientId creates it again', async () => {
    const clientId = `orphan-${randomBytes(4).toString('hex')}`;
    const created = await create(clientId);
    assert.equal(created.status, 201);
    const id = created.headers.get('location')!.split('/').pop()!;
    // tus's record of it (the file store's info file and bytes) gone: as if never written.
    await rm(join(server.dataDir, 'uploads', `${id}.json`));
    await rm(join(server.dataDir, 'uploads', id), { force: true });

    // Too recent to tell from a record being made this moment: our row stays.
    assert.equal((await headUpload(server.url, token, id)).status, 404);
    assert.equal((await create(clientId)).status, 409);

    await sleep(ORPHAN_AFTER_MS + 200);
    const patched = await patchUpload(server.url, token, id, 0, randomBytes(100));
    assert.equal(patched.status, 404);
    assert.match(await patched.text(), /never stored; create it again/);
    const again = await create(clientId);
    assert.equal(again.status, 201, await again.text());
    assert.notEqual(again.headers.get('location'), created.headers.get('location'));
  });
});
