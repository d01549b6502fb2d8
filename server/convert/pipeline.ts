// The ffmpeg command lines, as plain data: one run writes the HLS folder, one the poster.
// See docs/conversion.md for why each option is there.
import type { ProbedVideo } from './probe.js';
import { safeInputArgs } from './safe-input.js';

/** Every clip gets the same audio, so the player can stitch clips into one playlist. */
const AUDIO = { codec: 'aac', rate: 48000, channels: 2, bitrate: '128k' } as const;
const SEGMENT_S = 2;
/** The poster is picked from this much of the start, and fits this box. */
const POSTER_WINDOW_S = 3;
const POSTER_MAX_SIDE = 640;

export const OUTPUT = {
  playlist: 'index.m3u8',
  init: 'init.mp4',
  segmentPattern: 'seg%d.m4s',
  poster: 'poster.jpg',
} as const;

/**
 * Remux only what a stitched playlist can take as is: H.264 without B-frames, 4:2:0,
 * needing no rotation. Everything else is transcoded.
 */
export function canCopyVideo(probed: ProbedVideo): boolean {
  const { video } = probed;
  return (
    video.codec === 'h264' &&
    !video.hasBFrames &&
    video.rotation === 0 &&
    video.sampleAspect === 1 &&
    (video.pixelFormat === 'yuv420p' || video.pixelFormat === 'yuvj420p')
  );
}

/** Arguments for the HLS run; ffmpeg runs with its working directory in the output folder. */
export function hlsArgs(probed: ProbedVideo, absoluteInput: string, copyVideo: boolean): string[] {
  const end = probed.durationS.toFixed(3);
  // Audio is padded with silence (or made of it) and cut to the video's length, so audio
  // and video end together and joins between clips do not drift.
  const audio = probed.audio
    ? [
        '-map',
        `0:${probed.audio.index}`,
        '-af',
        `aresample=async=1:first_pts=0,apad,atrim=end=${end}`,
      ]
    : [
        '-filter_complex',
        `anullsrc=r=${AUDIO.rate}:cl=stereo,atrim=end=${end}[silence]`,
        '-map',
        '[silence]',
      ];
  const video = copyVideo
    ? ['-c:v', 'copy']
    : [
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-crf',
        '23',
        // No B-frames: stitched clips with B-frames stall at every join (issue 3).
        '-bf',
        '0',
        // A keyframe exactly every segment, never one on a scene cut.
        '-force_key_frames',
        `expr:gte(t,n_forced*${SEGMENT_S})`,
        '-sc_threshold',
        '0',
        '-pix_fmt',
        'yuv420p',
        // Square pixels and even sides, as 4:2:0 H.264 needs. Rotation is applied
        // before this by ffmpeg (autorotate), which also drops the rotation flag.
        '-vf',
        'scale=trunc(iw*sar/2)*2:trunc(ih/2)*2,setsar=1',
        // Recorders make variable frame rates; keep their timestamps, drop no frames.
        '-fps_mode',
        'vfr',
      ];
  return [
    '-nostdin',
    '-hide_banner',
    '-v',
    'error',
    ...safeInputArgs(probed.container, absoluteInput),
    '-map',
    `0:${probed.video.index}`,
    ...audio,
    ...video,
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
    '-f',
    'hls',
    '-hls_time',
    String(SEGMENT_S),
    '-hls_playlist_type',
    'vod',
    '-hls_segment_type',
    'fmp4',
    '-hls_fmp4_init_filename',
    OUTPUT.init,
    '-hls_segment_filename',
    OUTPUT.segmentPattern,
    '-hls_flags',
    'independent_segments',
    OUTPUT.playlist,
  ];
}

/**
 * Arguments for the poster run: of the first seconds, the frame most like the others
 * (ffmpeg's thumbnail filter), so a dark first frame from a camera warming up is skipped.
 */
export function posterArgs(probed: ProbedVideo, absoluteInput: string): string[] {
  const box = POSTER_MAX_SIDE;
  return [
    '-nostdin',
    '-hide_banner',
    '-v',
    'error',
    '-t',
    String(POSTER_WINDOW_S),
    ...safeInputArgs(probed.container, absoluteInput),
    '-map',
    `0:${probed.video.index}`,
    '-vf',
    `thumbnail=n=${POSTER_WINDOW_S * 30},scale=w='min(${box},iw)':h='min(${box},ih)':` +
      'force_original_aspect_ratio=decrease:force_divisible_by=2',
    '-frames:v',
    '1',
    '-q:v',
    '4',
    '-map_metadata',
    '-1',
    OUTPUT.poster,
  ];
}

/** The displayed size of the output: rotated, and for a transcode, square-pixel and even. */
export function outputSize(
  probed: ProbedVideo,
  copyVideo: boolean,
): { width: number; height: number } {
  const { video } = probed;
  const sideways = video.rotation === 90 || video.rotation === 270;
  const width = sideways ? video.height : video.width;
  const height = sideways ? video.width : video.height;
  if (copyVideo) return { width, height };
  // With a 90° turn the pixel aspect applies to what becomes the height; recorders make
  // square pixels, so this only matters for odd camera files.
  const even = (n: number): number => Math.max(2, Math.trunc(n / 2) * 2);
  const aspect = sideways ? 1 / video.sampleAspect : video.sampleAspect;
  return { width: even(width * aspect), height: even(height) };
}
