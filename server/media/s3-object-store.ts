// The ObjectStore on S3 or an S3-compatible store (OpenStack Swift's s3api in the tests),
// through @aws-sdk/client-s3. Credentials come from the SDK's default chain
// (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, instance roles, …).
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type {
  ObjectInfo,
  ObjectRange,
  ObjectStore,
  PutOptions,
  StoredObject,
} from './object-store.js';
import {
  backoffWithJitter,
  isTransientStorageError,
  StorageUnavailableError,
} from './unavailable.js';

export interface S3ObjectStoreOptions {
  bucket: string;
  /** For S3-compatible stores, e.g. http://127.0.0.1:8080. */
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  /** Keys per ListObjectsV2 page (at most 1000); small values exercise paging in tests. */
  listPageSize?: number;
  /** Attempts of one PutObject while the bucket is unavailable (default 4); see `put`. */
  putAttempts?: number;
}

// Time-outs: without them the SDK waits forever on a bucket that accepted the connection
// and never answers. A media read that cannot be served should turn into a 503 inside
// hls.js's 10 s time-to-first-byte limit, after both attempts: 2 s to connect, 4 s without a
// byte (a stopped Swift proxy took 10.3 s to refuse with 5 s).
const CONNECT_TIMEOUT_MS = 2_000;
const IDLE_TIMEOUT_MS = 4_000;
// The SDK's standard retry (exponential backoff with full jitter from 100 ms, 500 ms for
// SlowDown, and a token bucket that stops retrying when most requests fail) for every
// request without a streamed body. Two attempts, not the default three: a reader waiting
// for a segment is better answered 503 (it retries itself) than kept waiting.
const SDK_ATTEMPTS = 2;
const PUT_RETRY_BASE_MS = 250;
// Given a logger, the SDK logs every failed request at length (error) and warns at each
// failed PutObject that it will not retry a streamed body (`put` does). The failures that
// matter are logged where they are handled, so only other warnings reach the console.
const SDK_LOGGER = {
  debug: () => {},
  info: () => {},
  warn: (...args: unknown[]) => {
    if (!String(args[0]).includes('non-retryable streaming request')) console.warn(...args);
  },
  error: () => {},
};
const PUT_RETRY_CAP_MS = 1_000;

/** What this store asked of the bucket, for benchmarks and /metrics. */
export interface ObjectStoreStats {
  /** Requests sent, by command name (PutObjectCommand, GetObjectCommand, …). */
  requests: Record<string, number>;
  /** Body bytes sent by PutObject. */
  bytesWritten: number;
  /** PutObject attempts made again after the bucket was unavailable. */
  putRetries: number;
  /** Requests that failed because the bucket was unavailable (after the SDK's retries). */
  unavailable: number;
}

// DeleteObjects takes at most 1000 keys per request.
const DELETE_BATCH = 1000;

