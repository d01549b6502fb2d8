// Owns one ffmpeg or ffprobe child from spawn to exit: argument array (never a shell),
// lower CPU priority, a time limit, killed on abort, stderr tail kept for the logs, and
// every listener and timer removed when it ends.
//
// The child must not outlive the server, even one killed with -9 (whose timers and exit
// handlers never run), nor its time limit, even if the server's event loop is stuck. So
// the kernel and coreutils enforce both, not Node alone (see child-lifetime below):
//
//   setpriv --pdeathsig KILL -- nice -n 10 timeout -s KILL <limit>s \
//     setpriv --pdeathsig KILL -- ffmpeg …
//
// The outer setpriv makes the kernel SIGKILL `timeout` when the server dies; the inner one
// makes it SIGKILL ffmpeg when `timeout` dies (killed with the server, by our own kill(),
// or at its limit). Each part is skipped, with one log line, where the tool is missing.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { setPriority } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';

/** How much of stderr to keep: enough for ffmpeg's last few messages. */
const STDERR_TAIL_CHARS = 4000;
/** Niceness: conversions yield the CPU to the HTTP server. */
const LOW_PRIORITY = 10;
/**
 * The limit outside Node is this much longer than Node's own timer, so that normally
 * Node's fires first and reports the time-out; the outer one is the backstop.
 */
const HARD_LIMIT_GRACE_S = 2;

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
  /**
   * When given, the child's stdin is a pipe, handed over once spawned (the live conversion
   * feeds it the uploaded bytes); otherwise stdin is closed.
   */
  onStdin?: (stdin: Writable) => void;
  /**
   * Niceness (default 10: conversions yield to the HTTP server). The live conversion's light
   * runs use 0: they do little work, but what is left when the upload ends is the wait.
   */
  niceness?: number;
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
  private killRequested = false;

  constructor(private readonly options: FfmpegProcessOptions) {}

  /** Kept stderr, for logs. */
  get stderr(): string {
    return this.stderrTail;
  }

  /** Resolves with stdout (empty when streamed to onStdoutLine) once the child has exited. */
  async run(): Promise<string> {
    const { command, args, timeoutMs, signal } = this.options;
    signal?.throwIfAborted();
    // Found before spawning: behind the wrappers a missing ffmpeg would only be an exit code.
    const executable = await findExecutable(command, args);
    const tools = await lifetimeTools();
    signal?.throwIfAborted();
    const niceness = this.options.niceness ?? LOW_PRIORITY;
    const argv = guardedCommand(tools, executable, args, timeoutMs, niceness);
    return this.spawnAndWait(argv, tools.nice !== undefined || niceness === 0);
  }

  /** Stops the child at once; run() then settles after it has exited. */
  kill(): void {
    this.killRequested = true;
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
    }
  }

  private spawnAndWait(argv: string[], niced: boolean): Promise<string> {
    const { command, timeoutMs, signal } = this.options;
    return new Promise<string>((resolve, reject) => {
      const child = this.spawnChild(argv);
      const startedAt = Date.now();
      let failure: unknown;
      let timedOut = false;
      const fail = (error: unknown): void => {
        failure ??= error;
        this.kill();
      };
      const stdout = this.readStdout(child, fail);
      const onAbort = (): void => fail(signal?.reason);
      const timer = setTimeout(() => {
        timedOut = true;
        fail(new FfmpegExitError(`${command} took longer than ${timeoutMs} ms`, '', true));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (this.killRequested) this.kill();

      // 'error' comes when the executable cannot be started (ENOENT, EACCES).
      child.once('error', (error) => {
        failure ??= error;
      });
      child.once('spawn', () => this.lowerPriority(child, niced));
      // 'close' comes after exit and after stdout/stderr have ended, also after 'error'.
      child.once('close', (code, exitSignal) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        child.stdout?.removeAllListeners();
        child.stderr?.removeAllListeners();
        child.removeAllListeners();
        this.child = undefined;
        if (failure === undefined) stdout.flush();
        const ended = this.outcome(code, exitSignal, { failure, timedOut, startedAt });
        if ('error' in ended) reject(ended.error);
        else resolve(stdout.text());
      });
    });
  }

  /** Starts the child, hands its stdin over when asked for, and keeps the tail of its stderr. */
  private spawnChild(argv: string[]): ChildProcess {
    const { cwd, onStdin } = this.options;
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd,
      stdio: [onStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    if (onStdin && child.stdin) {
      // A child that exits early closes its end: EPIPE then, reported by its exit instead.
      child.stdin.on('error', () => undefined);
      onStdin(child.stdin);
    }
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
    });
    return child;
  }

  /** How a run ended, once the child has closed: success, or the error to reject with. */
  private outcome(
    code: number | null,
    exitSignal: NodeJS.Signals | null,
    run: { failure: unknown; timedOut: boolean; startedAt: number },
  ): { ok: true } | { error: unknown } {
    const { command, timeoutMs } = this.options;
    const { failure, timedOut, startedAt } = run;
    if (failure !== undefined) {
      const timeout = failure instanceof FfmpegExitError && timedOut;
      return {
        error: timeout ? new FfmpegExitError(failure.message, this.stderrTail, true) : failure,
      };
    }
    // Killed by the limit outside Node (its event loop was late): still a time-out.
    if (exitSignal === 'SIGKILL' && Date.now() - startedAt >= timeoutMs) {
      const message = `${command} took longer than ${timeoutMs} ms`;
      return { error: new FfmpegExitError(message, this.stderrTail, true) };
    }
    if (code === 0) return { ok: true };
    const how = exitSignal ? `was killed by ${exitSignal}` : `exited with code ${code}`;
    return { error: new FfmpegExitError(`${command} ${how}`, this.stderrTail) };
  }

  /**
   * The child's stdout: line by line to `onStdoutLine` when given (its last partial line on
   * `flush()`), else kept for `text()` up to `maxStdoutBytes` (more fails the run).
   */
  private readStdout(
    child: ChildProcess,
    fail: (error: unknown) => void,
  ): { flush(): void; text(): string } {
    const { command, onStdoutLine } = this.options;
    const maxStdoutBytes = this.options.maxStdoutBytes ?? 16 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let bytes = 0;
    let partialLine = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      if (onStdoutLine) {
        const lines = (partialLine + chunk.toString('utf8')).split('\n');
        partialLine = lines.pop() ?? '';
        for (const line of lines) onStdoutLine(line);
        return;
      }
      bytes += chunk.length;
      if (bytes > maxStdoutBytes) fail(new FfmpegExitError(`${command} said too much`, ''));
      else chunks.push(chunk);
    });
    return {
      flush: () => {
        if (onStdoutLine && partialLine) onStdoutLine(partialLine);
      },
      text: () => Buffer.concat(chunks).toString('utf8'),
    };
  }

  private lowerPriority(child: ChildProcess, niced: boolean): void {
    if (niced) return; // `nice` already lowered it, before ffmpeg started
    try {
      if (child.pid !== undefined) setPriority(child.pid, this.options.niceness ?? LOW_PRIORITY);
    } catch {
      // It may already have exited; priority is a courtesy, not a requirement.
    }
  }
}

