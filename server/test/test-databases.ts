// The server tests' databases. SQLite by default (the file in the data folder); with
// REELCHAT_TEST_STORE=postgres, PostgreSQL (scaled mode): every data folder gets a
// database of its own on that server (named after the folder, so a restarted server finds
// its data again), created before its server starts and dropped with the folder.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PgDatabase } from '../store/pg-database.js';

/** The services' PostgreSQL server (scripts/with-services.mjs sets it), for tests that need one. */
export const SERVICES_DATABASE_URL = process.env.REELCHAT_TEST_DATABASE_URL || undefined;
/**
 * Where startServer's databases are made: PostgreSQL when REELCHAT_TEST_STORE=postgres (the
 * scaled run of the suite, npm run test:server:postgres), else undefined (SQLite, the default).
 */
export const TEST_DATABASE_URL =
  process.env.REELCHAT_TEST_STORE === 'postgres' ? requireServices() : undefined;

function requireServices(): string {
  if (!SERVICES_DATABASE_URL) {
    throw new Error(
      'REELCHAT_TEST_STORE=postgres needs REELCHAT_TEST_DATABASE_URL: run through scripts/with-services.mjs.',
    );
  }
  return SERVICES_DATABASE_URL;
}
const TEST_DATABASE_PREFIX = 'reelchat_test_';

function testDatabaseName(dataDir: string): string {
  return TEST_DATABASE_PREFIX + createHash('sha256').update(dataDir).digest('hex').slice(0, 20);
}

/** The URL of the data folder's test database. */
export function testDatabaseUrl(dataDir: string): string {
  const url = new URL(TEST_DATABASE_URL!);
  url.pathname = `/${testDatabaseName(dataDir)}`;
  return url.toString();
}

async function withAdmin<T>(work: (admin: PgDatabase) => Promise<T>): Promise<T> {
  const admin = await PgDatabase.connect(TEST_DATABASE_URL!, { max: 1 });
  try {
    return await work(admin);
  } finally {
    await admin.close();
  }
}

/**
 * Creates the data folder's database unless it exists. Also drops those left by earlier
 * runs whose folders are gone (a killed test never dropped its own).
 */
export async function prepareTestDatabase(dataDir: string): Promise<void> {
  if (!TEST_DATABASE_URL) return;
  const name = testDatabaseName(dataDir);
  await withAdmin(async (admin) => {
    const rows = await admin.query<{ datname: string; folder: string | null }>(
      `SELECT datname, shobj_description(oid, 'pg_database') AS folder FROM pg_database
       WHERE datname LIKE $1`,
      [`${TEST_DATABASE_PREFIX}%`],
    );
    for (const { datname, folder } of rows) {
      if (datname === name || folder === null || existsSync(folder)) continue;
      await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => undefined);
    }
    if (rows.some((row) => row.datname === name)) return;
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.query(`COMMENT ON DATABASE ${name} IS ${quoteLiteral(dataDir)}`);
  });
}

/** Drops the data folder's database (when testing on PostgreSQL). */
export async function dropTestDatabase(dataDir: string): Promise<void> {
  if (!TEST_DATABASE_URL) return;
  await withAdmin((admin) =>
    admin.query(`DROP DATABASE IF EXISTS ${testDatabaseName(dataDir)} WITH (FORCE)`),
  );
}

function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * The server's database for a test that changes rows behind its back (ages a message):
 * SQLite's file, or the PostgreSQL test database. `?` placeholders work for both.
 */
export async function openTestDatabase(dataDir: string): Promise<{
  query<Row = Record<string, unknown>>(sql: string, ...values: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}> {
  if (TEST_DATABASE_URL) {
    const db = await PgDatabase.connect(testDatabaseUrl(dataDir), { max: 1 });
    return {
      query: <Row>(sql: string, ...values: unknown[]) => {
        let n = 0;
        return db.query<Row>(
          sql.replace(/\?/g, () => `$${++n}`),
          values,
        );
      },
      close: () => db.close(),
    };
  }
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(join(dataDir, 'reelchat.db'));
  return {
    query: async <Row>(sql: string, ...values: unknown[]) => {
      const statement = db.prepare(sql);
      return (
        statement.reader ? statement.all(...values) : (statement.run(...values), [])
      ) as Row[];
    },
    close: async () => void db.close(),
  };
}
