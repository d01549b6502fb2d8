// The worker with an in-memory queue and store whose calls can be made to fail: bookkeeping
// failures send a job back to the queue, never crash the process, and a video ends ready
// (or failed) exactly once.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConvertError, type ConvertResult } from '../convert/index.js';
import type { MediaStore } from '../media/store.js';
import { StorageUnavailableError } from '../media/unavailable.js';
import type { MetadataStore, ReadyMeta } from '../store/types.js';
import type { Job, JobQueue } from '../store/jobs.js';
import { ConversionWorker, type VideoConverter } from './worker.js';

const RESULT: ConvertResult = {
  duration: 2,
  width: 320,
  height: 240,
  bytes: 1000,
  videoCodec: 'vp8',
  audioCodec: 'opus',
  remuxed: false,
};

function busy(): Error {
  return Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
}

interface FakeJob {
  videoId: string;
  owner: string;
  state: 'queued' | 'running';
  attempts: number;
  runAt: number;
}

/** Queue and store in memory; `failures.x = n` makes the next n calls of x throw. */
class Fakes implements JobQueue {
  readonly jobs = new Map<string, FakeJob>();
  readonly ready: string[] = [];
  readonly failed: { id: string; reason: string }[] = [];
  readonly failures: Record<string, number> = {};

  add(videoId: string, owner = 'alice'): void {
    this.jobs.set(videoId, { videoId, owner, state: 'queued', attempts: 0, runAt: Date.now() });
  }

  private maybeFail(name: string): void {
    if ((this.failures[name] ?? 0) > 0) {
      this.failures[name]!--;
      throw busy();
    }
  }

  async recover(): Promise<void> {}

  async claim(now: number, perOwner: number): Promise<Job | undefined> {
    this.maybeFail('claim');
    const runningOf = (owner: string) =>
      [...this.jobs.values()].filter((j) => j.owner === owner && j.state === 'running').length;
    const job = [...this.jobs.values()]
      .filter((j) => j.state === 'queued' && j.runAt <= now && runningOf(j.owner) < perOwner)
      .sort((a, b) => a.runAt - b.runAt)[0];
    if (!job) return undefined;
    job.state = 'running';
    job.attempts++;
    return { videoId: job.videoId, attempts: job.attempts };
  }

  async retry(videoId: string, runAt: number): Promise<void> {
    this.maybeFail('retry');
    const job = this.jobs.get(videoId);
    if (job) Object.assign(job, { state: 'queued', runAt });
  }

  readonly released: string[] = [];
  async release(videoIds: string[]): Promise<void> {
    for (const id of videoIds) {
      const job = this.jobs.get(id);
      if (job?.state !== 'running') continue;
      Object.assign(job, { state: 'queued', runAt: Date.now(), attempts: job.attempts - 1 });
      this.released.push(id);
    }
  }

  async nextDue(now: number): Promise<number | undefined> {
    const due = [...this.jobs.values()].filter((j) => j.state === 'queued' && j.runAt > now);
    return due.length ? Math.min(...due.map((j) => j.runAt)) : undefined;
  }

  readonly store = {
    markVideoReady: async (id: string, _meta: ReadyMeta) => {
      this.maybeFail('markVideoReady');
      this.jobs.delete(id);
      this.ready.push(id);
      return { id } as never;
    },
    markVideoFailed: async (id: string, reason: string) => {
      this.maybeFail('markVideoFailed');
      this.jobs.delete(id);
      this.failed.push({ id, reason });
      return { id } as never;
    },
  } as unknown as MetadataStore;

  /** `bucketDown.x = n`: the next n calls of media.x find the bucket unavailable. */
  readonly bucketDown: Record<string, number> = {};
  private maybeDown(name: string): void {
    if ((this.bucketDown[name] ?? 0) > 0) {
      this.bucketDown[name]!--;
      throw new StorageUnavailableError(
        name,
        Object.assign(new Error('SlowDown'), { name: 'SlowDown' }),
      );
    }
  }

  readonly media = {
    outputDir: (id: string) => `/nonexistent/media/${id}`,
    publish: async () => {
      this.maybeDown('publish');
      this.maybeFail('publish');
    },
    remove: async () => this.maybeDown('remove'),
    file: async () => undefined,
  } as MediaStore;
}

