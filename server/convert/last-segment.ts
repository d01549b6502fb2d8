// The playlist's last #EXTINF, measured from the media instead of taken from ffmpeg.
//
// ffmpeg 5.1's HLS muxer states the last segment's length as the sum of its packets'
// durations, and a recorder's WebM carries none: each frame lasts 1 / the frame rate ffmpeg
// guessed from the first seconds. For a variable-rate take the guess is off (a live run, which
// reads 1 s before writing, guessed 1000 fps for a 20 fps Chromium take: its last 2 s segment
// was stated as 0.039 s, the clip 2 s short). Every other #EXTINF is measured between
// keyframes and is close (within a frame or two). So the last one becomes what makes the
// playlist's total what the segments hold: from the first video frame to the end of the last,
// which lasts an average frame — the length probe.ts counts for the upload, so the two agree
// when every frame came through. The next clip of a stitched reel then starts where this one's video ends.
// See docs/conversion.md, "Segment lengths".
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Rewrites the last #EXTINF of `dir`'s playlist with what its segment holds, when readable. */
export async function measureLastSegment(
  dir: string,
  files: { playlist: string; init: string },
): Promise<void> {
  const playlistPath = join(dir, files.playlist);
  const playlist = await readFile(playlistPath, 'utf8');
  const lines = playlist.split('\n');
  const stated = lines.flatMap((line, index) => (line.startsWith('#EXTINF:') ? [index] : []));
  const segmentAfter = (index: number) =>
    lines.slice(index + 1).find((line) => line && !line.startsWith('#'));
  const names = stated.map(segmentAfter);
  const lastLine = stated.at(-1);
  if (lastLine === undefined || !names.every((name) => name && /^[\w.-]+$/.test(name))) return;
  const video = videoTrack(await readFile(join(dir, files.init)));
  if (!video) return;
  // Every segment's frames: the first's start, the last's, and how many in all.
  let start: number | undefined;
  let lastStart = 0;
  let count = 0;
  for (const name of names) {
    const frames = videoFrames(await fragmentHeaders(join(dir, name!)), video);
    if (!frames) return;
    start ??= frames.start;
    lastStart = frames.lastStart;
    count += frames.count;
  }
  if (start === undefined || count === 0) return;
  const averageFrame = count > 1 ? (lastStart - start) / (count - 1) : 0;
  const before = stated
    .slice(0, -1)
    .reduce((sum, index) => sum + Number(lines[index]!.slice('#EXTINF:'.length).split(',')[0]), 0);
  const seconds = lastStart + averageFrame - start - before;
  if (!(seconds > 0)) return;
  const last = lastLine;
  lines[last] = `#EXTINF:${seconds.toFixed(6)},`;
  // A segment's rounded length may not pass the target duration (RFC 8216, 4.3.3.1).
  const target = lines.findIndex((line) => line.startsWith('#EXT-X-TARGETDURATION:'));
  if (target >= 0 && Math.round(seconds) > Number(lines[target]!.split(':')[1])) {
    lines[target] = `#EXT-X-TARGETDURATION:${Math.round(seconds)}`;
  }
  await writeFile(playlistPath, lines.join('\n'));
}

interface Box {
  type: string;
  start: number; // of the payload
  end: number;
}

/**
 * The segment's `moof` boxes, one after another; its media (`mdat`, nearly all of its bytes)
 * is skipped unread, so measuring a 3-minute take reads kilobytes, not its 13 MB.
 */
async function fragmentHeaders(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const found: Buffer[] = [];
    const header = Buffer.alloc(16);
    for (let at = 0; at + 8 <= size;) {
      await file.read(header, 0, 16, at);
      let length = header.readUInt32BE(0);
      if (length === 1) length = Number(header.readBigUInt64BE(8));
      else if (length === 0) length = size - at;
      if (length < 8 || at + length > size) break;
      if (header.toString('latin1', 4, 8) === 'moof') {
        const moof = Buffer.alloc(length);
        await file.read(moof, 0, length, at);
        found.push(moof);
      }
      at += length;
    }
    return Buffer.concat(found);
  } finally {
    await file.close();
  }
}