export class S3ObjectStore implements ObjectStore {
  readonly stats: ObjectStoreStats = {
    requests: {},
    bytesWritten: 0,
    putRetries: 0,
    unavailable: 0,
  };
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly pageSize: number;
  private readonly putAttempts: number;

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    this.pageSize = Math.min(options.listPageSize ?? 1000, 1000);
    this.putAttempts = Math.max(1, options.putAttempts ?? 4);
    const config: S3ClientConfig = {
      region: options.region ?? 'us-east-1',
      forcePathStyle: options.forcePathStyle ?? false,
      maxAttempts: SDK_ATTEMPTS,
      requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, socketTimeout: IDLE_TIMEOUT_MS },
      logger: SDK_LOGGER,
      // Otherwise the SDK sends aws-chunked bodies with trailing checksums, which
      // S3-compatible stores such as Swift 2.30 answer with 501.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    if (options.endpoint) config.endpoint = options.endpoint;
    this.client = new S3Client(config);
  }

  /**
   * No buffering: a Buffer is sent as is, a stream is piped with its Content-Length. A single
   * PutObject carries up to 5 GiB, far above any media file here, so there is no multipart
   * path. The SDK never retries a request whose body is a stream (it cannot send it twice),
   * so a stream body comes from `body()`, called again for each attempt: up to `putAttempts`
   * with backoff and jitter (250 ms doubling, at most 1 s) while the bucket is unavailable.
   * Past that bound the StorageUnavailableError goes to the caller (the worker waits longer).
   */
  async put(key: string, body: Buffer | (() => Readable), options: PutOptions): Promise<void> {
    const length = Buffer.isBuffer(body) ? body.length : options.contentLength;
    if (length === undefined) throw new Error(`put ${key}: a stream body needs contentLength`);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: Buffer.isBuffer(body) ? body : body(),
            ContentType: options.contentType,
            ContentLength: length,
          }),
        );
        break;
      } catch (error) {
        if (!(error instanceof StorageUnavailableError) || attempt + 1 >= this.putAttempts)
          throw error;
        this.stats.putRetries++;
        await sleep(backoffWithJitter(attempt, PUT_RETRY_BASE_MS, PUT_RETRY_CAP_MS));
      }
    }
    this.stats.bytesWritten += length;
  }

  async get(key: string, range?: ObjectRange): Promise<StoredObject | undefined> {
    const answer = await this.send(
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Range: range ? `bytes=${range.start}-${range.end}` : undefined,
      }),
    ).catch(undefinedIfMissing);
    if (!answer?.Body) return undefined;
    const body = answer.Body as Readable;
    const contentType = answer.ContentType;
    const partial = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(answer.ContentRange ?? '');
    if (partial) {
      return {
        body,
        contentType,
        size: Number(partial[3]),
        range: { start: Number(partial[1]), end: Number(partial[2]) },
      };
    }
    return { body, contentType, size: answer.ContentLength ?? 0 };
  }

  async head(key: string): Promise<{ size: number; contentType: string | undefined } | undefined> {
    const answer = await this.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })).catch(
      undefinedIfMissing,
    );
    return answer && { size: answer.ContentLength ?? 0, contentType: answer.ContentType };
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const found: ObjectInfo[] = [];
    for await (const page of this.pages(prefix)) found.push(...page);
    return found;
  }

  async deletePrefix(prefix: string): Promise<number> {
    let deleted = 0;
    // Pages hold at most 1000 keys, so each is one DeleteObjects batch. Deleting while listing
    // is safe: the continuation token is a position in key order, not an offset.
    for await (const page of this.pages(prefix)) {
      for (let at = 0; at < page.length; at += DELETE_BATCH) {
        deleted += await this.deleteBatch(page.slice(at, at + DELETE_BATCH).map((o) => o.key));
      }
    }
    return deleted;
  }

  async ping(): Promise<void> {
    await this.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async ensureBucket(): Promise<void> {
    try {
      await this.ping();
      return;
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    try {
      await this.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      // Another instance created it meanwhile.
      if ((error as Error).name !== 'BucketAlreadyOwnedByYou') throw error;
    }
  }

  close(): void {
    this.client.destroy();
  }

  private async *pages(prefix: string): AsyncGenerator<ObjectInfo[]> {
    let token: string | undefined;
    do {
      const answer = await this.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          MaxKeys: this.pageSize,
          ContinuationToken: token,
        }),
      );
      yield (answer.Contents ?? []).map((o) => ({ key: o.Key!, size: o.Size ?? 0 }));
      token = answer.IsTruncated ? answer.NextContinuationToken : undefined;
    } while (token);
  }

  private async deleteBatch(keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const command = new DeleteObjectsCommand({
      Bucket: this.bucket,
      Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
    });
    // S3 requires an integrity header on DeleteObjects; the SDK now sends a CRC32 one, which
    // Swift (and other S3 look-alikes) do not know: they want Content-MD5 (aws-sdk-js-v3#6819).
    command.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body?: unknown; headers?: Record<string, string> };
        if (typeof request.body === 'string' && request.headers) {
          request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
        }
        return next(args);
      },
      { step: 'build', name: 'reelchatContentMd5', priority: 'low' },
    );
    const answer = await this.send(command);
    const failed = answer.Errors ?? [];
    if (failed.length > 0) {
      const first = failed[0]!;
      throw new Error(
        `DeleteObjects failed for ${failed.length} keys (first ${first.Key}: ${first.Code})`,
      );
    }
    return keys.length;
  }

  /**
   * client.send, counting each command in `stats`; a failure that means the bucket is
   * unavailable for now becomes a StorageUnavailableError (the API answers 503 for it, the
   * worker waits and tries again).
   */
  private readonly send = (async (command: object, ...rest: unknown[]) => {
    const name = command.constructor.name;
    this.stats.requests[name] = (this.stats.requests[name] ?? 0) + 1;
    try {
      return await (this.client.send as (...args: unknown[]) => Promise<unknown>).call(
        this.client,
        command,
        ...rest,
      );
    } catch (error) {
      if (!isTransientStorageError(error)) throw error;
      this.stats.unavailable++;
      throw new StorageUnavailableError(name, error);
    }
  }) as S3Client['send'];
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function undefinedIfMissing(error: unknown): undefined {
  if (statusOf(error) === 404) return undefined;
  throw error;
}
