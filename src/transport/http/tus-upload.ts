import type { DetailedError, Upload, UploadOptions as TusOptions } from 'tus-js-client';
import { ReelError } from '../errors.js';
import { isResumable, streamOf } from '../upload-source.js';
import type { ResumableSource, UploadSource } from '../types.js';
import { errorFromStatus, isTryAgain, MAX_RETRY_WAIT_MS, type ApiClient } from './api-client.js';

/** Bytes per PATCH at most while recording (a stored take's upload sends this much each time). */
const LIVE_CHUNK_BYTES = 128 * 1024;
/**
 * Once a PATCH has bytes the server lacks, it waits this long for more before it goes:
 * while recording, each of the recorder's chunks goes out as it comes (waiting to fill
 * 128 KB held up to 1.8 s of a low-bitrate take back, which the server could only convert
 * after Stop); a stored take's chunks follow one another within it and fill the PATCH.
 */
const GATHER_MS = 25;
/** Retries span about two minutes: a lost network or a restarting server comes back within that. */
const RETRY_DELAYS = [
  0, 500, 1000, 2000, 4000, 8000, 10_000, 15_000, 15_000, 15_000, 15_000, 15_000, 15_000,
];
/** The waits without progress stay within that span even when the server asks for longer ones. */
const RETRY_SPAN_MS = RETRY_DELAYS.reduce((sum, delay) => sum + delay, 0);

/**
 * tus-js-client's view of a chunk stream. Unlike its own stream source, this one can go
 * back to an earlier offset when the stream is resumable (the outbox), so a retry after
 * a failure — or a resume after a reload — reads from the server's offset.
 */
class ChunkSource {
  readonly size = null as unknown as number;
  private buffer = new Uint8Array(0);
  private bufferOffset = 0;
  private iterator?: AsyncIterator<Uint8Array>;
  /** The iterator's next chunk, asked for and not yet taken (a gather may time out first). */
  private next?: Promise<IteratorResult<Uint8Array>>;
  private ended = false;
  /** Rejects the read in progress when the source is closed (see `close`). */
  private interrupt?: () => void;
  private interrupted: Promise<never> = new Promise<never>(() => {});

  constructor(private readonly source: AsyncIterable<Uint8Array> | ResumableSource) {}

  async slice(start: number, end: number): Promise<{ value: Blob; done: boolean }> {
    if (!this.iterator || start < this.bufferOffset) this.open(start);
    // Skip what the server already has (a resume reads a fresh stream from 0 otherwise).
    while (!this.ended && this.bufferOffset + this.buffer.length < end) {
      const gathering = this.bufferOffset + this.buffer.length > start;
      if (!(await this.pull(gathering ? GATHER_MS : undefined))) break;
    }
    if (start > this.bufferOffset) {
      this.buffer = this.buffer.subarray(Math.min(start - this.bufferOffset, this.buffer.length));
      this.bufferOffset = start;
    }
    const value = this.buffer.subarray(0, end - start);
    return {
      value: new Blob([value as BlobPart]),
      done: this.ended && value.length === this.buffer.length,
    };
  }

  /**
   * Stops reading. A read that is waiting for the recording's next chunk fails at once:
   * otherwise, once that chunk came, tus-js-client would still send it after an abort.
   */
  close(): void {
    void this.iterator?.return?.();
    this.iterator = undefined;
    this.interrupt?.();
  }

  private open(offset: number): void {
    if (this.iterator && !isResumable(this.source)) {
      throw new ReelError('internal', `Cannot read the recording again from byte ${offset}.`);
    }
    this.close();
    this.next = undefined;
    const start = isResumable(this.source) ? offset : 0;
    this.iterator = streamOf(this.source, start)[Symbol.asyncIterator]();
    this.interrupted = new Promise<never>((_, reject) => {
      this.interrupt = () => reject(new ReelError('aborted', 'The upload stopped reading.'));
    });
    this.interrupted.catch(() => undefined);
    this.buffer = new Uint8Array(0);
    this.bufferOffset = start;
    this.ended = false;
  }

