// The child processes of a live conversion (live.ts): ffmpeg's HLS run and the packet scan,
// each reading a pipe the conversion feeds, and the poster's run, started later.
import type { Writable } from 'node:stream';
import { FfmpegProcess } from './ffmpeg-process.js';
import type { FinishStep } from './live.js';
import { liveHlsArgs, posterArgs, type OutputPlan } from './pipeline.js';
import { scanPipedVideoPackets, type ProbedVideo } from './probe.js';
import type { ClipLimits } from './types.js';

const POSTER_TIMEOUT_MS = 60_000;

export interface LiveRunsOptions {
  ffmpegPath: string;
  ffprobePath: string;
  maxDurationS: number;
  limits: ClipLimits;
  probed: ProbedVideo;
  plan: OutputPlan;
  /** The output folder (ffmpeg's working directory). */
  temp: string;
  /** The stored upload, which the poster reads. */
  input: string;
  /** A take shared while recorded (its EVENT playlist). */
  shared: boolean;
  signal: AbortSignal;
  timeoutMs: number;
  onProgressLine(line: string): void;
  /** A run ended well (its step of the end, LiveFinishTimings). */
  onEnded(step: FinishStep): void;
}

/**
 * Starts ffmpeg's HLS run and the packet scan, each reading a pipe the conversion feeds
 * (`stdins`), and offers the poster's run to start later. `all` holds every started run.
 */
export function startLiveRuns(options: LiveRunsOptions) {
  const { probed, plan, temp, signal, timeoutMs, limits } = options;
  const stdins: Promise<Writable>[] = [];
  const pipe = (): { onStdin: (stdin: Writable) => void } => {
    let onStdin: (stdin: Writable) => void = () => undefined;
    stdins.push(new Promise<Writable>((resolve) => (onStdin = resolve)));
    return { onStdin };
  };
  const hls = new FfmpegProcess({
    command: options.ffmpegPath,
    args: ['-progress', 'pipe:1', ...liveHlsArgs(probed, plan, options.shared)],
    cwd: temp,
    timeoutMs,
    signal,
    ...pipe(),
    onStdoutLine: options.onProgressLine,
    // A remux is light (the audio encode): at full priority its end comes at once.
    niceness: plan.copyVideo ? 0 : undefined,
  });
  const all: Promise<unknown>[] = [];
  // Each run's failure is looked at by the conversion (allSettled); until then it must not
  // be unhandled. Its end after the upload completed is noted as `step`.
  const started = <T>(run: Promise<T>, step: FinishStep): Promise<T> => {
    run.then(
      () => options.onEnded(step),
      () => undefined,
    );
    all.push(run);
    return run;
  };
  started(hls.run(), 'hlsMs');
  // The packet scan of probe.ts, reading the same bytes beside ffmpeg: when the last byte
  // is in, the length, frame count and frame order of the complete file are known.
  const packets = started(
    scanPipedVideoPackets(probed.container, probed.video.index, {
      ffprobePath: options.ffprobePath,
      maxDurationS: options.maxDurationS,
      limits,
      signal,
      timeoutMs,
      niceness: 0,
      ...pipe(),
    }),
    'scanMs',
  );
  let poster: FfmpegProcess | undefined;
  const startPoster = (): void => {
    if (poster) return;
    // Of the first seconds, as beside a remux; those bytes are stored already.
    poster = new FfmpegProcess({
      command: options.ffmpegPath,
      args: posterArgs(probed, options.input, plan),
      cwd: temp,
      timeoutMs: POSTER_TIMEOUT_MS,
      signal,
      niceness: 0,
    });
    started(poster.run(), 'posterMs');
  };
  return { all, stdins, hls, packets, startPoster, poster: () => poster };
}
