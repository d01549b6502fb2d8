// Converts one upload while it arrives (issue 11): ffmpeg reads the stored bytes from a pipe
// as they land and writes the HLS folder beside the final one, so that when the last byte
// arrives only the last segment and the playlist's end remain. See docs/conversion.md,
// "Converting while uploading", for what is checked when.
//
// - Up front, from the first part of the upload: the same sniff (sniff.ts) and the same
//   probe (probe.ts, `partial`) as a finished file, which choose the same plan (copy or
//   transcode, output size); what the probe refuses never starts a live ffmpeg.
// - While it runs: the same forced demuxer (safe-input.ts, pipe only), the same command line
//   (pipeline.ts), and the limits that need the whole file are kept on ffmpeg's progress
//   (length, frame rate, pixel budget), its memory watched, its run under a time limit.
// - At the end: probe.ts's packet scan, which read the same bytes beside ffmpeg, gives the
//   length, frame count, frame order and demuxer errors of the complete file, judged as for
//   a finished file; the output must be whole (playlist ended, segments there, lengths as
//   planned, its duration within 0.1 s of the packets'); ffmpeg must have reported nothing.
//
// Anything else gives up (the promise resolves undefined): the durable job then converts the
// stored bytes as for any finished upload, and a bad file fails there with its reason.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { FfmpegProcess } from './ffmpeg-process.js';
import { displayedSize } from './limits.js';
import { checkLiveRun, LiveGaveUp } from './live-checks.js';
import { MemoryWatch } from './memory-watch.js';
import { PlaylistWatch } from './playlist-watch.js';
import {
  OUTPUT,
  POSTER_WINDOW_S,
  liveHlsArgs,
  planOutput,
  posterArgs,
  type OutputPlan,
} from './pipeline.js';
import { probeVideo, scanPipedVideoPackets, type ProbedVideo } from './probe.js';
import { sniffContainer } from './sniff.js';
import type { ClipLimits, ConvertResult } from './types.js';

export interface LiveOptions {
  ffmpegPath: string;
  ffprobePath: string;
  maxDurationS: number;
  limits: ClipLimits;
  /** After the upload completes, the conversion has this long to finish; else it gives up. */
  finishTimeoutMs: number;
  /** No new bytes for this long: it gives up (the upload may still complete later). */
  idleTimeoutMs: number;
}

/**
 * A take shared while recorded (docs/protocol.md, "Live"): its EVENT playlist is handed out
 * each time ffmpeg adds a segment (`dir` is where its files are then), and once more, ended
 * and measured, from its final folder.
 */
export interface LiveShare {
  onPlaylist(text: string, dir: string): void;
}

/** A finished live conversion, its folder in place: what markVideoReady needs. */
export type LiveResult = ConvertResult & { sha256: string };

/**
 * Milliseconds from the upload's completion to each step of the end (for the log and the
 * bench: where the wait after Stop goes). Steps not reached are absent.
 */
export interface LiveFinishTimings {
  /** How far ffmpeg's output had got (s of video) when the upload completed. */
  outputAtCompleteS?: number;
  /** The last stored byte was written to ffmpeg and the packet scan. */
  fedMs?: number;
  /** ffmpeg wrote the last segment and the playlist's end, and exited. */
  hlsMs?: number;
  /** The packet scan of the complete file ended. */
  scanMs?: number;
  /** The poster run ended (it starts from the first seconds; usually long done). */
  posterMs?: number;
  /** The last segment measured and the output checked. */
  checkedMs?: number;
  /** The folder renamed into place. */
  inPlaceMs?: number;
}

type FinishStep = Exclude<keyof LiveFinishTimings, 'outputAtCompleteS'>;

/** Tries to read the first part this many times (it may be too short yet) before giving up. */
const FIRST_PART_PROBES = 4;
/** Looks at the stored file this often between PATCHes (a long PATCH is read as it arrives). */
const POLL_MS = 250;
const READ_CHUNK_BYTES = 256 * 1024;
const POSTER_TIMEOUT_MS = 60_000;
/** The poster starts once ffmpeg's output is this far past the poster's window. */
const POSTER_MARGIN_S = 1;
const MEMORY_POLL_MS = 200;

