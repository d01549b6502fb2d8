// Which S3 client failures mean "the bucket is unavailable for now", and the retry delays.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffWithJitter, isTransientStorageError } from './unavailable.js';

const answered = (status: number, name = 'Error') =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('isTransientStorageError', () => {
  it('is true for 5xx and 429 answers, time-outs and lost connections', () => {
    for (const error of [
      answered(503, 'SlowDown'),
      answered(500, 'InternalError'),
      answered(502),
      answered(429),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      Object.assign(new Error('the request socket timed out'), { name: 'TimeoutError' }),
      new Error('socket hang up'),
    ]) {
      assert.equal(isTransientStorageError(error), true, String(error));
    }
  });

  it('is false for answers that waiting does not change', () => {
    for (const error of [
      answered(403, 'AccessDenied'),
      answered(404, 'NoSuchKey'),
      answered(400, 'InvalidArgument'),
      new Error('put x: a stream body needs contentLength'),
      undefined,
      'text',
    ]) {
      assert.equal(isTransientStorageError(error), false, String(error));
    }
  });
});

describe('backoffWithJitter', () => {
  it('grows from the base, stays within half and all of its window, never past the cap', () => {
    for (let attempt = 0; attempt < 30; attempt++) {
      const window = Math.min(1000, 250 * 2 ** attempt);
      for (let i = 0; i < 50; i++) {
        const delay = backoffWithJitter(attempt, 250, 1000);
        assert.ok(delay >= window / 2 && delay <= window, `${delay} for attempt ${attempt}`);
      }
    }
  });
});
