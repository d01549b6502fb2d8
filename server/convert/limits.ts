// What one clip may cost ffmpeg, checked from ffprobe's answers before ffmpeg runs. The
// bytes of an upload say little: 15 MB can hold 300 s of 4096×4096 at 60 fps, and a pixel
// aspect flag can make a 4096-pixel picture 16384 pixels wide. So the checks are on the
// picture as displayed, on the decoded frame's size, and on the frames actually in the file.
// The figures behind the defaults are in docs/conversion.md, "What one clip may cost".
import { ConvertError } from './errors.js';
import type { ClipLimits } from './types.js';

/**
 * Smallest side, as displayed. H.264 4:2:0 needs even sides of at least 2 pixels; 16 (one
 * macroblock) is the least that is a picture at all.
 */
export const MIN_SIDE = 16;
/** Pixels at most this many times wider than tall, or taller than wide (anamorphic 2×). */
export const MAX_SAMPLE_ASPECT = 3;
/**
 * A decoded frame at most this large: 4096×4096 at 8 bits 4:2:0 is 24 MiB, 3840×2160 at
 * 10 bits 24 MiB. The decoder keeps up to 16 of them as references, so this (not the
 * side alone) is what bounds its memory.
 */
export const MAX_FRAME_BYTES = 32 * 1024 * 1024;

interface Picture {
  /** Coded size, before rotation. */
  width: number;
  height: number;
  rotation: number;
  sampleAspect: number;
  pixelFormat: string;
}

/** The size a player shows: the pixel aspect applied to the width, then the rotation. */
export function displayedSize(picture: Picture): { width: number; height: number } {
  const width = Math.round(picture.width * picture.sampleAspect);
  const sideways = picture.rotation === 90 || picture.rotation === 270;
  return sideways ? { width: picture.height, height: width } : { width, height: picture.height };
}

/** Refuses a picture too large, too small, too stretched or too heavy to decode. */
export function checkPicture(picture: Picture, limits: ClipLimits): void {
  const { width, height, sampleAspect, pixelFormat } = picture;
  const max = limits.maxSide;
  if (width > max || height > max) {
    throw new ConvertError(`The picture is larger than ${max} pixels (${width}×${height})`);
  }
  const shown = displayedSize(picture);
  if (shown.width > max || shown.height > max) {
    throw new ConvertError(
      `The picture is larger than ${max} pixels as displayed (${shown.width}×${shown.height})`,
    );
  }
  if (shown.width < MIN_SIDE || shown.height < MIN_SIDE) {
    throw new ConvertError(
      `The picture is too small (${shown.width}×${shown.height}; ` +
        `at least ${MIN_SIDE}×${MIN_SIDE} pixels)`,
    );
  }
  // Within the size limits, but no camera makes such pixels.
  if (sampleAspect > MAX_SAMPLE_ASPECT || sampleAspect < 1 / MAX_SAMPLE_ASPECT) {
    throw new ConvertError(
      `The pixel aspect ratio is out of range (${aspectText(sampleAspect)}; ` +
        `at most ${MAX_SAMPLE_ASPECT}:1 either way)`,
    );
  }
  const frameBytes = width * height * bytesPerPixel(pixelFormat);
  if (frameBytes > MAX_FRAME_BYTES) {
    throw new ConvertError(
      `The picture is too large to decode (${width}×${height} ${pixelFormat}: ` +
        `${mebibytes(frameBytes)} MiB a frame, at most ${mebibytes(MAX_FRAME_BYTES)} MiB)`,
    );
  }
}

/** Average frame rate from the packets: more frames than the limit allows is refused. */
export function checkFrameRate(frames: number, durationS: number, limits: ClipLimits): void {
  if (frames > limits.maxFrameRate * Math.max(1, durationS)) {
    const fps = Math.round(frames / Math.max(durationS, 1e-3));
    throw new ConvertError(
      `The frame rate is too high (${fps} fps on average; at most ${limits.maxFrameRate})`,
    );
  }
}

/** Pixels a transcode decodes and scales: every frame, at the larger of coded and shown. */
export function transcodedPixels(video: Picture, frames: number): number {
  const shown = displayedSize(video);
  return frames * Math.max(video.width * video.height, shown.width * shown.height);
}

/** Refuses a transcode that would decode more pixels than the budget. */
export function checkTranscodeBudget(
  video: Picture,
  frames: number,
  durationS: number,
  limits: ClipLimits,
): void {
  const pixels = transcodedPixels(video, frames);
  if (pixels <= limits.maxPixelsPerClip) return;
  const shown = displayedSize(video);
  const fps = Math.round(frames / Math.max(durationS, 1e-3));
  // The budget in the unit people know: seconds of 1080p at 30 fps.
  const fullHdSeconds = Math.floor(limits.maxPixelsPerClip / (1920 * 1080 * 30));
  throw new ConvertError(
    `Too much video to convert (${shown.width}×${shown.height} at ${fps} fps for ` +
      `${durationS.toFixed(0)} s is ${gigapixels(pixels)} gigapixels; the limit is ` +
      `${gigapixels(limits.maxPixelsPerClip)}, about ${fullHdSeconds} s of 1080p at 30 fps)`,
  );
}

/**
 * Bytes per pixel of a decoded frame, from ffmpeg's pixel format name (yuv420p10le,
 * yuva444p12le, gbrp, nv12, rgb24, …). An unknown format counts as the heaviest (8).
 */
export function bytesPerPixel(pixelFormat: string): number {
  const depth = Number(/(\d+)(le|be)$/.exec(pixelFormat)?.[1] ?? 8);
  const sampleBytes = depth > 8 ? 2 : 1;
  const planar = /^(yuvj?a?)(4\d\d)p/.exec(pixelFormat);
  if (planar) {
    const chroma: Record<string, number> = {
      '444': 2,
      '440': 1,
      '422': 1,
      '420': 0.5,
      '411': 0.5,
      '410': 0.25,
    };
    const alpha = planar[1].endsWith('a') ? 1 : 0;
    return (1 + (chroma[planar[2]] ?? 2) + alpha) * sampleBytes;
  }
  if (/^gbrap/.test(pixelFormat)) return 4 * sampleBytes;
  if (/^gbrp/.test(pixelFormat)) return 3 * sampleBytes;
  if (/^gray/.test(pixelFormat)) return sampleBytes;
  if (/^ya/.test(pixelFormat)) return 2 * sampleBytes;
  if (/^(nv12|nv21|p0\d\d|p016)/.test(pixelFormat)) return 1.5 * sampleBytes;
  if (/^(rgb|bgr)24$/.test(pixelFormat)) return 3;
  if (/^(rgb|bgr)48/.test(pixelFormat)) return 6;
  if (/^(rgba|bgra)64/.test(pixelFormat)) return 8;
  if (/^(rgba|bgra|argb|abgr|0rgb|rgb0|0bgr|bgr0)$/.test(pixelFormat)) return 4;
  return 8;
}

function aspectText(ratio: number): string {
  return ratio >= 1 ? `${round1(ratio)}:1` : `1:${round1(1 / ratio)}`;
}

const round1 = (n: number): string => String(Math.round(n * 10) / 10);
const mebibytes = (bytes: number): string => String(Math.round(bytes / 1024 / 1024));
const gigapixels = (pixels: number): string => String(Math.round(pixels / 1e8) / 10);
