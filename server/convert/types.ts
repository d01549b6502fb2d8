/** What a finished conversion reports; stored as the video's metadata. */
export interface ConvertResult {
  /** Seconds, of the HLS output (sum of its segment durations). */
  duration: number;
  /** Of the output, as displayed (after rotation, and after scaling down to the cap). */
  width: number;
  height: number;
  /** Size of the uploaded input file. */
  bytes: number;
  /** Of the input, e.g. 'h264', 'vp8', 'vp9'. */
  videoCodec: string;
  /** Of the input; null when it had no audio (the output then carries silence). */
  audioCodec: string | null;
  /** True when the video was copied, not transcoded. */
  remuxed: boolean;
}

/**
 * What one clip may cost. Every field has a default (`DEFAULT_CLIP_LIMITS`); see
 * docs/conversion.md, "What one clip may cost", for the figures behind them.
 */
export interface ClipLimits {
  /** Longest side of the picture, coded and as displayed (after pixel aspect and rotation). */
  maxSide: number;
  /**
   * Pixels a transcode may decode: frames (counted from the packets) × the larger of the
   * coded and the displayed picture. A remuxed clip does not decode its video.
   */
  maxPixelsPerClip: number;
  /** Average frames per second (frames counted from the packets). */
  maxFrameRate: number;
  /**
   * The output's short side is scaled down to this (keeping aspect, even sides), and its
   * area to this × this × 16/9 (a 1080p frame's, at the default); larger clips are
   * transcoded down, never copied.
   */
  maxOutputShortSide: number;
  /** A conversion whose ffmpeg children together use more memory than this is stopped. */
  maxMemoryBytes: number;
}

export const DEFAULT_CLIP_LIMITS: ClipLimits = {
  maxSide: 4096,
  // 5 minutes of 1920×1080 at 30 fps is 18.7 gigapixels.
  maxPixelsPerClip: 20_000_000_000,
  maxFrameRate: 240,
  maxOutputShortSide: 1080,
  maxMemoryBytes: 600 * 1024 * 1024,
};

/** What the time limit of a conversion's ffmpeg runs is computed from. */
export interface ConversionCost {
  /** Seconds of video. */
  durationS: number;
  /** Pixels the video decode goes through (0 when the video is copied). */
  transcodedPixels: number;
}

export interface ConverterOptions {
  ffmpegPath: string;
  ffprobePath: string;
  /** Conversions at once; the rest wait in order. */
  concurrency: number;
  /** Longest accepted clip, in seconds. */
  maxDurationS: number;
  /** What one clip may cost; each field defaults to DEFAULT_CLIP_LIMITS. */
  limits?: Partial<ClipLimits>;
  /** Time limit for one ffmpeg run, from the clip's cost. Default: generous, see converter.ts. */
  timeoutMs?: (cost: ConversionCost) => number;
}
