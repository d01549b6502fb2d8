// The ffmpeg command lines, as plain data. A transcode is one run that writes the HLS
// folder and the poster (one decoder, so its memory counts once); a remux copies the video
// in one run and decodes the first seconds for the poster in another, beside it.
// See docs/conversion.md for why each option is there.
import type { ProbedVideo } from './probe.js';
import { safeInputArgs, safePipeInputArgs } from './safe-input.js';

/** Every clip gets the same audio, so the player can stitch clips into one playlist. */
const AUDIO = { codec: 'aac', rate: 48000, channels: 2, bitrate: '128k' } as const;
export const SEGMENT_S = 2;
/**
 * A take shared while recorded (docs/protocol.md, "Live"): shorter segments, so a viewer is
 * about a second behind rather than two, in an EVENT playlist ffmpeg rewrites per segment.
 */
export const LIVE_SEGMENT_S = 1;
/** The poster is picked from this much of the start, and fits this box. */
export const POSTER_WINDOW_S = 3;
const POSTER_MAX_SIDE = 640;
/**
 * Threads, fixed rather than one per core, because each decoder thread holds frames of its
 * own (about 50 MB each at 4096×4096) and each x264 thread its own lookahead; measured in
 * docs/conversion.md. Concurrent conversions use the other cores.
 */
const DECODER_THREADS = 1;
const X264_THREADS = 2;
/** Slack over the probed size for -max_pixels: decoders round the width up (stride). */
const MAX_PIXELS_SLACK = 64;

export const OUTPUT = {
  playlist: 'index.m3u8',
  init: 'init.mp4',
  segmentPattern: 'seg%d.m4s',
  poster: 'poster.jpg',
} as const;

/** The output's video: copied, or transcoded to `width`×`height` (as displayed). */
export interface OutputPlan {
  copyVideo: boolean;
  width: number;
  height: number;
}

/**
 * The displayed size scaled down, keeping aspect, so the short side is at most
 * `maxShortSide` and the area at most that of maxShortSide × (maxShortSide × 16/9);
 * even sides, as 4:2:0 H.264 needs.
 */
export function fitOutput(
  displayed: { width: number; height: number },
  maxShortSide: number,
): { width: number; height: number } {
  const scale = downscaleFactor(displayed, maxShortSide);
  return { width: even(displayed.width * scale), height: even(displayed.height * scale) };
}

/** 1 when the picture fits the output cap, else the factor that makes it fit. */
function downscaleFactor(size: { width: number; height: number }, maxShortSide: number): number {
  const maxArea = (maxShortSide * maxShortSide * 16) / 9;
  return Math.min(
    1,
    maxShortSide / Math.min(size.width, size.height),
    Math.sqrt(maxArea / (size.width * size.height)),
  );
}

/**
 * Remux only what a stitched playlist can take as is: H.264 without B-frames, 4:2:0,
 * needing no rotation and no scaling down. Everything else is transcoded.
 */
export function canCopyVideo(probed: ProbedVideo, maxOutputShortSide: number): boolean {
  const { video } = probed;
  return (
    video.codec === 'h264' &&
    !video.hasBFrames &&
    video.rotation === 0 &&
    video.sampleAspect === 1 &&
    (video.pixelFormat === 'yuv420p' || video.pixelFormat === 'yuvj420p') &&
    downscaleFactor(video.displayed, maxOutputShortSide) === 1
  );
}

/** The displayed size of the output: as coded when copied, else fitted (see fitOutput). */
export function outputSize(
  probed: ProbedVideo,
  copyVideo: boolean,
  maxOutputShortSide: number,
): { width: number; height: number } {
  if (copyVideo) return { width: probed.video.width, height: probed.video.height };
  return fitOutput(probed.video.displayed, maxOutputShortSide);
}

export function planOutput(probed: ProbedVideo, maxOutputShortSide: number): OutputPlan {
  const copyVideo = canCopyVideo(probed, maxOutputShortSide);
  return { copyVideo, ...outputSize(probed, copyVideo, maxOutputShortSide) };
}

/**
 * Arguments for the HLS run; ffmpeg runs with its working directory in the output folder.
 * A transcode writes the poster too, from the same decoded frames.
 */
export function hlsArgs(probed: ProbedVideo, absoluteInput: string, plan: OutputPlan): string[] {
  return hlsRunArgs(probed, safeInputArgs(probed.container, absoluteInput), plan, false);
}

/**
 * The live variant (live.ts): the upload is read from stdin as it arrives, so the length is
 * not known yet. Audio is padded with silence without an end and the output stops with the
 * video (-shortest) instead of at a probed length; the poster is a run of its own (posterArgs
 * on the stored bytes), as beside a remux, because -shortest holds back every other output
 * of the run until the end. Everything else is the same command line.
 */
export function liveHlsArgs(probed: ProbedVideo, plan: OutputPlan, shared = false): string[] {
  return hlsRunArgs(probed, safePipeInputArgs(probed.container), plan, true, shared);
}

