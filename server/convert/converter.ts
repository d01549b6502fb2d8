// The conversion job: sniff → probe → ffmpeg (HLS + poster) into a temporary folder,
// renamed into place when complete. Bounded concurrency; close() stops everything.
import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ConvertError, ToolsMissingError } from './errors.js';
import { FfmpegExitError, FfmpegProcess } from './ffmpeg-process.js';
import { OUTPUT, canCopyVideo, hlsArgs, outputSize, posterArgs } from './pipeline.js';
import { probeVideo, type ProbedVideo } from './probe.js';
import { Slots } from './slots.js';
import { sniffContainer } from './sniff.js';
import type { ConvertResult, ConverterOptions } from './types.js';

/** Default time limit: half a minute plus four seconds per second of video. */
const defaultTimeoutMs = (durationS: number): number => 30_000 + durationS * 4_000;

export class Converter {
  private readonly slots: Slots;
  private readonly timeoutMs: (durationS: number) => number;
  /** One controller per job, waiting or running, so close() can stop each. */
  private readonly jobs = new Map<AbortController, Promise<unknown>>();
  private closed = false;

  constructor(private readonly options: ConverterOptions) {
    this.slots = new Slots(options.concurrency);
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  }

  /**
   * Validates `inputPath` and writes HLS into `outputDir` (which must not exist yet):
   * index.m3u8, init.mp4, seg0.m4s…, poster.jpg. Writes to a temp folder beside it and
   * renames into place when complete. At most `concurrency` run at once; the rest wait in
   * order. Rejects with ConvertError when the input is bad, with the signal's reason when
   * aborted, and with an AbortError after close().
   */
  convert(inputPath: string, outputDir: string, signal?: AbortSignal): Promise<ConvertResult> {
    if (this.closed) return Promise.reject(closedError());
    const job = new AbortController();
    const jobSignal = signal ? AbortSignal.any([signal, job.signal]) : job.signal;
    const done = this.queue(resolve(inputPath), resolve(outputDir), jobSignal);
    const settled = done.catch(() => undefined).finally(() => this.jobs.delete(job));
    this.jobs.set(job, settled);
    return done;
  }

  /** Kills running ffmpeg/ffprobe children and rejects waiting jobs; used on shutdown. */
  async close(): Promise<void> {
    this.closed = true;
    const error = closedError();
    for (const job of this.jobs.keys()) job.abort(error);
    await Promise.all(this.jobs.values());
  }

  private async queue(
    input: string,
    outputDir: string,
    signal: AbortSignal,
  ): Promise<ConvertResult> {
    const release = await this.slots.acquire(signal);
    try {
      return await this.run(input, outputDir, signal);
    } finally {
      release();
    }
  }

  private async run(input: string, outputDir: string, signal: AbortSignal): Promise<ConvertResult> {
    signal.throwIfAborted();
    if (await exists(outputDir)) throw new Error(`Output folder already exists: ${outputDir}`);
    const { size: bytes } = await stat(input);

    const container = await sniffContainer(input);
    const probed = await withToolsCheck(() =>
      probeVideo(container, input, {
        ffprobePath: this.options.ffprobePath,
        maxDurationS: this.options.maxDurationS,
        signal,
      }),
    );
    const copyVideo = canCopyVideo(probed);

    // Beside the destination, so the final rename stays on one filesystem and is atomic.
    const temp = join(
      dirname(outputDir),
      `.${basename(outputDir)}.converting-${randomBytes(4).toString('hex')}`,
    );
    await mkdir(temp, { recursive: true });
    let renamed = false;
    try {
      await this.runFfmpeg(probed, input, temp, copyVideo, signal);
      const duration = await playlistDuration(join(temp, OUTPUT.playlist));
      signal.throwIfAborted();
      await rename(temp, outputDir);
      renamed = true;
      return {
        duration,
        ...outputSize(probed, copyVideo),
        bytes,
        videoCodec: probed.video.codec,
        audioCodec: probed.audio?.codec ?? null,
        remuxed: copyVideo,
      };
    } finally {
      if (!renamed) await rm(temp, { recursive: true, force: true });
    }
  }

  /** HLS and poster in parallel; when one fails the other is stopped before returning. */
  private async runFfmpeg(
    probed: ProbedVideo,
    input: string,
    temp: string,
    copyVideo: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    const stopBoth = new AbortController();
    const both = AbortSignal.any([signal, stopBoth.signal]);
    const timeoutMs = this.timeoutMs(probed.durationS);
    const start = (args: string[]): Promise<string> =>
      new FfmpegProcess({
        command: this.options.ffmpegPath,
        args,
        cwd: temp,
        timeoutMs,
        signal: both,
      })
        .run()
        .catch((error: unknown) => {
          stopBoth.abort(error);
          throw error;
        });
    const runs = [start(hlsArgs(probed, input, copyVideo)), start(posterArgs(probed, input))];
    const results = await Promise.allSettled(runs);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failure) return;
    signal.throwIfAborted();
    // The first failure is the cause; the other run then reports only that it was stopped.
    throw conversionFailure(stopBoth.signal.reason ?? failure.reason);
  }
}

function conversionFailure(error: unknown): unknown {
  if (isMissingExecutable(error)) return toolsMissing(error);
  if (!(error instanceof FfmpegExitError)) return error;
  if (error.timedOut) return new ConvertError('Converting took too long', { cause: error });
  return new ConvertError('The video could not be converted', { cause: error });
}

async function withToolsCheck<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw isMissingExecutable(error) ? toolsMissing(error) : error;
  }
}

/** spawn() failing: the executable is absent or not executable. */
function isMissingExecutable(error: unknown): error is NodeJS.ErrnoException {
  const { code, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  return Boolean(syscall?.startsWith('spawn')) && (code === 'ENOENT' || code === 'EACCES');
}

function toolsMissing(error: NodeJS.ErrnoException): ToolsMissingError {
  return new ToolsMissingError(`Could not run ${error.path ?? 'ffmpeg'} (${error.code}).`, {
    cause: error,
  });
}

function closedError(): DOMException {
  return new DOMException('The converter is closed', 'AbortError');
}

/** Sum of the segment durations the playlist states (#EXTINF). */
async function playlistDuration(path: string): Promise<number> {
  const text = await readFile(path, 'utf8');
  let total = 0;
  for (const match of text.matchAll(/^#EXTINF:([\d.]+)/gm)) total += Number(match[1]);
  if (total <= 0) throw new ConvertError('The video has no frames that could be converted');
  return Math.round(total * 1000) / 1000;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
