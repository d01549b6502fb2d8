// Scaled mode's PostgreSQL parts against a real server (REELCHAT_TEST_DATABASE_URL, e.g. from
// scripts/services.mjs): migrations racing, event and message order under concurrent
// writers on separate pools, the fan-out on two instances, two servers on one database,
// erasure (the shared job queue: pg-jobs.test.ts). Without the variable this FAILS: it never
// passes untested.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PgFanout } from '../events/pg-fanout.js';
import { PgDatabase } from '../store/pg-database.js';
import { STORE_MIGRATIONS } from '../store/postgres-schema.js';
import { PgStore } from '../store/postgres.js';
import type { MessageRecord, StoredEvent } from '../store/types.js';
import { eraseUser } from '../erase.js';
import { freshDatabases } from './pg-test-database.js';
import { HeldConverter } from './held-converter.js';
import { auth, SERVICES_DATABASE_URL, SseReader, startServer, type TestServer } from './helpers.js';

const SERVER = SERVICES_DATABASE_URL;

async function admin<T>(work: (db: PgDatabase) => Promise<T>): Promise<T> {
  const db = await PgDatabase.connect(SERVER!, { max: 1 });
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

function message(conversation: string, author: string, n: number): MessageRecord {
  return {
    id: `m-${author}-${n}-${randomBytes(4).toString('hex')}`,
    conversation,
    clientId: `c-${n}`,
    author,
    authorName: author,
    text: `message ${n}`,
    video: null,
    createdAt: new Date().toISOString(),
    deletedAt: null,
  };
}

/** Runs `count` tasks, `inFlight` at a time. */
async function pool(count: number, inFlight: number, task: (i: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

function assertContiguous(seqs: number[], what: string): void {
  for (let i = 1; i < seqs.length; i++) {
    assert.equal(seqs[i], seqs[i - 1]! + 1, `${what}: ${seqs[i - 1]} then ${seqs[i]}`);
  }
}

describe('PostgreSQL in scaled mode', { timeout: 120_000 }, () => {
  const fresh = freshDatabases('reelchat_scaled');

  it('three instances migrating one fresh database at once create the schema once', async () => {
    const database = await fresh();
    const pools = await Promise.all([1, 2, 3].map(() => database.connect()));
    await Promise.all(pools.map((db) => PgStore.open(db)));
    const [row] = await pools[0]!.query<{ version: number }>(
      "SELECT version FROM schema_versions WHERE name = 'store'",
    );
    // Every step once: the version is the number of steps.
    assert.equal(row?.version, STORE_MIGRATIONS.steps.length);
    const tables = await pools[0]!.query<{ n: number }>(
      `SELECT COUNT(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = 'events'`,
    );
    assert.equal(tables[0]!.n, 1);
    // And a later start runs nothing and fails nothing.
    await PgStore.open(await database.connect());
  });

  it('events and messages appended by three instances at once are read in order, each once, none missed', async () => {
    const database = await fresh();
    const stores = await Promise.all(
      [1, 2, 3].map(async () => PgStore.open(await database.connect())),
    );
    const reader = stores[0]!;
    const seed = await reader.createMessage(message('c1', 'seed', 0));
    const seen: number[] = [];
    const pagedIds: string[] = [];
    let writing = true;
    // Readers that page by number while the writers write, as SSE replays and `after=` do.
    const readEvents = (async () => {
      let last = 0;
      for (let idle = 0; writing || idle < 2;) {
        const batch = await reader.eventsAfter(last, ['c1'], 'reader', 37);
        for (const event of batch) seen.push(event.seq);
        last = batch.at(-1)?.seq ?? last;
        if (!writing && batch.length === 0) idle++;
      }
    })();
    const readMessages = (async () => {
      let cursor = seed.message.id;
      for (let idle = 0; writing || idle < 2;) {
        const page = await reader.listMessages('c1', { after: cursor, limit: 23 });
        for (const m of page.messages) pagedIds.push(m.id);
        cursor = page.messages.at(-1)?.id ?? cursor;
        if (!writing && page.messages.length === 0) idle++;
      }
    })();
    await Promise.all(
      stores.map((store, s) => pool(100, 8, (i) => store.createMessage(message('c1', `w${s}`, i)))),
    );
    writing = false;
    await Promise.all([readEvents, readMessages]);

    const all = (await reader.eventsAfter(0, ['c1'], 'reader', 1000)).map((event) => event.seq);
    assert.equal(all.length, 301);
    assertContiguous(all, 'the log');
    assert.deepEqual(seen, all, 'the reader saw every event once, in order');
    const inOrder = (await reader.listMessages('c1', { limit: 1000 })).messages.map((m) => m.id);
    assert.equal(inOrder.length, 301);
    assert.deepEqual(pagedIds, inOrder.slice(1), 'after= paging saw every message once, in order');
  });

  it('one clientId posted through three instances at once makes one message; one video attaches once', async () => {
    const database = await fresh();
    const stores = await Promise.all(
      [1, 2, 3].map(async () => PgStore.open(await database.connect())),
    );
    for (let round = 0; round < 10; round++) {
      const outcomes = await Promise.all(
        stores.map((store) =>
          store.createMessage({ ...message('c1', 'alice', round), clientId: `same-${round}` }),
        ),
      );
      assert.equal(outcomes.filter((outcome) => outcome.created).length, 1);
      assert.equal(new Set(outcomes.map((outcome) => outcome.message.id)).size, 1);
    }
    await stores[0]!.createUpload({
      id: 'v1',
      owner: 'alice',
      conversation: 'c1',
      clientId: 'v1',
      filetype: 'video/mp4',
      createdAt: new Date().toISOString(),
    });
    const attaching = await Promise.allSettled(
      stores.map((store, i) =>
        store.createMessage({ ...message('c1', 'alice', 100 + i), video: 'v1' }),
      ),
    );
    assert.equal(attaching.filter((result) => result.status === 'fulfilled').length, 1);
    for (const result of attaching) {
      if (result.status === 'rejected') assert.equal(result.reason.name, 'VideoTakenError');
    }
    const events = await stores[0]!.eventsSince(0, 100);
    assert.equal(events.filter((event) => event.type === 'message.created').length, 11);
  });

  it('the fan-out on two instances delivers the same events in the same order', async () => {
    const database = await fresh();
    const writers = await Promise.all(
      [1, 2, 3].map(async () => PgStore.open(await database.connect())),
    );
    const fanouts: PgFanout[] = [];
    const heard: StoredEvent[][] = [[], []];
    for (const list of heard) {
      const db = await database.connect();
      const fanout = await PgFanout.start(db, await PgStore.open(db), { pollMs: 5_000 });
      fanout.subscribe((event) => list.push(event));
      fanouts.push(fanout);
    }
    try {
      await Promise.all(
        writers.map((store, s) =>
          pool(60, 6, (i) => store.createMessage(message(`c${i % 3}`, `w${s}`, i))),
        ),
      );
      // The doorbell alone (the poll is slower than this wait), on both instances.
      const log = await writers[0]!.eventsSince(0, 1000);
      assert.equal(log.length, 180);
      const deadline = Date.now() + 4_000;
      while (heard.some((list) => list.length < 180) && Date.now() < deadline) await sleep(20);
      for (const list of heard) {
        assert.deepEqual(
          list.map((event) => event.seq),
          log.map((event) => event.seq),
        );
        assert.deepEqual(list, log);
      }
    } finally {
      await Promise.all(fanouts.map((fanout) => fanout.close()));
    }
  });

  it('the fan-out catches up after its LISTEN connection was cut', async () => {
    const database = await fresh();
    const writer = await PgStore.open(await database.connect());
    const db = await database.connect();
    // No poll within the test: only the doorbell and the reconnect deliver.
    const fanout = await PgFanout.start(db, await PgStore.open(db), { pollMs: 60_000 });
    const heard: number[] = [];
    fanout.subscribe((event) => heard.push(event.seq));
    try {
      await writer.createMessage(message('c1', 'alice', 1));
      const deadline = Date.now() + 3_000;
      while (heard.length < 1 && Date.now() < deadline) await sleep(20);
      assert.equal(heard.length, 1, 'the doorbell rang');
      const cut = await admin((server) =>
        server.query<{ ok: boolean }>(
          `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
           WHERE datname = $1 AND application_name = 'reelchat-listen'`,
          [database.name],
        ),
      );
      assert.equal(cut.length, 1);
      // Appended while nobody listens: the notifications are lost, the rows are not.
      for (let i = 2; i <= 5; i++) await writer.createMessage(message('c1', 'alice', i));
      const later = Date.now() + 5_000;
      while (heard.length < 5 && Date.now() < later) await sleep(20);
      const log = (await writer.eventsSince(0, 100)).map((event) => event.seq);
      assert.deepEqual(heard, log);
    } finally {
      await fanout.close();
    }
  });

  it('two servers on one database: streams on either see posts through both, replays are identical', async () => {
    const database = await fresh();
    const env = { REELCHAT_DATABASE_URL: database.url, REELCHAT_RATE_MESSAGES_PER_MINUTE: '0' };
    const servers: TestServer[] = [];
    const readers: SseReader[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        servers.push(await startServer(env, { converter: new HeldConverter() }));
      }
      const [a, b] = servers as [TestServer, TestServer];
      const bob = await a.token('bob', ['c1']);
      const stream = async (server: TestServer, headers: Record<string, string> = {}) => {
        const reader = await new SseReader().open(
          `${server.url}/v1/events?conversation=c1`,
          auth(bob, headers),
        );
        assert.equal(reader.status, 200);
        readers.push(reader);
        return reader;
      };
      const post = async (server: TestServer, author: string, n: number) => {
        const response = await fetch(`${server.url}/v1/conversations/c1/messages`, {
          method: 'POST',
          headers: auth(await server.token(author, ['c1']), { 'Content-Type': 'application/json' }),
          body: JSON.stringify({ clientId: `p-${n}`, text: `from ${author} ${n}` }),
        });
        assert.equal(response.status, 201);
      };
      const [onA, onB] = [await stream(a), await stream(b)];
      // Concurrent posts through both servers.
      await pool(60, 10, (n) => post(n % 2 ? a : b, n % 3 ? 'alice' : 'carol', n));
      const idsOf = (events: { id?: string }[]) => events.map((event) => Number(event.id));
      const [fromA, fromB] = [idsOf(await onA.waitForCount(60)), idsOf(await onB.waitForCount(60))];
      assert.deepEqual(fromA, fromB);
      assert.deepEqual(
        fromA,
        [...fromA].sort((x, y) => x - y),
      );
      assert.equal(new Set(fromA).size, 60);

      // Resuming after the 20th, on either server, while more posts arrive: the same ids.
      const resumeAt = String(fromA[19]);
      const more = pool(20, 5, (n) => post(n % 2 ? b : a, 'dave', 100 + n));
      const [replayA, replayB] = await Promise.all([
        stream(a, { 'Last-Event-ID': resumeAt }),
        stream(b, { 'Last-Event-ID': resumeAt }),
      ]);
      await more;
      const [againA, againB] = [
        idsOf(await replayA.waitForCount(60)),
        idsOf(await replayB.waitForCount(60)),
      ];
      const live = idsOf(await onA.waitForCount(80));
      assert.deepEqual(againA, live.slice(20));
      assert.deepEqual(againB, live.slice(20));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(replayA.events.length, 60, 'no duplicates after the replay');
      assert.equal(replayB.events.length, 60);
    } finally {
      await Promise.all(readers.map((reader) => reader.close()));
      for (const server of servers) await server.close();
    }
  });

  it('erase-user in scaled mode removes the person from PostgreSQL', async () => {
    const database = await fresh();
    const db = await database.connect();
    const store = await PgStore.open(db);
    await store.touchMember('erin', 'Erin', 'c1');
    await store.touchMember('bob', 'Bob', 'c1');
    await store.createMessage(message('c1', 'erin', 1));
    await store.createMessage(message('c1', 'bob', 2));
    await store.createUpload({
      id: 'e1',
      owner: 'erin',
      conversation: 'c1',
      clientId: 'e1',
      filetype: 'video/mp4',
      createdAt: new Date().toISOString(),
    });
    await store.completeUpload('e1', 10);
    const summary = await eraseUser('/nonexistent-data-dir', 'erin', database.url);
    assert.deepEqual(
      [summary.messages, summary.videos, summary.uploads, summary.memberships],
      [1, ['e1'], ['e1'], 1],
    );
    const left = await db.query<{ n: number }>(
      `SELECT (SELECT COUNT(*) FROM messages WHERE author = 'erin')
        + (SELECT COUNT(*) FROM videos WHERE owner = 'erin')
        + (SELECT COUNT(*) FROM jobs) + (SELECT COUNT(*) FROM members WHERE user_id = 'erin')
        + (SELECT COUNT(*) FROM events WHERE data LIKE '%erin%') AS n`,
    );
    assert.equal(Number(left[0]!.n), 0);
    const bobs = await store.listMessages('c1', { limit: 10 });
    assert.deepEqual(
      bobs.messages.map((m) => m.author),
      ['bob'],
    );
  });
});
