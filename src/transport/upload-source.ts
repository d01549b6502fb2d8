import { throwIfAborted } from './abort.js';
import { ReelError } from './errors.js';
import type { ResumableSource, UploadSource } from './types.js';

/**
 * Reads a finished Blob or a live chunk stream into one Blob, reporting progress as it
 * goes and stopping at `signal` or past `maxBytes`. In-page transports use it; network
 * transports stream instead.
 */
export async function readUploadSource(
  source: UploadSource,
  options: {
    signal?: AbortSignal;
    maxBytes: number;
    type?: string;
    onProgress?(sent: number, total?: number): void;
  },
): Promise<Blob> {
  throwIfAborted(options.signal);
  if (source instanceof Blob) {
    if (source.size > options.maxBytes) throw tooLarge(options.maxBytes);
    // Report in steps, as a network upload would, so progress UIs behave the same.
    const step = Math.max(64 * 1024, Math.ceil(source.size / 8));
    for (let sent = Math.min(step, source.size); ; sent = Math.min(sent + step, source.size)) {
      await pause();
      throwIfAborted(options.signal);
      options.onProgress?.(sent, source.size);
      if (sent >= source.size) break;
    }
    return source;
  }
  const parts: Uint8Array[] = [];
  let sent = 0;
  const abort = abortPromise(options.signal);
  const iterator = streamOf(source, 0)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), abort.promise]);
      if (next.done) break;
      const chunk = next.value;
      if (!(chunk instanceof Uint8Array))
        throw new ReelError('bad-request', 'Upload chunks must be bytes.');
      sent += chunk.byteLength;
      if (sent > options.maxBytes) throw tooLarge(options.maxBytes);
      parts.push(chunk);
      options.onProgress?.(sent);
    }
  } catch (error) {
    void iterator.return?.();
    throw ReelError.from(error);
  } finally {
    abort.dispose();
  }
  options.onProgress?.(sent, sent);
  return new Blob(parts as BlobPart[], { type: options.type ?? '' });
}

/** A source's bytes from `offset` on, as a stream (a plain stream can only be read once, from its start). */
export function streamOf(
  source: AsyncIterable<Uint8Array> | ResumableSource,
  offset: number,
): AsyncIterable<Uint8Array> {
  if (isResumable(source)) return source.read(offset);
  if (offset !== 0) throw new ReelError('internal', 'A plain chunk stream cannot be read again.');
  return source;
}

export function isResumable(source: UploadSource): source is ResumableSource {
  return (
    typeof (source as Partial<ResumableSource>).read === 'function' && !(source instanceof Blob)
  );
}

function tooLarge(maxBytes: number): ReelError {
  return new ReelError('too-large', `The recording is larger than ${maxBytes} bytes.`);
}

function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A promise that rejects when the signal fires, and a way to stop listening. */
function abortPromise(signal?: AbortSignal): { promise: Promise<never>; dispose(): void } {
  if (!signal) return { promise: new Promise<never>(() => {}), dispose() {} };
  let onAbort = () => {};
  const promise = new Promise<never>((_, reject) => {
    onAbort = () =>
      reject(new ReelError('aborted', 'The upload was cancelled.', { cause: signal.reason }));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}