export class LiveConversion {
  /** Resolves once everything has stopped: the result, or undefined when it gave up. */
  readonly result: Promise<LiveResult | undefined>;
  /** Why it gave up (for logs and tests). */
  failure: string | undefined;
  readonly timings: LiveFinishTimings = {};
  private completedAt: number | undefined;
  private readonly stop = new AbortController();
  private readonly hash = createHash('sha256');
  private completedSize: number | undefined;
  private finishTimer: NodeJS.Timeout | undefined;
  private wakes = 0;
  private wakeUp: (() => void) | undefined;
  private fed = 0;
  private lastGrowthAt = Date.now();
  private outTimeS = 0;
  private frames = 0;
  private onProgress: (() => void) | undefined;

  constructor(
    readonly videoId: string,
    private readonly input: string,
    private readonly outputDir: string,
    private readonly options: LiveOptions,
    private readonly share?: LiveShare,
  ) {
    this.result = this.run().then(
      (result) => result,
      (error: unknown) => {
        this.failure = error instanceof Error ? error.message : String(error);
        return undefined;
      },
    );
    void this.result.finally(() => clearTimeout(this.finishTimer));
  }

  /** More bytes were stored. */
  grew(): void {
    this.wake();
  }

  /** The upload is complete at `size` bytes: finish within the time allowed. */
  complete(size: number): Promise<LiveResult | undefined> {
    if (this.completedSize === undefined) {
      this.completedSize = size;
      this.completedAt = performance.now();
      this.timings.outputAtCompleteS = Math.round(this.outTimeS * 100) / 100;
      this.finishTimer = setTimeout(
        () => this.abort(new LiveGaveUp('it did not finish in time after the upload completed')),
        this.options.finishTimeoutMs,
      );
      this.finishTimer.unref();
      this.wake();
    }
    return this.result;
  }

  abort(reason: unknown): void {
    this.stop.abort(reason);
    this.wake();
  }

  /** Notes a step of the end, once the upload is complete (see LiveFinishTimings). */
  private mark(step: FinishStep): void {
    if (this.completedAt === undefined) return;
    this.timings[step] = Math.round((performance.now() - this.completedAt) * 10) / 10;
  }

  private wake(): void {
    this.wakes++;
    this.wakeUp?.();
  }

  private async run(): Promise<LiveResult> {
    const probed = await this.probeFirstPart();
    const plan = planOutput(probed, this.options.limits.maxOutputShortSide);
    // Beside the destination, so the final rename stays on one filesystem and is atomic; a
    // dot-folder, which the server removes at start (a server killed with -9 leaves it).
    const temp = join(
      dirname(this.outputDir),
      `.${basename(this.outputDir)}.live-${randomBytes(4).toString('hex')}`,
    );
    await mkdir(temp, { recursive: true });
    let renamed = false;
    try {
      const result = await this.convert(probed, plan, temp);
      this.stop.signal.throwIfAborted();
      await rm(this.outputDir, { recursive: true, force: true });
      await rename(temp, this.outputDir);
      renamed = true;
      this.mark('inPlaceMs');
      const ended = await readFile(join(this.outputDir, OUTPUT.playlist), 'utf8');
      this.share?.onPlaylist(ended, this.outputDir);
      return result;
    } finally {
      if (!renamed) await rm(temp, { recursive: true, force: true });
    }
  }

  /** The same sniff and probe as a finished file, on what has arrived so far. */
  private async probeFirstPart(): Promise<ProbedVideo> {
    let probedAt = 0;
    for (let attempt = 1; ; attempt++) {
      await this.until(async () => (await this.storedSize()) > probedAt);
      if (this.completedSize !== undefined) {
        throw new LiveGaveUp('the upload completed before its first part could be read');
      }
      probedAt = await this.storedSize();
      try {
        const container = await sniffContainer(this.input);
        return await probeVideo(container, this.input, {
          ffprobePath: this.options.ffprobePath,
          maxDurationS: this.options.maxDurationS,
          limits: this.options.limits,
          signal: this.stop.signal,
          partial: true,
          // On the way to the first segment, which a viewer is waiting for; a small read.
          niceness: 0,
        });
      } catch (error) {
        this.stop.signal.throwIfAborted();
        if (attempt >= FIRST_PART_PROBES) {
          throw new LiveGaveUp(`its first part could not be read (${String(error)})`);
        }
      }
    }
  }

