// Writing to a child's stdin without outrunning it (live.ts feeds ffmpeg and the packet scan).
import type { Writable } from 'node:stream';
import { LiveGaveUp } from './live-checks.js';

/** Writes a chunk, waiting while the pipe is full; fails when the child stops reading. */
export function writeToPipe(stdin: Writable, chunk: Buffer, signal: AbortSignal): Promise<void> {
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
