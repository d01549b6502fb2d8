import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedLock } from './keyed-lock.js';
import { TokenBuckets } from './token-bucket.js';

function clock(start = 1_000_000) {
  const state = { now: start };
  return { state, now: () => state.now };
}

describe('TokenBuckets', () => {
  it('lets a burst through, then one per refill interval, and says how long to wait', () => {
    const time = clock();
    const buckets = new TokenBuckets({ capacity: 3, ratePerS: 0.5, now: time.now });
    for (let i = 0; i < 3; i++) assert.deepEqual(buckets.take('alice'), { ok: true });
    assert.deepEqual(buckets.take('alice'), { ok: false, retryAfterS: 2 });
    time.state.now += 1000;
    assert.deepEqual(buckets.take('alice'), { ok: false, retryAfterS: 1 });
    time.state.now += 1000;
    assert.deepEqual(buckets.take('alice'), { ok: true });
    assert.equal(buckets.take('alice').ok, false);
  });

  it('keeps one bucket per key', () => {
    const time = clock();
    const buckets = new TokenBuckets({ capacity: 1, ratePerS: 1, now: time.now });
    assert.equal(buckets.take('alice').ok, true);
    assert.equal(buckets.take('alice').ok, false);
    assert.equal(buckets.take('bob').ok, true);
  });

  it('never holds more than its capacity, however long it was idle', () => {
    const time = clock();
    const buckets = new TokenBuckets({ capacity: 2, ratePerS: 10, now: time.now });
    buckets.take('alice');
    time.state.now += 3_600_000;
    assert.equal(buckets.take('alice').ok, true);
    assert.equal(buckets.take('alice').ok, true);
    assert.equal(buckets.take('alice').ok, false);
  });

  it('gives back a refunded token, up to the capacity', () => {
    const time = clock();
    const buckets = new TokenBuckets({ capacity: 1, ratePerS: 0.001, now: time.now });
    assert.equal(buckets.take('alice').ok, true);
    buckets.refund('alice');
    buckets.refund('alice');
    assert.equal(buckets.take('alice').ok, true);
    assert.equal(buckets.take('alice').ok, false);
  });

  it('drops buckets idle long enough to be full again (bounded memory)', () => {
    const time = clock();
    // Refills from empty in 2 s.
    const buckets = new TokenBuckets({ capacity: 2, ratePerS: 1, now: time.now });
    for (let i = 0; i < 1000; i++) buckets.take(`user-${i}`);
    assert.equal(buckets.size, 1000);
    time.state.now += 2000;
    buckets.take('late');
    assert.equal(buckets.size, 1);
  });

  it('keeps at most maxKeys buckets, forgetting the least recently used', () => {
    const time = clock();
    const buckets = new TokenBuckets({ capacity: 1, ratePerS: 0.001, maxKeys: 2, now: time.now });
    buckets.take('a');
    buckets.take('b');
    buckets.take('a');
    buckets.take('c');
    assert.equal(buckets.size, 2);
    // a (used again) is still empty; b was forgotten, so it is a full bucket again.
    assert.equal(buckets.take('a').ok, false);
    assert.equal(buckets.take('b').ok, true);
  });

  it('refuses a bucket that could never hold a token', () => {
    assert.throws(() => new TokenBuckets({ capacity: 0, ratePerS: 1 }), RangeError);
    assert.throws(() => new TokenBuckets({ capacity: 1, ratePerS: 0 }), RangeError);
  });
});

describe('KeyedLock', () => {
  it('runs sections of one key one at a time, other keys beside them, and forgets idle keys', async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    let releaseFirst!: () => void;
    const first = lock.run('alice', async () => {
      order.push('alice 1 start');
      await new Promise<void>((resolve) => (releaseFirst = resolve));
      order.push('alice 1 end');
    });
    const second = lock.run('alice', async () => {
      order.push('alice 2');
    });
    const other = lock.run('bob', async () => {
      order.push('bob');
    });
    await other;
    assert.deepEqual(order, ['alice 1 start', 'bob']);
    releaseFirst();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['alice 1 start', 'bob', 'alice 1 end', 'alice 2']);
    assert.equal(lock.size, 0);
  });

  it('runs the next section after one that threw', async () => {
    const lock = new KeyedLock();
    await assert.rejects(
      lock.run('alice', async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await lock.run('alice', async () => 42), 42);
  });
});
