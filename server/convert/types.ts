/** What a finished conversion reports; stored as the video's metadata. */
export interface ConvertResult {
  /** Seconds, of the HLS output (sum of its segment durations). */
  duration: number;
  /** As displayed, after rotation. */
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

export interface ConverterOptions {
  ffmpegPath: string;
  ffprobePath: string;
  /** Conversions at once; the rest wait in order. */
  concurrency: number;
  /** Longest accepted clip, in seconds. */
  maxDurationS: number;
  /** Time limit for one ffmpeg run, from the clip's duration. Default: generous. */
  timeoutMs?: (durationS: number) => number;
}
