// The one owner of the `pg` driver (scaled mode, REELCHAT_DATABASE_URL): a connection pool,
// transactions, schema migrations under an advisory lock (several instances may start at
// once), and LISTEN on a dedicated connection that reconnects. Everything else that talks
// to PostgreSQL (the store, the job queue, the upload bytes, the fan-out) goes through here.
import pg from 'pg';

/** What a query runs on: the pool, or one transaction's connection. */
export interface Sql {
  query<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<Row[]>;
}

/** One set of migrations (e.g. the store's, the uploads'): each entry runs once, in order. */
export interface MigrationSet {
  name: string;
  steps: string[];
}

export interface PgDatabaseOptions {
  /** Connections in the pool (default 10). */
  max?: number;
  /** Names the connections in pg_stat_activity. */
  applicationName?: string;
}

/** Deadlocks and serialization failures: the transaction is safe to run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const TRANSACTION_ATTEMPTS = 5;
/** Key of the advisory lock held while migrating (any constant, the same everywhere). */
const MIGRATION_LOCK = 7_311_020_001;
const LISTEN_RETRY_MS = [100, 500, 1_000, 2_000, 5_000];

// int8 (bigint) columns as numbers: ids and sizes here stay far below 2^53.
const types = {
  getTypeParser(oid: number, format?: string): unknown {
    if (oid === 20) return (value: string) => Number(value);
    return (pg.types.getTypeParser as (oid: number, format?: string) => unknown)(oid, format);
  },
};

/**
 * SQLSTATEs of a server that went away or is not there yet: admin or crash shutdown, starting
 * up, and class 08 (connection exceptions). The request may work a moment later.
 */
const UNREACHABLE_STATES = new Set(['57P01', '57P02', '57P03']);
/** Socket errors of a database that does not answer (refused, reset, unreachable, timed out). */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** What the pg driver says of a connection that ended or is no longer usable. */
const UNREACHABLE_MESSAGE =
  /^(Connection terminated|Client has encountered a connection error|Client was closed)/;

/**
 * Whether `error` says the database could not be reached (restarting, failing over, gone):
 * the caller answers 503 with Retry-After, as for a busy SQLite, never 500.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (UNREACHABLE_CODES.has(code) || UNREACHABLE_STATES.has(code)) return true;
    if (code.startsWith('08')) return true;
  }
  if (UNREACHABLE_MESSAGE.test(error.message)) return true;
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isDatabaseUnreachable(cause);
}

/**
 * Every connection the pool opens has an error listener from the moment it exists: the pg
 * driver emits `error` on a client whose server went away — while it is being opened, while
 * a transaction holds it between queries, while idle — and an `error` event nobody listens to
 * ends the process. The query or transaction under way fails on its own and answers 503.
 */
class GuardedClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', (error) => console.error('reelchat: a database connection failed', error));
  }
}

export class PgDatabase implements Sql {
  private readonly pool: pg.Pool;
  private readonly listeners = new Set<Listener>();
  private closed = false;

  private constructor(
    private readonly url: string,
    options: PgDatabaseOptions,
  ) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 10,
      application_name: options.applicationName ?? 'reelchat',
      types: types as pg.CustomTypesConfig,
      Client: GuardedClient,
    });
    // An idle connection that breaks (server restart) must not crash the process.
    this.pool.on('error', (error) =>
      console.error('reelchat: a database connection failed', error),
    );
  }

  /** Connects and checks the database answers. */
  static async connect(url: string, options: PgDatabaseOptions = {}): Promise<PgDatabase> {
    const database = new PgDatabase(url, options);
    try {
      await database.ping();
    } catch (error) {
      await database.pool.end().catch(() => {});
      throw error;
    }
    return database;
  }

  async query<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<Row[]> {
    const result = await this.pool.query(text, values);
    return result.rows as Row[];
  }

  /** Runs `work` in one transaction (READ COMMITTED), again after a deadlock or serialization failure. */
  async transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const tx: Sql = {
          query: async <Row>(text: string, values?: unknown[]) =>
            (await client.query(text, values)).rows as Row[],
        };
        const result = await work(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        const code = (error as { code?: unknown }).code;
        if (attempt < TRANSACTION_ATTEMPTS && typeof code === 'string' && RETRYABLE.has(code)) {
          continue;
        }
        throw error;
      } finally {
        client.release(broken);
      }
    }
  }

  /**
   * Brings each set's schema up to date. A session advisory lock makes instances that start
   * together take turns; the second finds the steps done and runs none.
   */
  async migrate(...sets: MigrationSet[]): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_versions (
        name text PRIMARY KEY, version integer NOT NULL)`);
      for (const set of sets) {
        const rows = await client.query<{ version: number }>(
          'SELECT version FROM schema_versions WHERE name = $1',
          [set.name],
        );
        const done = rows.rows[0]?.version ?? 0;
        for (let step = done; step < set.steps.length; step++) {
          await client.query('BEGIN');
          try {
            await client.query(set.steps[step]!);
            await client.query(
              `INSERT INTO schema_versions (name, version) VALUES ($1, $2)
               ON CONFLICT (name) DO UPDATE SET version = excluded.version`,
              [set.name, step + 1],
            );
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK');
            throw error;
          }
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
      client.release();
    }
  }

  /**
   * Hears NOTIFY on `channel` on a connection of its own. When that connection breaks it
   * reconnects and calls `onReconnect`, since notifications sent meanwhile are lost: the
   * caller reads what it missed from the tables. Returns the function that stops listening.
   */
  async listen(
    channel: string,
    onNotify: (payload: string) => void,
    onReconnect: () => void = () => {},
  ): Promise<() => Promise<void>> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`Not a channel name: ${channel}`);
    const listener = new Listener(this.url, channel, onNotify, onReconnect);
    this.listeners.add(listener);
    await listener.start();
    return async () => {
      this.listeners.delete(listener);
      await listener.stop();
    };
  }

  /** Throws unless the database answers (for /readyz). */
  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.listeners].map((listener) => listener.stop()));
    await this.pool.end();
  }
}

class Listener {
  private client: pg.Client | undefined;
  private stopped = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly onNotify: (payload: string) => void,
    private readonly onReconnect: () => void,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.url,
      application_name: 'reelchat-listen',
    });
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.onNotify(message.payload ?? '');
    });
    client.on('error', (error) => {
      console.error(`reelchat: listening on ${this.channel} failed, reconnecting`, error);
      this.reconnectLater(client);
    });
    client.on('end', () => this.reconnectLater(client));
    await client.connect();
    await client.query(`LISTEN ${this.channel}`);
    this.client = client;
    this.failures = 0;
  }

  private reconnectLater(client: pg.Client): void {
    if (this.stopped || this.client !== client) return;
    this.client = undefined;
    void client.end().catch(() => {});
    const delay = LISTEN_RETRY_MS[Math.min(this.failures++, LISTEN_RETRY_MS.length - 1)]!;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.start().then(
        () => this.onReconnect(),
        (error: unknown) => {
          console.error(`reelchat: reconnecting to listen on ${this.channel} failed`, error);
          this.client = client; // so reconnectLater proceeds
          this.reconnectLater(client);
        },
      );
    }, delay);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}
