// Shared token buckets on a real PostgreSQL (scripts/with-services.mjs): two instances'
// takes at once never grant more than one bucket holds.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PgDatabase } from '../store/pg-database.js';
import { createTestDatabase } from '../test/pg-test-database.js';
import { LIMITS_MIGRATIONS, pgRateLimits } from './pg-token-buckets.js';

describe('token buckets shared in PostgreSQL', () => {
  let drop: () => Promise<void>;
  let a: PgDatabase;
  let b: PgDatabase;
  before(async () => {
    const database = await createTestDatabase('reelchat_limits');
    drop = database.drop;
    a = await PgDatabase.connect(database.url);
    b = await PgDatabase.connect(database.url);
    await Promise.all([a.migrate(LIMITS_MIGRATIONS), b.migrate(LIMITS_MIGRATIONS)]);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await drop?.();
  });

  it('grants a burst once across instances taking at the same time, then says how long to wait', async () => {
    const options = { capacity: 5, ratePerS: 1 / 60 };
    const onA = pgRateLimits(a)('messages', options);
    const onB = pgRateLimits(b)('messages', options);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? onA : onB).take('alice')),
    );
    assert.equal(results.filter((r) => r.ok).length, 5);
    const refused = results.find((r) => !r.ok);
    assert.ok(refused && !refused.ok && refused.retryAfterS > 1 && refused.retryAfterS <= 60);
    // Another user and another limit have buckets of their own.
    assert.equal((await onA.take('bob')).ok, true);
    assert.equal((await pgRateLimits(b)('uploads', options).take('alice')).ok, true);
    // A refund gives one back, on either instance.
    await onB.refund('alice');
    assert.equal((await onA.take('alice')).ok, true);
    assert.equal((await onA.take('alice')).ok, false);
  });

  it('refills at its rate', async () => {
    const fast = pgRateLimits(a)('fast', { capacity: 1, ratePerS: 20 });
    assert.equal((await fast.take('carol')).ok, true);
    assert.equal((await fast.take('carol')).ok, false);
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal((await fast.take('carol')).ok, true);
  });
});