  private async convert(probed: ProbedVideo, plan: OutputPlan, temp: string): Promise<LiveResult> {
    const { limits } = this.options;
    const stopRuns = new AbortController();
    const signal = AbortSignal.any([this.stop.signal, stopRuns.signal]);
    const giveUp = (why: string) => stopRuns.abort(new LiveGaveUp(why));
    // Looked at less often than a finished file's conversion (50 ms), since this one lasts
    // as long as the take (each look costs ~2 ms of CPU) and ffmpeg cannot run ahead of the
    // bytes, which arrive at the recording's pace.
    const memory = new MemoryWatch(
      await realpath(temp),
      limits.maxMemoryBytes,
      () => giveUp('it needed too much memory'),
      MEMORY_POLL_MS,
    );
    const runs = this.startRuns(probed, plan, temp, signal);
    this.watchLimits(probed, plan, giveUp, runs.startPoster);
    memory.start();
    const shared = this.share && new PlaylistWatch(temp, this.share);
    try {
      // Both children must be reading before anything is fed; one that ends first gives up.
      const ended = Promise.race([...runs.all]).then(
        () => Promise.reject(new LiveGaveUp('ffmpeg ended before reading')),
        (error: unknown) => Promise.reject(error),
      );
      await this.feed(await Promise.race([Promise.all(runs.stdins), ended]), signal);
      this.mark('fedMs');
      runs.startPoster();
      const outcomes = await Promise.allSettled(runs.all);
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw signal.aborted ? signal.reason : failed.reason;
      const duration = await checkLiveRun({
        scan: await runs.packets,
        probed,
        plan,
        limits,
        temp,
        reports: [runs.hls.stderr, runs.poster()!.stderr],
      });
      this.mark('checkedMs');
      return {
        duration,
        width: plan.width,
        height: plan.height,
        bytes: this.fed,
        videoCodec: probed.video.codec,
        audioCodec: probed.audio?.codec ?? null,
        remuxed: plan.copyVideo,
        sha256: this.hash.digest('hex'),
      };
    } catch (error) {
      stopRuns.abort(error);
      await Promise.allSettled(runs.all);
      throw error;
    } finally {
      memory.stop();
      shared?.close();
    }
  }

  /**
   * Gives up, on ffmpeg's progress, when the take breaks a limit that needs the whole file
   * (length, frame rate, pixel budget), and starts the poster once its window is stored.
   */
  private watchLimits(
    probed: ProbedVideo,
    plan: OutputPlan,
    giveUp: (why: string) => void,
    startPoster: () => void,
  ): void {
    const { limits } = this.options;
    // Pixels per decoded frame, for the transcode budget (frames are counted as they come).
    const shown = displayedSize(probed.video);
    const framePixels = Math.max(
      probed.video.width * probed.video.height,
      shown.width * shown.height,
    );
    this.onProgress = () => {
      if (this.outTimeS > this.options.maxDurationS + 1) giveUp('it is longer than allowed');
      if (this.frames > limits.maxFrameRate * Math.max(2, this.outTimeS)) {
        giveUp('its frame rate is too high');
      }
      if (!plan.copyVideo && this.frames * framePixels > limits.maxPixelsPerClip) {
        giveUp('it is more video than a clip may be');
      }
      // The output lags the input: what it has written is stored already. A second more,
      // so the poster's window is whole (the stored file ends where the last PATCH did).
      if (this.outTimeS >= POSTER_WINDOW_S + POSTER_MARGIN_S) startPoster();
    };
  }

