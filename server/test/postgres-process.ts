// The test services' PostgreSQL (scripts/services.mjs), stopped and started again as an
// operator's maintenance would: `pg_ctl stop -m fast` (clients' connections end at once),
// then `pg_ctl start` with the options it last ran with (its postmaster.opts). Found through
// /proc: the postmaster whose command line listens on the URL's port. pg_ctl refuses to run
// as root, so it runs as the data folder's owner. Linux only, as the services are.
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { processes } from './proc.js';

const run = promisify(execFile);

export interface PostgresControl {
  /** Fast shutdown; resolves once the postmaster is gone. */
  stop(): Promise<void>;
  /** Starts it again; resolves once it accepts connections. */
  start(): Promise<void>;
}

export function postgresControl(databaseUrl: string): PostgresControl {
  const port = new URL(databaseUrl).port || '5432';
  const { binary, data } = findPostmaster(port);
  const pgCtl = join(dirname(binary), 'pg_ctl');
  // The options it was started with, as pg_ctl wrote them: `postgres "-D" "…" "-c" "…" …`.
  const opts = [...readFileSync(join(data, 'postmaster.opts'), 'utf8').matchAll(/"([^"]*)"/g)]
    .map((m) => m[1]!)
    .filter((arg, i, all) => arg !== '-D' && all[i - 1] !== '-D');
  const owner = statSync(data);
  const as = { uid: owner.uid, gid: owner.gid, cwd: dirname(data) };
  const log = join(dirname(data), 'restarted.log');
  return {
    async stop() {
      await run(pgCtl, ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop'], as);
    },
    async start() {
      const options = opts.map((arg) => (arg.includes(' ') ? `'${arg}'` : arg)).join(' ');
      await run(pgCtl, ['-D', data, '-l', log, '-o', options, '-w', '-t', '30', 'start'], as);
    },
  };
}

function findPostmaster(port: string): { binary: string; data: string } {
  for (const { args } of processes()) {
    if (!args[0]?.endsWith('/postgres')) continue;
    const portAt = args.indexOf('-p');
    const dataAt = args.indexOf('-D');
    if (portAt < 0 || dataAt < 0 || args[portAt + 1] !== port) continue;
    return { binary: args[0], data: args[dataAt + 1]! };
  }
  throw new Error(`No postmaster listens on port ${port} (the services' PostgreSQL)`);
}
