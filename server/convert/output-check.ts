// Whether ffmpeg's output is whole before it is published. ffmpeg 5.1's HLS muxer exits 0 and
// prints nothing when its writes meet a full disk (seen on a 200 KB tmpfs: an empty playlist,
// a segment cut at the disk's size), so its exit status cannot tell a finished conversion from
// one the disk cut short. Each file is checked for its end: the playlist's ENDLIST, the MP4
// boxes of the init segment and media segments filling their files exactly, the poster's JPEG
// end marker. Output cut short while the disk is (nearly) full is the disk's fault, tried
// again later (DiskFullError); cut short otherwise, a fault the worker retries a few times.
import { open, readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { DiskFullError } from '../media/disk-space.js';

/** Below this many free bytes a cut-short output is taken as the disk's doing. */
const NEARLY_FULL_BYTES = 1024 * 1024;

export async function checkWholeOutput(
  dir: string,
  files: { playlist: string; init: string; poster: string },
): Promise<void> {
  const problem = await whatIsCutShort(dir, files);
  if (problem === undefined) return;
  const stats = await statfs(dir).catch(() => undefined);
  if (stats && stats.bavail * stats.bsize < NEARLY_FULL_BYTES) {
    throw new DiskFullError(`converting: ${problem}`);
  }
  throw new Error(`The converted output is incomplete: ${problem}`);
}

async function whatIsCutShort(
  dir: string,
  files: { playlist: string; init: string; poster: string },
): Promise<string | undefined> {
  const playlist = await readFile(join(dir, files.playlist), 'utf8').catch(() => '');
  if (!/^#EXT-X-ENDLIST\s*$/m.test(playlist)) return 'the playlist has no end';
  const segments = playlist.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  for (const name of [files.init, ...segments]) {
    if (!/^[\w.-]+$/.test(name) || !(await boxesFillFile(join(dir, name)))) {
      return `${name} is cut short`;
    }
  }
  if (!(await endsWithJpegEnd(join(dir, files.poster)))) return 'the poster is cut short';
  return undefined;
}

/** Whether the file is a run of whole MP4 boxes (a cut one claims more bytes than are left). */
async function boxesFillFile(path: string): Promise<boolean> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return false;
  try {
    const { size } = await file.stat();
    const header = Buffer.alloc(16);
    let at = 0;
    while (at < size) {
      if (at + 8 > size) return false;
      await file.read(header, 0, 16, at);
      let length = header.readUInt32BE(0);
      if (length === 1) length = Number(header.readBigUInt64BE(8));
      else if (length === 0) length = size - at;
      if (length < 8) return false;
      at += length;
    }
    return size > 0 && at === size;
  } finally {
    await file.close();
  }
}

async function endsWithJpegEnd(path: string): Promise<boolean> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return false;
  try {
    const { size } = await file.stat();
    if (size < 4) return false;
    const end = Buffer.alloc(2);
    await file.read(end, 0, 2, size - 2);
    return end[0] === 0xff && end[1] === 0xd9;
  } finally {
    await file.close();
  }
}