  /**
   * Starts ffmpeg's HLS run and the packet scan, each reading a pipe this conversion feeds
   * (`stdins`), and offers the poster's run to start later. `all` holds every started run.
   */
  private startRuns(probed: ProbedVideo, plan: OutputPlan, temp: string, signal: AbortSignal) {
    const { limits } = this.options;
    const stdins: Promise<Writable>[] = [];
    const pipe = (): { onStdin: (stdin: Writable) => void } => {
      let onStdin: (stdin: Writable) => void = () => undefined;
      stdins.push(new Promise<Writable>((resolve) => (onStdin = resolve)));
      return { onStdin };
    };
    const timeoutMs = liveTimeoutMs(this.options, plan);
    const hls = new FfmpegProcess({
      command: this.options.ffmpegPath,
      args: ['-progress', 'pipe:1', ...liveHlsArgs(probed, plan, this.share !== undefined)],
      cwd: temp,
      timeoutMs,
      signal,
      ...pipe(),
      onStdoutLine: (line) => this.progressLine(line),
      // A remux is light (the audio encode): at full priority its end comes at once.
      niceness: plan.copyVideo ? 0 : undefined,
    });
    const all: Promise<unknown>[] = [];
    // Each run's failure is looked at below (allSettled); until then it must not be unhandled.
    // Its end after the upload completed is noted as `step`.
    const started = <T>(run: Promise<T>, step: FinishStep): Promise<T> => {
      run.then(
        () => this.mark(step),
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
        ffprobePath: this.options.ffprobePath,
        maxDurationS: this.options.maxDurationS,
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
        command: this.options.ffmpegPath,
        args: posterArgs(probed, this.input, plan),
        cwd: temp,
        timeoutMs: POSTER_TIMEOUT_MS,
        signal,
        niceness: 0,
      });
      started(poster.run(), 'posterMs');
    };
    return { all, stdins, hls, packets, startPoster, poster: () => poster };
  }

  /**
   * Feeds ffmpeg the stored file from where it left off, in order, until the upload is
   * complete. Bytes are only ever read from the file tus wrote (append-only, each PATCH at
   * the stored offset), so a resumed upload continues exactly where the bytes end.
   */
  private async feed(stdins: Writable[], signal: AbortSignal): Promise<void> {
    const file = await open(this.input, 'r');
    try {
      const buffer = Buffer.alloc(READ_CHUNK_BYTES);
      for (;;) {
        await this.until(
          async () => (await this.storedSize()) > this.fed || this.completedSize !== undefined,
          signal,
        );
        const end = this.completedSize ?? (await this.storedSize());
        while (this.fed < end) {
          const { bytesRead } = await file.read(
            buffer,
            0,
            Math.min(buffer.length, end - this.fed),
            this.fed,
          );
          if (bytesRead === 0) throw new LiveGaveUp('the stored file is shorter than its upload');
          const chunk = Buffer.from(buffer.subarray(0, bytesRead));
          this.hash.update(chunk);
          this.fed += bytesRead;
          await Promise.all(stdins.map((stdin) => write(stdin, chunk, signal)));
        }
        if (this.completedSize !== undefined) {
          for (const stdin of stdins) stdin.end();
          return;
        }
      }
    } finally {
      await file.close();
    }
  }

  /**
   * Waits until `ready()` holds: re-checked at every wake (a PATCH stored, the upload
   * completed) and every POLL_MS. Gives up after idleTimeoutMs without new bytes.
   */
  private async until(ready: () => Promise<boolean>, signal = this.stop.signal): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      const wakes = this.wakes;
      if (await ready()) return;
      signal.throwIfAborted();
      if (Date.now() - this.lastGrowthAt > this.options.idleTimeoutMs) {
        throw new LiveGaveUp(`no bytes arrived for ${this.options.idleTimeoutMs} ms`);
      }
      if (this.wakes !== wakes) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, POLL_MS);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  private lastSize = 0;

  private async storedSize(): Promise<number> {
    const { size } = await stat(this.input);
    if (size !== this.lastSize) {
      this.lastSize = size;
      this.lastGrowthAt = Date.now();
    }
    return size;
  }

  /** ffmpeg's -progress: key=value lines, a block ending with `progress=…`. */
  private progressLine(line: string): void {
    const [key, value] = line.split('=', 2);
    if (key === 'frame') this.frames = Number(value) || this.frames;
    else if (key === 'out_time_us') this.outTimeS = (Number(value) || 0) / 1e6 || this.outTimeS;
    else if (key === 'progress') this.onProgress?.();
  }
}

/** Generous, as the finished path's: the take's wall time (at most its length, twice over). */
function liveTimeoutMs(options: LiveOptions, plan: OutputPlan): number {
  const transcode = plan.copyVideo ? 0 : options.limits.maxPixelsPerClip / 25_000;
  return (60 + options.maxDurationS * 2) * 1000 + options.finishTimeoutMs + transcode;
}

/** Writes a chunk, waiting while the pipe is full; fails when ffmpeg stops reading. */
function write(stdin: Writable, chunk: Buffer, signal: AbortSignal): Promise<void> {
  if (stdin.destroyed || stdin.writableEnded) {
    return Promise.reject(new LiveGaveUp('ffmpeg stopped reading'));
  }
  if (stdin.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stdin.off('drain', onDrain);
      stdin.off('close', onClose);
      signal.removeEventListener('abort', onClose);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(signal.aborted ? signal.reason : new LiveGaveUp('ffmpeg stopped reading'));
    };
    stdin.on('drain', onDrain);
    stdin.on('close', onClose);
    signal.addEventListener('abort', onClose, { once: true });
  });
}
