import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ConvertError } from './errors.js';
import { sniffContainer } from './sniff.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelchat-sniff-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sniff(bytes: Buffer | string): Promise<string> {
  const path = join(dir, `f${Math.random()}`);
  await writeFile(path, bytes);
  return sniffContainer(path);
}

/** An EBML header (magic, size, one DocType element), as recorders write it. */
function ebmlHeader(docType: string): Buffer {
  const body = Buffer.concat([
    Buffer.from([0x42, 0x82, 0x80 | docType.length]),
    Buffer.from(docType),
  ]);
  return Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x80 | body.length]), body]);
}

test('WebM and Matroska EBML headers are matroska', async () => {
  assert.equal(await sniff(Buffer.concat([ebmlHeader('webm'), Buffer.alloc(32)])), 'matroska');
  assert.equal(await sniff(ebmlHeader('matroska')), 'matroska');
});

test('an ftyp box at offset 4 is mov', async () => {
  const box = Buffer.concat([
    Buffer.from([0, 0, 0, 24]),
    Buffer.from('ftypisom'),
    Buffer.alloc(12),
  ]);
  assert.equal(await sniff(box), 'mov');
  const quicktime = Buffer.concat([
    Buffer.from([0, 0, 0, 20]),
    Buffer.from('ftypqt  '),
    Buffer.alloc(8),
  ]);
  assert.equal(await sniff(quicktime), 'mov');
});

test('anything else is refused before any tool runs', async () => {
  const refusals: [Buffer | string, RegExp][] = [
    ['', /empty/],
    ['#EXTM3U\n#EXTINF:2,\nhttp://127.0.0.1/x.ts\n', /Not a video file/],
    ["ffconcat version 1.0\nfile '/etc/passwd'\n", /Not a video file/],
    [Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), /Not a video file/],
    // EBML magic with a playlist behind it, and with a DocType nobody records.
    [Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), Buffer.from('\n#EXTM3U\n')]), /EBML/],
    [ebmlHeader('evil'), /EBML/],
  ];
  for (const [bytes, reason] of refusals) {
    await assert.rejects(sniff(bytes), (error: unknown) => {
      assert.ok(error instanceof ConvertError);
      assert.match(error.reason, reason);
      return true;
    });
  }
});