/** Counts conversions; `result` decides each one's outcome. */
class FakeConverter implements VideoConverter {
  calls = 0;
  constructor(private readonly result: () => Promise<ConvertResult>) {}
  convert(): Promise<ConvertResult> {
    this.calls++;
    return this.result();
  }
}

function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`Timed out waiting for ${what}`));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

describe('ConversionWorker bookkeeping', () => {
  let fakes: Fakes;
  let worker: ConversionWorker | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  const originalError = console.error;

  beforeEach(() => {
    fakes = new Fakes();
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
    console.error = () => undefined; // the worker logs every failure; not wanted here
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    console.error = originalError;
    process.off('unhandledRejection', onUnhandled);
    assert.deepEqual(unhandled, []);
  });

  function start(converter: VideoConverter, concurrency = 1): ConversionWorker {
    worker = new ConversionWorker({
      queue: fakes,
      store: fakes.store,
      media: fakes.media,
      converter,
      uploadPath: (id) => `/nonexistent/uploads/${id}`,
      discardUpload: async () => undefined,
      concurrency,
      retryDelaysMs: [10, 10],
      bookkeepingDelaysMs: [20, 40],
    });
    void worker.start();
    return worker;
  }

  it('a result whose saving fails goes back to the queue and is saved later, converted once', async () => {
    fakes.add('v1');
    fakes.failures.markVideoReady = 2;
    const converter = new FakeConverter(async () => RESULT);
    start(converter);
    await until(() => fakes.ready.length === 1, 'the video to be ready');
    assert.deepEqual(fakes.ready, ['v1']);
    assert.equal(converter.calls, 1, 'the kept result was reused');
    assert.equal(fakes.jobs.size, 0);
  });

  // Converted while uploading (server/convert/live.ts): recorded without a slot, once.
  const LIVE = { ...RESULT, sha256: 'ab' };
  const later = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 30));

  it('a live result is recorded once; its job, claimed meanwhile, converts nothing', async () => {
    fakes.add('v1');
    const converter = new FakeConverter(async () => RESULT);
    start(converter).recordConverted('v1', later(LIVE));
    await until(() => fakes.ready.length === 1, 'the video to be ready');
    await until(() => fakes.jobs.size === 0, 'the job to end');
    assert.deepEqual(fakes.ready, ['v1']);
    assert.equal(converter.calls, 0);
  });

  it('a live conversion that gave up leaves the job to convert the stored bytes', async () => {
    fakes.add('v1');
    const converter = new FakeConverter(async () => RESULT);
    start(converter).recordConverted('v1', later(undefined));
    await until(() => fakes.ready.length === 1, 'the video to be ready');
    assert.equal(converter.calls, 1);
  });

  it('a live result whose saving fails is saved by its job, not converted again', async () => {
    fakes.add('v1');
    fakes.failures.markVideoReady = 1;
    const converter = new FakeConverter(async () => RESULT);
    start(converter).recordConverted('v1', later(LIVE));
    await until(() => fakes.ready.length === 1, 'the video to be ready');
    assert.deepEqual(fakes.ready, ['v1']);
    assert.equal(converter.calls, 0);
  });

  it('a failed publish is retried the same way', async () => {
    fakes.add('v1');
    fakes.failures.publish = 1;
    const converter = new FakeConverter(async () => RESULT);
    start(converter);
    await until(() => fakes.ready.length === 1, 'the video to be ready');
    assert.equal(converter.calls, 1);
  });

  it('when requeueing fails too, the job is held and requeued once the queue answers', async () => {
    fakes.add('v1');
    fakes.failures.markVideoReady = 1;
    fakes.failures.retry = 3;
    const converter = new FakeConverter(async () => RESULT);
    start(converter);
    await until(() => fakes.ready.length === 1, 'the video to be ready');
    assert.equal(fakes.failures.retry, 0);
    assert.deepEqual(fakes.ready, ['v1']);
  });

  it('a bad upload whose failure cannot be saved keeps its reason for the next run', async () => {
    fakes.add('v1');
    fakes.failures.markVideoFailed = 1;
    const converter = new FakeConverter(async () => {
      throw new ConvertError('Not a video file (an image)');
    });
    start(converter);
    await until(() => fakes.failed.length === 1, 'the video to fail');
    assert.deepEqual(fakes.failed, [{ id: 'v1', reason: 'Not a video file (an image)' }]);
    assert.equal(converter.calls, 1);
  });

  it('a claim that fails is tried again without waiting for another upload', async () => {
    fakes.add('v1');
    fakes.failures.claim = 2;
    start(new FakeConverter(async () => RESULT));
    await until(() => fakes.ready.length === 1, 'the video to be ready');
  });

  it('a conversion error is retried, then fails for good', async () => {
    fakes.add('v1');
    const converter = new FakeConverter(async () => {
      throw new Error('disk full');
    });
    start(converter);
    await until(() => fakes.failed.length === 1, 'the video to fail');
    assert.equal(converter.calls, 3);
    assert.match(fakes.failed[0]!.reason, /could not be converted/);
  });

  it('close() stops a job that keeps failing to requeue and hands it back to the queue', async () => {
    fakes.add('v1');
    fakes.failures.markVideoReady = 1;
    fakes.failures.retry = 1_000;
    start(new FakeConverter(async () => RESULT));
    await until(() => fakes.failures.retry! < 999, 'requeueing to be tried again');
    await worker!.close();
    worker = undefined;
    assert.deepEqual(fakes.released, ['v1']);
    assert.equal(fakes.jobs.get('v1')?.state, 'queued');
    assert.deepEqual(fakes.ready, []);
  });

  it('close() hands a running job back, due now, its interrupted attempt not counted', async () => {
    fakes.add('v1');
    fakes.add('v2', 'bob');
    let started = 0;
    const converter: VideoConverter = {
      convert: (_input, _output, signal) =>
        new Promise<ConvertResult>((_resolve, reject) => {
          started++;
          signal?.addEventListener('abort', () => reject(signal.reason as Error));
        }),
    };
    start(converter, 1);
    await until(() => started === 1, 'the first job to start');
    const before = Date.now();
    await worker!.close();
    worker = undefined;
    assert.deepEqual(fakes.released, ['v1'], 'only the running one');
    const job = fakes.jobs.get('v1')!;
    assert.deepEqual(
      { state: job.state, attempts: job.attempts },
      { state: 'queued', attempts: 0 },
    );
    assert.ok(job.runAt >= before && job.runAt <= Date.now(), 'due now');
    assert.equal(fakes.jobs.get('v2')?.attempts, 0);
  });

  it('runs one job per owner at once while others wait', async () => {
    fakes.add('a1', 'alice');
    fakes.add('a2', 'alice');
    fakes.add('b1', 'bob');
    const started: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const converter: VideoConverter = {
      convert: async (input) => {
        started.push(input.split('/').pop()!);
        if (input.endsWith('a1')) await gate;
        return RESULT;
      },
    };
    start(converter, 2);
    await until(() => fakes.ready.includes('b1'), 'bob’s video');
    assert.deepEqual(started, ['a1', 'b1']);
    release();
    await until(() => fakes.ready.length === 3, 'every video');
    assert.deepEqual(started, ['a1', 'b1', 'a2']);
  });

  it('the bucket unavailable while publishing: the job waits and the video ends ready, not failed', async () => {
    fakes.add('v1');
    fakes.bucketDown.remove = 2; // clearing before the conversion
    fakes.bucketDown.publish = 3;
    const converter = new FakeConverter(async () => RESULT);
    start(converter);
    await until(() => fakes.ready.length === 1, 'the video to be ready', 15_000);
    assert.deepEqual(fakes.failed, []);
    assert.equal(converter.calls, 1);
    assert.equal(worker!.storageRetries, 5);
  });

  it('past its wait the job goes back to the queue, never failing, however many times', async () => {
    fakes.add('v1');
    fakes.bucketDown.publish = 6; // more than the 2 retries a conversion error gets
    const converter = new FakeConverter(async () => RESULT);
    worker = new ConversionWorker({
      queue: fakes,
      store: fakes.store,
      media: fakes.media,
      converter,
      uploadPath: (id) => `/nonexistent/uploads/${id}`,
      discardUpload: async () => undefined,
      concurrency: 1,
      retryDelaysMs: [10, 10],
      bookkeepingDelaysMs: [20, 40],
      storageWaitMs: 0,
      outageRetryMs: { baseMs: 10, capMs: 20 },
    });
    void worker.start();
    await until(() => fakes.ready.length === 1, 'the video to be ready');
    assert.deepEqual(fakes.failed, []);
    assert.equal(converter.calls, 1, 'the converted result was kept');
  });
});
