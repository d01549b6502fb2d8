// Owns one ffmpeg or ffprobe child from spawn to exit: argument array (never a shell),
// lower CPU priority, a time limit, killed on abort, stderr tail kept for the logs, and
// every listener and timer removed when it ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';

/** How much of stderr to keep: enough for ffmpeg's last few messages. */
const STDERR_TAIL_CHARS = 4000;
/** Niceness: conversions yield the CPU to the HTTP server. */
const LOW_PRIORITY = 10;

export interface FfmpegProcessOptions {
  /** Executable path (ffmpeg or ffprobe). */
  command: string;
  args: string[];
  cwd?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called with each whole line of stdout; when absent, stdout is collected instead. */
  onStdoutLine?: (line: string) => void;
  /** Collected stdout above this size fails the run (a malformed file can be chatty). */
  maxStdoutBytes?: number;
}

/** The child exited unsuccessfully, or was killed by its time limit. */
export class FfmpegExitError extends Error {
  override readonly name = 'FfmpegExitError';
  constructor(
    message: string,
    readonly stderrTail: string,
    readonly timedOut = false,
  ) {
    super(
      stderrTail ? `${message}: ${stderrTail.trim().split('\n').slice(-3).join(' | ')}` : message,
    );
  }
}

export class FfmpegProcess {
  private child: ChildProcess | undefined;
  private stderrTail = '';

  constructor(private readonly options: FfmpegProcessOptions) {}

  /** Kept stderr, for logs. */
  get stderr(): string {
    return this.stderrTail;
  }

  /** Resolves with stdout (empty when streamed to onStdoutLine) once the child has exited. */
  run(): Promise<string> {
    const { command, args, cwd, timeoutMs, signal, onStdoutLine } = this.options;
    const maxStdoutBytes = this.options.maxStdoutBytes ?? 16 * 1024 * 1024;
    return new Promise<string>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      let failure: unknown;
      let timedOut = false;
      const stdoutChunks: Buffer[] = [];
      let stdoutBytes = 0;
      let partialLine = '';

      const fail = (error: unknown): void => {
        failure ??= error;
        this.kill();
      };
      const onAbort = (): void => fail(signal?.reason);
      const timer = setTimeout(() => {
        timedOut = true;
        fail(new FfmpegExitError(`${command} took longer than ${timeoutMs} ms`, '', true));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });

      child.stdout?.on('data', (chunk: Buffer) => {
        if (onStdoutLine) {
          const lines = (partialLine + chunk.toString('utf8')).split('\n');
          partialLine = lines.pop() ?? '';
          for (const line of lines) onStdoutLine(line);
          return;
        }
        stdoutBytes += chunk.length;
        if (stdoutBytes > maxStdoutBytes) fail(new FfmpegExitError(`${command} said too much`, ''));
        else stdoutChunks.push(chunk);
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
      });
      // 'error' comes when the executable cannot be started (ENOENT, EACCES).
      child.once('error', (error) => {
        failure ??= error;
      });
      child.once('spawn', () => {
        try {
          if (child.pid !== undefined) setPriority(child.pid, LOW_PRIORITY);
        } catch {
          // It may already have exited; priority is a courtesy, not a requirement.
        }
      });
      // 'close' comes after exit and after stdout/stderr have ended, also after 'error'.
      child.once('close', (code, exitSignal) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        child.stdout?.removeAllListeners();
        child.stderr?.removeAllListeners();
        child.removeAllListeners();
        this.child = undefined;
        if (onStdoutLine && partialLine && failure === undefined) onStdoutLine(partialLine);
        if (failure !== undefined) {
          if (failure instanceof FfmpegExitError && timedOut) {
            reject(new FfmpegExitError(failure.message, this.stderrTail, true));
          } else reject(failure);
        } else if (code === 0) {
          resolve(Buffer.concat(stdoutChunks).toString('utf8'));
        } else {
          const how = exitSignal ? `was killed by ${exitSignal}` : `exited with code ${code}`;
          reject(new FfmpegExitError(`${command} ${how}`, this.stderrTail));
        }
      });
    });
  }

  /** Stops the child at once; run() then settles after it has exited. */
  kill(): void {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
    }
  }
}
