// Stops a conversion whose ffmpeg children together use more memory than allowed. The
// checks of limits.ts keep every ordinary input well below the limit; this catches what
// ffprobe cannot show, such as a stream that really keeps 16 reference frames of
// 4096×4096 (~700 MB in the decoder). Linux only (it reads /proc); elsewhere it does
// nothing. A conversion's processes are told apart by their working directory, its
// temporary folder, whatever wrappers (setpriv, timeout, …) sit between them and Node.
import { readFile, readlink } from 'node:fs/promises';

const POLL_MS = 50;

export class MemoryWatch {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Highest total seen, in bytes (resident memory of the folder's processes). */
  peakBytes = 0;

  constructor(
    private readonly directory: string,
    private readonly maxBytes: number,
    private readonly onExceeded: (bytes: number) => void,
    /** How often to look (the peak may pass the limit by what is allocated meanwhile). */
    private readonly pollMs = POLL_MS,
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const bytes = await residentBytesIn(this.directory).catch(() => 0);
    if (this.stopped) return;
    this.peakBytes = Math.max(this.peakBytes, bytes);
    if (bytes > this.maxBytes) {
      this.stop();
      this.onExceeded(bytes);
      return;
    }
    this.schedule();
  }
}

/** Sum of VmRSS of this process's descendants whose working directory is `directory`. */
async function residentBytesIn(directory: string): Promise<number> {
  let total = 0;
  for (const pid of await descendants(process.pid)) {
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
    if (cwd !== directory) continue;
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    total += Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
  }
  return total;
}

/** Children (of each process's main thread, which is the one that spawns), recursively. */
async function descendants(root: number): Promise<number[]> {
  const found: number[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
    for (const child of text.split(' ').filter(Boolean).map(Number)) {
      found.push(child);
      pending.push(child);
    }
  }
  return found;
}
