// PostgreSQL restarted for maintenance (issue 26, "Done when"): scaled mode — two api
// instances and a worker behind a round-robin proxy — while 20 uploads (8 PATCHes each,
// retried from HEAD as a tus client does) and 200 messages from 8 members (retried with the
// same clientId) run, an event stream open on each api instance, PostgreSQL is stopped with
// `pg_ctl -m fast` for 10 s and started again. Held: no process exits; nothing is answered
// 500; every upload is byte-identical (sha256) and ready; every message is there once; each
// stream (resuming with Last-Event-ID when it ends) has every event once, in order; the first
// request after the restart succeeds within 5 s.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster, type Cluster } from './cluster.js';
import { removeClips, waitFor } from './helpers.js';
import {
  RESTART_CLUSTER,
  RESTART_LOAD as LOAD,
  runRestartWorkload,
  settledVideo,
} from './pg-restart-workload.js';
import { postgresControl, type PostgresControl } from './postgres-process.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('PostgreSQL restarted (pg_ctl -m fast, 10 s) in scaled mode', () => {
  let cluster: Cluster;
  let postgres: PostgresControl;
  const guard = { postgresDown: false };

  before(async () => {
    cluster = await startCluster(RESTART_CLUSTER);
    postgres = postgresControl(cluster.databaseUrl);
  });
  after(async () => {
    // The services are shared with the tests after this one: never leave PostgreSQL down.
    if (guard.postgresDown) await postgres.start();
    await cluster?.stop();
    await removeClips();
  });

  it('loses nothing, answers no 500, crashes nothing, and recovers within 5 s', async () => {
    const { tally, streams, uploads } = await runRestartWorkload(cluster, postgres, LOAD, guard);
    for (const { id, bytes, token } of uploads) {
      // Its owner's token: another member sees a clip only once it is attached to a message.
      const ready = await settledVideo(cluster, id, token);
      assert.equal(ready.state, 'ready', ready.reason);
      assert.equal(ready.sha256, sha256(bytes));
    }

    const expected = Array.from(
      { length: LOAD.messages },
      (_v, i) => `msg-${i % LOAD.members}-${Math.floor(i / LOAD.members)}`,
    ).sort();
    for (const [index, stream] of streams.entries()) {
      const created = () =>
        stream.events
          .filter((e) => e.event === 'message.created')
          .map((e) => (JSON.parse(e.data) as { message: { clientId: string } }).message.clientId);
      await waitFor(
        () => (created().length >= LOAD.messages ? true : undefined),
        `stream ${index} to have every message`,
        30_000,
      );
      await sleep(500);
      const ids = stream.events.map((e) => e.id);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
        `stream ${index} in order`,
      );
      assert.equal(new Set(ids).size, ids.length, `stream ${index}: every event once`);
      assert.deepEqual(created().sort(), expected, `stream ${index}: every message once`);
    }
    await Promise.all(streams.map((stream) => stream.close()));

    const statuses = Object.fromEntries(tally.statuses);
    console.log(
      `# answers: ${JSON.stringify(statuses)}; first success ${tally.firstSuccessAfter} ms after the restart; ` +
        `stream reconnects ${streams.map((s) => s.reconnects).join(', ')}`,
    );
    assert.equal(tally.statuses.get(500) ?? 0, 0, `no 500: ${JSON.stringify(statuses)}`);
    assert.ok(tally.firstSuccessAfter !== undefined && tally.firstSuccessAfter <= 5_000);
    for (const instance of [...cluster.apis, ...cluster.workers]) {
      assert.ok(instance.running(), `an instance exited:\n${instance.output().slice(-3000)}`);
    }
  });
});