function* boxes(data: Buffer, start = 0, end = data.length): Generator<Box> {
  for (let at = start; at + 8 <= end;) {
    let size = data.readUInt32BE(at);
    const type = data.toString('latin1', at + 4, at + 8);
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) return;
      size = Number(data.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) size = end - at;
    if (size < header || at + size > end) return;
    yield { type, start: at + header, end: at + size };
    at += size;
  }
}

function child(data: Buffer, parent: Box, type: string): Box | undefined {
  for (const box of boxes(data, parent.start, parent.end)) if (box.type === type) return box;
  return undefined;
}

interface VideoTrack {
  id: number;
  timescale: number;
  defaultDuration: number;
}

/** The video track of an init segment: its id, timescale and default sample duration. */
function videoTrack(init: Buffer): VideoTrack | undefined {
  const moov = [...boxes(init)].find((box) => box.type === 'moov');
  if (!moov) return undefined;
  const defaults = new Map<number, number>();
  const mvex = child(init, moov, 'mvex');
  for (const box of mvex ? boxes(init, mvex.start, mvex.end) : []) {
    if (box.type === 'trex')
      defaults.set(init.readUInt32BE(box.start + 4), init.readUInt32BE(box.start + 12));
  }
  for (const trak of boxes(init, moov.start, moov.end)) {
    if (trak.type !== 'trak') continue;
    const tkhd = child(init, trak, 'tkhd');
    const mdia = child(init, trak, 'mdia');
    const mdhd = mdia && child(init, mdia, 'mdhd');
    const hdlr = mdia && child(init, mdia, 'hdlr');
    if (
      !tkhd ||
      !mdhd ||
      !hdlr ||
      init.toString('latin1', hdlr.start + 8, hdlr.start + 12) !== 'vide'
    )
      continue;
    const id = init.readUInt32BE(tkhd.start + (init[tkhd.start] === 1 ? 20 : 12));
    const timescale = init.readUInt32BE(mdhd.start + (init[mdhd.start] === 1 ? 20 : 12));
    return { id, timescale, defaultDuration: defaults.get(id) ?? 0 };
  }
  return undefined;
}

/** The segment's video frames: when the first and the last start (seconds), how many. */
function videoFrames(
  segment: Buffer,
  track: VideoTrack,
): { start: number; lastStart: number; count: number } | undefined {
  let first: number | undefined;
  let lastStart = 0;
  let count = 0;
  for (const moof of boxes(segment)) {
    if (moof.type !== 'moof') continue;
    for (const traf of boxes(segment, moof.start, moof.end)) {
      if (traf.type !== 'traf') continue;
      const tfhd = child(segment, traf, 'tfhd');
      const tfdt = child(segment, traf, 'tfdt');
      if (!tfhd || !tfdt || segment.readUInt32BE(tfhd.start + 4) !== track.id) continue;
      const tfhdFlags = segment.readUInt32BE(tfhd.start) & 0xffffff;
      // tfhd's optional fields before default-sample-duration: base-data-offset, description.
      let field = tfhd.start + 8 + (tfhdFlags & 0x1 ? 8 : 0) + (tfhdFlags & 0x2 ? 4 : 0);
      const defaultDuration = tfhdFlags & 0x8 ? segment.readUInt32BE(field) : track.defaultDuration;
      let time =
        segment[tfdt.start] === 1
          ? Number(segment.readBigUInt64BE(tfdt.start + 4))
          : segment.readUInt32BE(tfdt.start + 4);
      first ??= time;
      for (const trun of boxes(segment, traf.start, traf.end)) {
        if (trun.type !== 'trun') continue;
        const flags = segment.readUInt32BE(trun.start) & 0xffffff;
        const samples = segment.readUInt32BE(trun.start + 4);
        field = trun.start + 8 + (flags & 0x1 ? 4 : 0) + (flags & 0x4 ? 4 : 0);
        const stride = [0x100, 0x200, 0x400, 0x800].filter((bit) => flags & bit).length * 4;
        for (let i = 0; i < samples; i++) {
          if (field + stride > trun.end) return undefined;
          const duration = flags & 0x100 ? segment.readUInt32BE(field) : defaultDuration;
          lastStart = time;
          count++;
          time += duration;
          field += stride;
        }
      }
    }
  }
  if (first === undefined || count === 0) return undefined;
  return { start: first / track.timescale, lastStart: lastStart / track.timescale, count };
}