  /** Takes the next chunk into the buffer; false when it did not come within `withinMs`. */
  private async pull(withinMs?: number): Promise<boolean> {
    if (!this.iterator) throw new ReelError('aborted', 'The upload stopped reading.');
    if (!this.next) {
      this.next = this.iterator.next();
      // Dropped unread when the source reopens: its failure then belongs to no one.
      this.next.catch(() => undefined);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late =
      withinMs === undefined
        ? []
        : [
            new Promise<undefined>(
              (resolve) => (timer = setTimeout(() => resolve(undefined), withinMs)),
            ),
          ];
    try {
      const next = await Promise.race([this.next, this.interrupted, ...late]);
      if (!next) return false;
      this.next = undefined;
      if (next.done) {
        this.ended = true;
        return true;
      }
      const joined = new Uint8Array(this.buffer.length + next.value.length);
      joined.set(this.buffer);
      joined.set(next.value, this.buffer.length);
      this.buffer = joined;
      return true;
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface TusUploadOptions {
  conversation: string;
  clientId: string;
  type: string;
  /** The caller gave up on this upload (cancel, retake): it is ended on the server too. */
  signal?: AbortSignal;
  /**
   * The transport is closing (its page or element is going away): the upload stops here
   * but stays on the server, to be resumed later from the offset it reached, as after a reload.
   */
  closing?: AbortSignal;
  onProgress?(sent: number, total?: number): void;
  /** Shared while recorded: the metadata `live` (a stream source only). */
  live?: boolean;
  /** The server made the upload: its id (the video's), once. */
  onCreated?(videoId: string): void;
}

/**
 * Owns one tus-js-client upload: auth on every request, retries with backoff, resume
 * from a previous attempt (same clientId, even after a reload), termination on abort.
 * Resolves to the upload's id, which is the video's id.
 */
export class TusUpload {
  private upload?: Upload;

  constructor(
    private readonly api: ApiClient,
    private readonly source: UploadSource,
    private readonly options: TusUploadOptions,
  ) {}

  async start(): Promise<string> {
    const { signal } = this.options;
    if (signal?.aborted) throw new ReelError('aborted', 'The upload was cancelled.');
    const tus = await import('tus-js-client');
    // An earlier page's upload of this take, kept in the outbox, continues where it stopped.
    // Only ever our own server's: the bearer token goes wherever this URL points.
    const uploads = this.api.url('/v1/uploads/');
    const stored = isResumable(this.source) ? this.source.upload?.url : undefined;
    const remembered =
      stored &&
      this.api.owns(stored) &&
      new URL(stored).pathname.startsWith(new URL(uploads).pathname)
        ? stored
        : undefined;
    const url = await this.run(tus, remembered).catch(async (error: unknown) => {
      // The server already has an upload for this clientId (created before a reload
      // that lost our local record of it): continue that one.
      const existing = conflictUploadId(error);
      if (!existing) throw error;
      return this.run(tus, `${uploads}${existing}`);
    });
    return url.split('/').pop()!;
  }

  private run(tus: typeof import('tus-js-client'), uploadUrl: string | undefined): Promise<string> {
    const { conversation, clientId, type, signal, closing, onProgress, onCreated } = this.options;
    const live = !(this.source instanceof Blob);
    const shared: Record<string, string> = live && this.options.live ? { live: '1' } : {};
    let created = false;
    let chunks: ChunkSource | undefined;
    /** Waited since the offset last moved (tus-js-client then counts attempts from 0 again). */
    let waited = 0;
    return new Promise<string>((resolve, reject) => {
      const onAbort = () => {
        settle();
        // `true` also ends the upload on the server (tus termination): it keeps nothing.
        void this.upload?.abort(true).catch(() => {});
        reject(new ReelError('aborted', 'The upload was cancelled.'));
      };
      const onClose = () => {
        settle();
        // Not terminated: the server keeps what it has, and a later page resumes it.
        void this.upload?.abort(false).catch(() => {});
        reject(new ReelError('aborted', 'The transport was closed; the upload can be resumed.'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      closing?.addEventListener('abort', onClose, { once: true });
      const settle = () => {
        signal?.removeEventListener('abort', onAbort);
        closing?.removeEventListener('abort', onClose);
        // Stop reading the outbox (a live read may be waiting for the next chunk).
        chunks?.close();
      };
      const options: TusOptions = {
        endpoint: this.api.url('/v1/uploads'),
        uploadUrl,
        metadata: { conversation, clientId, filetype: type, ...shared },
        retryDelays: RETRY_DELAYS,
        removeFingerprintOnSuccess: true,
        storeFingerprintForResuming: true,
        fingerprint: async () => `reelchat:${this.api.endpoint}:${conversation}:${clientId}`,
        onBeforeRequest: async (request) => {
          request.setHeader('Authorization', `Bearer ${await this.api.currentToken()}`);
        },
        onShouldRetry: (error: DetailedError, attempt: number, current: TusOptions) => {
          const status = error.originalResponse?.getStatus() ?? 0;
          if (status === 401) {
            void this.api.currentToken(true).catch(() => {});
            return true;
          }
          const method = error.originalRequest?.getMethod();
          // A PATCH at an offset the server no longer has (it kept more of a cut request
          // than we knew): a retry asks HEAD for the offset first, as tus-js-client's default does.
          const offsetMoved = status === 409 && method === 'PATCH';
          if (!shouldRetryUpload(status) && !offsetMoved) return false;
          const asked = toReelError(error).retryAfter;
          if (asked !== undefined && asked > MAX_RETRY_WAIT_MS) return false;
          // tus-js-client reads the next delay from these options once this returns: a
          // server that names its wait (Retry-After) gets at least that. (A termination's
          // retries use a shrinking copy of the delays: left as they are.)
          if (method !== 'DELETE') {
            const delay = Math.max(RETRY_DELAYS[attempt] ?? 0, asked ?? 0);
            if (attempt === 0) waited = 0;
            if (waited + delay > RETRY_SPAN_MS) return false;
            waited += delay;
            current.retryDelays = RETRY_DELAYS.map((base, index) =>
              index === attempt ? delay : base,
            );
          }
          return true;
        },
        onChunkComplete: (_size, accepted, total) => onProgress?.(accepted, total ?? undefined),
        onUploadUrlAvailable: () => {
          if (!created && this.upload?.url) {
            created = true;
            onCreated?.(this.upload.url.split('/').pop()!);
          }
          if (isResumable(this.source) && this.upload?.url)
            void this.source.remember?.({ url: this.upload.url });
        },
        onSuccess: () => {
          settle();
          resolve(this.upload!.url!);
        },
        onError: (error) => {
          settle();
          reject(toReelError(error));
        },
      };
      if (live) {
        options.uploadLengthDeferred = true;
        options.chunkSize = LIVE_CHUNK_BYTES;
        const source = this.source as AsyncIterable<Uint8Array>;
        options.fileReader = { openFile: async () => (chunks = new ChunkSource(source)) };
      }
      // A live upload's bytes come from fileReader; tus-js-client only needs some input object.
      this.upload = new tus.Upload(live ? new Blob() : (this.source as Blob), options);
      const upload = this.upload;
      void (async () => {
        if (!uploadUrl) {
          const previous = await upload.findPreviousUploads();
          if (previous.length > 0) upload.resumeFromPreviousUpload(previous[0]);
        }
        if (!signal?.aborted && !closing?.aborted) upload.start();
      })().catch((error: unknown) => {
        settle();
        reject(toReelError(error));
      });
    });
  }
}

/**
 * Whether an upload request that failed with this status is worth repeating (after a HEAD
 * for the server's offset, so nothing is sent twice): no answer at all, a timeout (408, a
 * long upload cut by the server or a proxy), a lock (423), "too early" (425), "slow down"
 * (429), a fault or an unavailable server (5xx, except "not implemented" and "HTTP version
 * not supported", which no retry changes). Other refusals are final.
 */
export function shouldRetryUpload(status: number): boolean {
  if (status === 0 || status === 423 || isTryAgain(status)) return true;
  return status >= 500 && status !== 501 && status !== 505;
}

function conflictUploadId(error: unknown): string | undefined {
  if (!(error instanceof ReelError) || error.code !== 'conflict') return undefined;
  const id = (error.cause as { upload?: unknown } | undefined)?.upload;
  // It becomes part of a URL the token is sent to: an id, nothing else.
  return typeof id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : undefined;
}

function toReelError(error: unknown): ReelError {
  if (error instanceof ReelError) return error;
  const response = (error as Partial<DetailedError>).originalResponse;
  // No answer at all: the network, not the server, said no.
  if (!response || response.getStatus() === 0) return ReelError.from(error, 'network');
  return errorFromStatus(
    response.getStatus(),
    response.getBody() ?? '',
    String(error),
    response.getHeader('Retry-After'),
  );
}
