// A throwaway PostgreSQL database for the upload tests: created fresh on the server named by
// REELCHAT_TEST_DATABASE_URL (scripts/with-services.mjs sets it) and dropped afterwards. No
// server, or an unreachable one, fails loudly, never skips.
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { PgDatabase } from '../store/pg-database.js';

export const TEST_SERVER_URL =
  process.env.REELCHAT_TEST_DATABASE_URL ?? '(REELCHAT_TEST_DATABASE_URL is not set)';

export interface TestDatabase {
  name: string;
  /** URL of the new database. */
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`;
  let server: PgDatabase;
  try {
    server = await PgDatabase.connect(TEST_SERVER_URL, { max: 1 });
  } catch (error) {
    throw new Error(
      `PostgreSQL at ${TEST_SERVER_URL} is unreachable (set REELCHAT_TEST_DATABASE_URL or run ` +
        `scripts/services.mjs): ${String(error)}`,
    );
  }
  try {
    await server.query(`CREATE DATABASE ${name}`);
  } finally {
    await server.close();
  }
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.href,
    async drop() {
      const again = await PgDatabase.connect(TEST_SERVER_URL, { max: 1 });
      try {
        await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await again.close();
      }
    },
  };
}

/** A test database and the pools opened on it (closed before it is dropped). */
export class FreshDatabase {
  private readonly opened: PgDatabase[] = [];
  constructor(private readonly made: TestDatabase) {}

  get name(): string {
    return this.made.name;
  }

  get url(): string {
    return this.made.url;
  }

  /** A connection pool of its own (another instance, as far as PostgreSQL can tell). */
  async connect(): Promise<PgDatabase> {
    const db = await PgDatabase.connect(this.made.url);
    this.opened.push(db);
    return db;
  }

  async drop(): Promise<void> {
    await Promise.all(this.opened.map((db) => db.close()));
    await this.made.drop();
  }
}

/**
 * A suite's fresh databases: fails its first test at once without the services' PostgreSQL
 * (never skips), and drops every database `fresh()` made after the suite.
 */
export function freshDatabases(prefix: string): () => Promise<FreshDatabase> {
  const databases: FreshDatabase[] = [];
  before(() => {
    assert.ok(
      process.env.REELCHAT_TEST_DATABASE_URL,
      'REELCHAT_TEST_DATABASE_URL is not set: start PostgreSQL (node scripts/services.mjs start) — these tests need it',
    );
  });
  after(() => Promise.all(databases.map((database) => database.drop())));
  return async () => {
    const database = new FreshDatabase(await createTestDatabase(prefix));
    databases.push(database);
    return database;
  };
}
