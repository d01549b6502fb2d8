// ffprobe before ffmpeg: accept only a real video (one picture stream, at most one audio
// stream, within the length and picture limits of limits.ts) and learn what the conversion
// needs to know.
import { ConvertError } from './errors.js';
import { FfmpegExitError, FfmpegProcess } from './ffmpeg-process.js';
import { checkFrameRate, checkPicture, displayedSize } from './limits.js';
import type { Writable } from 'node:stream';
import { safeInputArgs, safePipeInputArgs } from './safe-input.js';
import type { Container } from './sniff.js';
import type { ClipLimits } from './types.js';

/** A recorder may stop a few frames after the limit. */
const DURATION_GRACE_S = 1;
const PROBE_TIMEOUT_MS = 30_000;

export interface ProbedVideo {
  container: Container;
  video: {
    index: number;
    codec: string;
    /** Coded size, before rotation. */
    width: number;
    height: number;
    /** Degrees, a multiple of 90 (0 when upright). */
    rotation: number;
    /** Sample (pixel) aspect ratio; 1 for square pixels. */
    sampleAspect: number;
    /** As a player shows it: pixel aspect applied, then rotation. */
    displayed: { width: number; height: number };
    pixelFormat: string;
    /** ffprobe's has_b_frames > 0, or packets seen out of presentation order. */
    hasBFrames: boolean;
  };
  audio: { index: number; codec: string } | null;
  /** Seconds of video, measured from its packets (headers may be absent or lie). */
  durationS: number;
  /** Video frames, counted from its packets. */
  frames: number;
}

interface ProbeOptions {
  ffprobePath: string;
  maxDurationS: number;
  limits: ClipLimits;
  /** Aborting kills the running ffprobe. */
  signal?: AbortSignal;
  /**
   * The first part of an upload still arriving (live.ts): it ends mid-way, so demuxer
   * errors and a header's length are not judged; the packets of the complete file are
   * scanned at the end (scanPipedVideoPackets).
   */
  partial?: boolean;
  /** Process priority (ffmpeg-process.ts); a live take's first part is read at once (0). */
  niceness?: number;
}

interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  has_b_frames?: number;
  sample_aspect_ratio?: string;
  disposition?: { attached_pic?: number };
  tags?: { rotate?: string };
  side_data_list?: { rotation?: number }[];
}

interface FfprobePacket {
  stream_index?: number;
  pts_time?: string;
  duration_time?: string;
}

interface FfprobeOutput {
  /** Listed only for a first part (partial), read in the same run as the streams. */
  packets?: FfprobePacket[];
  streams?: FfprobeStream[];
  format?: { duration?: string };
}