function hlsRunArgs(
  probed: ProbedVideo,
  input: string[],
  plan: OutputPlan,
  live: boolean,
  shared = false,
): string[] {
  const segmentS = shared ? LIVE_SEGMENT_S : SEGMENT_S;
  // Audio is padded with silence (or made of it) and cut to the video's length, so audio
  // and video end together and joins between clips do not drift.
  const end = live ? '' : `,atrim=end=${probed.durationS.toFixed(3)}`;
  const audio = probed.audio
    ? ['-map', `0:${probed.audio.index}`, '-af', `aresample=async=1:first_pts=0,apad${end}`]
    : ['-filter_complex', `anullsrc=r=${AUDIO.rate}:cl=stereo${end}[silence]`, '-map', '[silence]'];
  const withPoster = !plan.copyVideo && !live;
  const video = videoArgs(probed, plan, withPoster, segmentS);
  return [
    ...globalArgs(),
    ...decoderArgs(probed),
    // Read from a pipe, ffmpeg would wait for 5 s of it before writing anything; the
    // streams are known from the container's header (probed from the first part).
    ...(live ? ['-analyzeduration', '1000000'] : []),
    ...input,
    ...video,
    ...audio,
    '-c:a',
    AUDIO.codec,
    '-b:a',
    AUDIO.bitrate,
    '-ar',
    String(AUDIO.rate),
    '-ac',
    String(AUDIO.channels),
    // No tags from the phone (place, device) in what other people download.
    '-map_metadata',
    '-1',
    '-map_chapters',
    '-1',
    ...(live ? ['-shortest'] : []),
    '-f',
    'hls',
    '-hls_time',
    String(segmentS),
    // An EVENT playlist is written after every segment (a VOD one only at the end).
    '-hls_playlist_type',
    shared ? 'event' : 'vod',
    '-hls_segment_type',
    'fmp4',
    '-hls_fmp4_init_filename',
    OUTPUT.init,
    '-hls_segment_filename',
    OUTPUT.segmentPattern,
    '-hls_flags',
    'independent_segments',
    OUTPUT.playlist,
    ...(withPoster ? ['-map', '[poster]', ...posterOutput()] : []),
  ];
}

/** The video's arguments: copied, or scaled and encoded (with the poster's branch, `withPoster`). */
function videoArgs(
  probed: ProbedVideo,
  plan: OutputPlan,
  withPoster: boolean,
  segmentS: number,
): string[] {
  const poster = fitPoster(plan);
  // Scaled first, to the output size: nothing downstream ever holds a full-size frame.
  // Square pixels and even sides, as 4:2:0 H.264 needs; rotation is applied before this by
  // ffmpeg (autorotate), which also drops the rotation flag. One branch feeds the
  // poster: of the first seconds, the frame most like the others (see posterArgs).
  const scaled = `[0:${probed.video.index}]scale=${plan.width}:${plan.height},setsar=1`;
  const frames = withPoster
    ? `${scaled},split=2[video][thumbs];` +
      `[thumbs]trim=duration=${POSTER_WINDOW_S},scale=${poster.width}:${poster.height},` +
      `thumbnail=n=${POSTER_WINDOW_S * 30}[poster]`
    : `${scaled}[video]`;
  return plan.copyVideo
    ? ['-map', `0:${probed.video.index}`, '-c:v', 'copy']
    : [
        '-filter_complex',
        frames,
        '-map',
        '[video]',
        '-c:v',
        'libx264',
        '-threads',
        String(X264_THREADS),
        '-preset',
        'veryfast',
        '-crf',
        '23',
        // No B-frames: stitched clips with B-frames stall at every join (issue 3).
        '-bf',
        '0',
        // A keyframe exactly every segment, never one on a scene cut.
        '-force_key_frames',
        `expr:gte(t,n_forced*${segmentS})`,
        '-sc_threshold',
        '0',
        '-pix_fmt',
        'yuv420p',
        // Recorders make variable frame rates; keep their timestamps, drop no frames.
        '-fps_mode',
        'vfr',
      ];
}

/**
 * Arguments for the poster run beside a remux: of the first seconds, the frame most like
 * the others (ffmpeg's thumbnail filter), so a dark first frame from a camera warming up
 * is skipped. Frames are scaled to the poster's size before the filter holds them.
 */
export function posterArgs(probed: ProbedVideo, absoluteInput: string, plan: OutputPlan): string[] {
  const poster = fitPoster(plan);
  return [
    ...globalArgs(),
    ...decoderArgs(probed),
    '-t',
    String(POSTER_WINDOW_S),
    ...safeInputArgs(probed.container, absoluteInput),
    '-map',
    `0:${probed.video.index}`,
    '-vf',
    `scale=${poster.width}:${poster.height},setsar=1,thumbnail=n=${POSTER_WINDOW_S * 30}`,
    ...posterOutput(),
  ];
}

function posterOutput(): string[] {
  return ['-frames:v', '1', '-q:v', '4', '-map_metadata', '-1', OUTPUT.poster];
}

/** The output size fitted into the poster's box, keeping aspect, even sides. */
function fitPoster(plan: OutputPlan): { width: number; height: number } {
  const scale = Math.min(1, POSTER_MAX_SIDE / Math.max(plan.width, plan.height));
  return { width: even(plan.width * scale), height: even(plan.height * scale) };
}

function globalArgs(): string[] {
  return [
    '-nostdin',
    '-hide_banner',
    '-v',
    'error',
    // Scaling and the poster's filters gain nothing from more threads (measured).
    '-filter_threads',
    '1',
    '-filter_complex_threads',
    '1',
  ];
}

/**
 * Input options for the decoders: few threads (see DECODER_THREADS), and no picture larger
 * than the one probed, so a stream that grows mid-way (a new sequence header) fails instead
 * of decoding frames the limits never saw.
 */
function decoderArgs(probed: ProbedVideo): string[] {
  const { width, height } = probed.video;
  const maxPixels = (width + MAX_PIXELS_SLACK) * (height + MAX_PIXELS_SLACK);
  return ['-threads', String(DECODER_THREADS), '-max_pixels', String(maxPixels)];
}

function even(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}
