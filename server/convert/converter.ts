// The conversion job: sniff → probe → ffmpeg (HLS + poster) into a temporary folder,
// renamed into place when complete. Bounded concurrency; close() stops everything.
import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { DiskFullError } from '../media/disk-space.js';
import { ConvertError, ToolsMissingError } from './errors.js';
import { FfmpegExitError, FfmpegProcess } from './ffmpeg-process.js';
import { checkTranscodeBudget, transcodedPixels } from './limits.js';
import { MemoryWatch } from './memory-watch.js';
import { OUTPUT, hlsArgs, planOutput, posterArgs, type OutputPlan } from './pipeline.js';
import { measureLastSegment } from './last-segment.js';
import { checkWholeOutput } from './output-check.js';
import { probeVideo, type ProbedVideo } from './probe.js';
import { Slots } from './slots.js';
import { sniffContainer } from './sniff.js';
import {
  DEFAULT_CLIP_LIMITS,
  type ClipLimits,
  type ConversionCost,
  type ConvertResult,
  type ConverterOptions,
} from './types.js';

/**
 * Default time limit of each ffmpeg run: half a minute, plus a second per second of video
 * (the audio is always encoded; a remux takes ~1 s per minute), plus a second per 25
 * megapixels transcoded — several times slower than one core manages (docs/conversion.md),
 * so a busy machine does not fail good clips. The pixel budget bounds it: at the defaults,
 * at most 30 s + 300 s + 800 s.
 */
const defaultTimeoutMs = ({ durationS, transcodedPixels }: ConversionCost): number =>
  30_000 + durationS * 1_000 + transcodedPixels / 25_000;

export class Converter {
  private readonly slots: Slots;
  private readonly timeoutMs: (cost: ConversionCost) => number;
  private readonly limits: ClipLimits;
  /** One controller per job, waiting or running, so close() can stop each. */
  private readonly jobs = new Map<AbortController, Promise<unknown>>();
  private closed = false;

  constructor(private readonly options: ConverterOptions) {
    this.slots = new Slots(options.concurrency);
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    this.limits = { ...DEFAULT_CLIP_LIMITS, ...options.limits };
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
        limits: this.limits,
        signal,
      }),
    );
    const plan = planOutput(probed, this.limits.maxOutputShortSide);
    if (!plan.copyVideo) {
      checkTranscodeBudget(probed.video, probed.frames, probed.durationS, this.limits);
    }

    // Beside the destination, so the final rename stays on one filesystem and is atomic.
    const temp = join(
      dirname(outputDir),
      `.${basename(outputDir)}.converting-${randomBytes(4).toString('hex')}`,
    );
    await mkdir(temp, { recursive: true });
    let renamed = false;
    try {
      await this.runFfmpeg(probed, input, temp, plan, signal);
      await checkWholeOutput(temp, OUTPUT);
      await measureLastSegment(temp, OUTPUT);
      const duration = await playlistDuration(join(temp, OUTPUT.playlist));
      signal.throwIfAborted();
      await rename(temp, outputDir);
      renamed = true;
      return {
        duration,
        width: plan.width,
        height: plan.height,
        bytes,
        videoCodec: probed.video.codec,
        audioCodec: probed.audio?.codec ?? null,
        remuxed: plan.copyVideo,
      };
    } finally {
      if (!renamed) await rm(temp, { recursive: true, force: true });
    }
  }

  /**
   * A transcode: one run, HLS and poster. A remux: HLS and poster in parallel; when one
   * fails the other is stopped before returning. Either way, stopped when their memory
   * together passes the limit.
   */
  private async runFfmpeg(
    probed: ProbedVideo,
    input: string,
    temp: string,
    plan: OutputPlan,
    signal: AbortSignal,
  ): Promise<void> {
    const stopBoth = new AbortController();
    const both = AbortSignal.any([signal, stopBoth.signal]);
    const timeoutMs = this.timeoutMs({
      durationS: probed.durationS,
      transcodedPixels: plan.copyVideo ? 0 : transcodedPixels(probed.video, probed.frames),
    });
    const maxBytes = this.limits.maxMemoryBytes;
    const memory = new MemoryWatch(await realpath(temp), maxBytes, () =>
      stopBoth.abort(
        new ConvertError(
          `The video needs too much memory to convert (more than ${Math.round(maxBytes / 2 ** 20)} MB)`,
        ),
      ),
    );
    const processes: FfmpegProcess[] = [];
    const start = (args: string[]): Promise<string> => {
      const ffmpeg = new FfmpegProcess({
        command: this.options.ffmpegPath,
        args,
        cwd: temp,
        timeoutMs,
        signal: both,
      });
      processes.push(ffmpeg);
      return ffmpeg.run().catch((error: unknown) => {
        stopBoth.abort(error);
        throw error;
      });
    };
    const runs = plan.copyVideo
      ? [start(hlsArgs(probed, input, plan)), start(posterArgs(probed, input, plan))]
      : [start(hlsArgs(probed, input, plan))];
    memory.start();
    const results = await Promise.allSettled(runs).finally(() => memory.stop());
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    // Out of space is the machine's state, not the video's fault: tried again later (when
    // ffmpeg exits 0 all the same, checkWholeOutput finds what it could not write).
    if (processes.some((p) => OUT_OF_SPACE.test(p.stderr))) {
      signal.throwIfAborted();
      throw new DiskFullError('converting', { cause: failure?.reason });
    }
    // The decoders refuse frames larger than the probed picture (-max_pixels, see
    // pipeline.ts: a new sequence header mid-way, or cropping that hides the coded size)
    // but carry on without them; such a file is refused, not half converted.
    if (!failure && processes.some((p) => /exceeds specified max pixel count/.test(p.stderr))) {
      const { width, height } = probed.video;
      throw new ConvertError(`The video holds pictures larger than its stated ${width}×${height}`);
    }
    if (!failure) return;
    signal.throwIfAborted();
    // The first failure is the cause; the other run then reports only that it was stopped.
    throw conversionFailure(stopBoth.signal.reason ?? failure.reason);
  }
}

/** What ffmpeg prints when a write found the disk full. */
const OUT_OF_SPACE = /No space left on device|Disk quota exceeded/i;

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