export async function probeVideo(
  container: Container,
  absolutePath: string,
  options: ProbeOptions,
): Promise<ProbedVideo> {
  const info = await readStreams(container, absolutePath, options);
  const streams = info.streams ?? [];
  // A cover picture in an MP4 is a "video" stream too; it is not the clip.
  const videos = streams.filter((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const audios = streams.filter((s) => s.codec_type === 'audio');
  if (videos.length === 0) throw new ConvertError('Not a video (no picture in the file)');
  if (videos.length > 1) throw new ConvertError('More than one video stream');
  if (audios.length > 1) throw new ConvertError('More than one audio track');
  const video = videos[0];
  const width = video.width ?? 0;
  const height = video.height ?? 0;
  if (width <= 0 || height <= 0) throw new ConvertError('The video has no picture size');
  const picture = {
    width,
    height,
    rotation: rotationOf(video),
    sampleAspect: ratio(video.sample_aspect_ratio) ?? 1,
    pixelFormat: video.pix_fmt ?? 'unknown',
  };
  checkPicture(picture, options.limits);

  const limit = options.maxDurationS;
  const headerDuration = Number(info.format?.duration);
  if (headerDuration > limit + DURATION_GRACE_S) throw new ConvertError(`Longer than ${limit} s`);

  const packets = info.packets
    ? judgeListedPackets(info.packets, video.index, options)
    : await scanVideoPackets(safeInputArgs(container, absolutePath), video.index, options);
  if (packets.count === 0) throw new ConvertError('The video has no frames');
  checkFrameRate(packets.count, packets.durationS, options.limits);
  // Recorded WebM has no duration in its header; where there is one, the packets must
  // reach it, or the file was cut off in transfer.
  if (
    !options.partial &&
    headerDuration > 0 &&
    packets.durationS < headerDuration - Math.max(0.5, headerDuration / 10)
  ) {
    throw new ConvertError(
      `The file is incomplete (${packets.durationS.toFixed(1)} s of ${headerDuration.toFixed(1)} s)`,
    );
  }

  const audio = audios[0];
  return {
    container,
    video: {
      index: video.index,
      codec: video.codec_name ?? 'unknown',
      ...picture,
      displayed: displayedSize(picture),
      hasBFrames: (video.has_b_frames ?? 0) > 0 || packets.reordered,
    },
    audio: audio ? { index: audio.index, codec: audio.codec_name ?? 'unknown' } : null,
    durationS: packets.durationS,
    frames: packets.count,
  };
}

async function readStreams(
  container: Container,
  absolutePath: string,
  options: ProbeOptions,
): Promise<FfprobeOutput> {
  // A first part's packets come in the same run: one ffprobe start (~0.2 s of CPU, most of
  // a second on a loaded machine) less before a live take's first segment. A finished file's
  // packets are scanned separately, stopping at the length limit (scanVideoPackets).
  const packets = options.partial ? ':packet=stream_index,pts_time,duration_time' : '';
  const ffprobe = new FfmpegProcess({
    command: options.ffprobePath,
    args: [
      '-v',
      'error',
      ...safeInputArgs(container, absolutePath),
      '-show_entries',
      `stream:format=duration${packets}`,
      '-of',
      'json',
    ],
    timeoutMs: PROBE_TIMEOUT_MS,
    signal: options.signal,
    niceness: options.niceness,
    // ~90 bytes a packet: a first part of up to ~40k packets (minutes of video).
    maxStdoutBytes: (options.partial ? 4 : 1) * 1024 * 1024,
  });
  try {
    return JSON.parse(await ffprobe.run()) as FfprobeOutput;
  } catch (error) {
    throw unreadable(error);
  }
}

export interface PacketSummary {
  count: number;
  durationS: number;
  /** A packet came with an earlier time than one before it: frames are reordered. */
  reordered: boolean;
}

/**
 * Reads the video stream's packet times (demuxing only, no decoding: cheap). This gives
 * the true length, which recorded WebM does not state, the true number of frames, and
 * shows B-frames for certain. Stops as soon as the clip runs past the length limit, or
 * holds more frames than the frame-rate limit allows in that length.
 */
async function scanVideoPackets(
  input: string[],
  streamIndex: number,
  options: ProbeOptions & {
    onStdin?: (stdin: Writable) => void;
    timeoutMs?: number;
    niceness?: number;
  },
): Promise<PacketSummary> {
  const limit = options.maxDurationS + DURATION_GRACE_S;
  const maxFrames = options.limits.maxFrameRate * limit;
  const tally = new PacketTally();
  let tooLong = false;

  const ffprobe = new FfmpegProcess({
    command: options.ffprobePath,
    args: [
      '-v',
      'error',
      ...input,
      '-select_streams',
      String(streamIndex),
      '-show_entries',
      'packet=pts_time,duration_time',
      '-of',
      'compact=p=0',
    ],
    timeoutMs: options.timeoutMs ?? PROBE_TIMEOUT_MS * 4,
    signal: options.signal,
    onStdin: options.onStdin,
    niceness: options.niceness,
    onStdoutLine: (line) => {
      if (!tally.add(line)) return;
      if ((tally.latest - tally.first > limit || tally.count > maxFrames) && !tooLong) {
        tooLong = true;
        ffprobe.kill();
      }
    },
  });
  try {
    await ffprobe.run();
  } catch (error) {
    if (!tooLong) throw unreadable(error);
  }
  return judgePackets(tally, { tooLong, stderr: ffprobe.stderr }, options);
}

/** The video packets listed with a first part's streams, tallied and judged as a scan's. */
function judgeListedPackets(
  listed: FfprobePacket[],
  streamIndex: number,
  options: ProbeOptions,
): PacketSummary {
  const limit = options.maxDurationS + DURATION_GRACE_S;
  const tally = new PacketTally();
  for (const packet of listed) {
    if (packet.stream_index !== streamIndex) continue;
    tally.add(`pts_time=${packet.pts_time}|duration_time=${packet.duration_time}`);
  }
  const tooLong =
    tally.latest - tally.first > limit || tally.count > options.limits.maxFrameRate * limit;
  return judgePackets(tally, { tooLong, stderr: '' }, options);
}

/**
 * What the packet scan found, checked against the limits: too many frames for the length,
 * too long, or a file the demuxer gave up on part-way fails with a ConvertError.
 */
function judgePackets(
  tally: PacketTally,
  scan: { tooLong: boolean; stderr: string },
  options: Pick<ProbeOptions, 'maxDurationS' | 'limits' | 'partial'>,
): PacketSummary {
  const { tooLong } = scan;
  const limit = options.maxDurationS + DURATION_GRACE_S;
  const maxFrames = options.limits.maxFrameRate * limit;
  const { count, first, latest, latestFrameS, reordered } = tally;
  if (tooLong && count > maxFrames) {
    throw new ConvertError(
      `The frame rate is too high (more than ${maxFrames} frames; ` +
        `at most ${options.limits.maxFrameRate} fps for ${options.maxDurationS} s)`,
    );
  }
  if (tooLong) throw new ConvertError(`Longer than ${options.maxDurationS} s`);
  // The demuxer gave up part-way on bytes that are not the container (garbage after good
  // frames); a last block cut short (a recorder stopped mid-write) is kept, as before.
  if (!options.partial && damageReported(scan.stderr)) {
    const readS = count > 0 ? latest - first : 0;
    throw new ConvertError(
      `The file is damaged (it stops being a video after ${readS.toFixed(1)} s)`,
    );
  }
  // Recorded WebM blocks carry no duration; the last frame then lasts an average frame.
  const averageFrameS = count > 1 ? (latest - first) / (count - 1) : 0;
  const durationS = count === 0 ? 0 : latest + (latestFrameS ?? averageFrameS) - first;
  if (durationS > limit) throw new ConvertError(`Longer than ${options.maxDurationS} s`);
  return { count, durationS, reordered };
}

/** The video packets' times as ffprobe lists them: how many, the first, the latest. */
class PacketTally {
  count = 0;
  first = Infinity;
  latest = -Infinity;
  /** The latest packet's own duration, when its container states one. */
  latestFrameS: number | undefined;
  /** Packets seen out of presentation order (B-frames). */
  reordered = false;

  /** Counts one `pts_time=…|duration_time=…` line; false for a line without a time. */
  add(line: string): boolean {
    const fields = new Map(line.split('|').map((pair) => pair.split('=') as [string, string]));
    const pts = Number(fields.get('pts_time'));
    if (!Number.isFinite(pts)) return false;
    const frameS = Number(fields.get('duration_time'));
    this.count++;
    this.first = Math.min(this.first, pts);
    if (pts < this.latest) this.reordered = true;
    if (pts >= this.latest) {
      this.latest = pts;
      this.latestFrameS = frameS > 0 ? frameS : undefined;
    }
    return true;
  }
}

/**
 * The same packet scan, of bytes fed on stdin as they arrive (live.ts): it ends as soon as
 * the last byte is in, with the same checks (length, frame rate, damage).
 */
export function scanPipedVideoPackets(
  container: Container,
  streamIndex: number,
  options: ProbeOptions & {
    onStdin: (stdin: Writable) => void;
    timeoutMs: number;
    niceness?: number;
  },
): Promise<PacketSummary> {
  return scanVideoPackets(safePipeInputArgs(container), streamIndex, options);
}

/**
 * What a demuxer's report says beyond a last block cut short (a recorder stopped mid-write,
 * or a stored file still growing), which is read as the end; '' when nothing.
 */
export function damageReported(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => line.trim() !== '' && !/File ended prematurely/.test(line))
    .join('\n');
}

function unreadable(error: unknown): unknown {
  if (!(error instanceof FfmpegExitError)) return error;
  if (error.timedOut) return new ConvertError('The file took too long to read', { cause: error });
  return new ConvertError('The file is damaged, incomplete or not a video', { cause: error });
}

function rotationOf(stream: FfprobeStream): number {
  const fromMatrix = stream.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  const degrees = fromMatrix ?? Number(stream.tags?.rotate ?? 0);
  if (!Number.isFinite(degrees)) return 0;
  return (((Math.round(degrees / 90) * 90) % 360) + 360) % 360;
}

function ratio(text: string | undefined): number | undefined {
  const [num, den] = (text ?? '').split(':').map(Number);
  return num > 0 && den > 0 ? num / den : undefined;
}