// Child lifetime: the wrappers, found once.

interface LifetimeTools {
  /** util-linux setpriv that can set the parent-death signal. */
  setpriv?: string;
  /** coreutils timeout. */
  timeout?: string;
  /** coreutils nice (without it, setPriority right after spawn). */
  nice?: string;
}

let toolsFound: Promise<LifetimeTools> | undefined;

function lifetimeTools(): Promise<LifetimeTools> {
  toolsFound ??= findLifetimeTools();
  return toolsFound;
}

async function findLifetimeTools(): Promise<LifetimeTools> {
  const [setpriv, timeout, nice] = await Promise.all(
    ['setpriv', 'timeout', 'nice'].map((name) => which(name)),
  );
  const canPdeathsig =
    setpriv !== undefined &&
    (await exitsCleanly(setpriv, ['--pdeathsig', 'KILL', '--', setpriv, '--version']));
  if (!canPdeathsig) {
    console.error(
      'reelchat: setpriv (util-linux) with --pdeathsig is not available: ffmpeg children ' +
        'of a killed server run on until their time limit',
    );
  }
  if (timeout === undefined) {
    console.error(
      'reelchat: timeout (coreutils) is not available: the ffmpeg time limit is kept by Node alone',
    );
  }
  return {
    setpriv: canPdeathsig ? setpriv : undefined,
    timeout,
    nice,
  };
}

/** The argument array that runs `executable args` under the lifetime guards available. */
function guardedCommand(
  tools: LifetimeTools,
  executable: string,
  args: string[],
  timeoutMs: number,
  niceness: number,
): string[] {
  const dieWithParent = tools.setpriv ? [tools.setpriv, '--pdeathsig', 'KILL', '--'] : [];
  const niced = tools.nice && niceness !== 0 ? [tools.nice, '-n', String(niceness)] : [];
  const limitS = Math.ceil(timeoutMs / 1000) + HARD_LIMIT_GRACE_S;
  // `timeout` forks: the inner setpriv ties ffmpeg to it in turn.
  const limited = tools.timeout
    ? [tools.timeout, '-s', 'KILL', `${limitS}s`, ...dieWithParent]
    : [];
  return [...dieWithParent, ...niced, ...limited, executable, ...args];
}

/** Resolves a command like spawn would (PATH), failing as spawn does when it cannot run. */
async function findExecutable(command: string, args: string[]): Promise<string> {
  const path = command.includes('/') ? command : await which(command);
  try {
    if (path === undefined) throw Object.assign(new Error('not found'), { code: 'ENOENT' });
    await access(path, constants.X_OK);
    return path;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'EACCES' ? 'EACCES' : 'ENOENT';
    throw Object.assign(new Error(`spawn ${command} ${code}`), {
      code,
      errno: code === 'EACCES' ? -13 : -2,
      syscall: `spawn ${command}`,
      path: command,
      spawnargs: args,
    });
  }
}

/** The executable `name` on PATH, as an absolute path. */
async function which(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function exitsCleanly(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
  });
}
