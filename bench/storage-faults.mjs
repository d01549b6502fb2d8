// Storage faults (issue 26), measured. Prints, for each fault, the requests refused (and how),
// the retries behind them and the time to recover after the fault ended:
//   bucket    scaled mode, the bucket away for `seconds` — 503 SlowDown, refused connections,
//             no answer (a fault proxy before Swift's S3 endpoint), Swift's proxy stopped —
//             while 3 clips convert and an earlier clip is read twice a second;
//   postgres  scaled mode (two api instances and a worker), PostgreSQL stopped with
//             `pg_ctl -m fast` for 10 s during 20 uploads and 200 messages, an event stream on
//             each instance (server/test/pg-restart-workload.ts, what pg-restart.test.ts holds);
//   disk      embedded mode on a 64 MB tmpfs (needs root): the data folder filled while 3
//             uploads and a member's messages go on, retried as clients do, for `seconds`.
//   node --import tsx bench/storage-faults.mjs [--faults bucket,postgres,disk] [--seconds 30]
// It starts its own PostgreSQL and Swift (scripts/services.mjs).
import { parseArgs } from 'node:util';
import { startServices } from '../scripts/services.mjs';
import { bucketFaults, diskFull, postgresRestart } from './storage-faults-cases.mjs';

const FAULTS = ['bucket', 'postgres', 'disk'];
const usage = `usage: node --import tsx bench/storage-faults.mjs [--faults ${FAULTS.join(',')}] [--seconds 30]`;
let options;
try {
  ({ values: options } = parseArgs({
    options: {
      faults: { type: 'string', default: FAULTS.join(',') },
      seconds: { type: 'string', default: '30' },
    },
  }));
} catch (error) {
  console.error(`${error.message}\n${usage}`);
  process.exit(2);
}
const seconds = Number(options.seconds);
const faults = options.faults.split(',');
if (!(seconds > 0) || faults.some((fault) => !FAULTS.includes(fault))) {
  console.error(usage);
  process.exit(2);
}

const services = await startServices();
Object.assign(process.env, services.env);
try {
  if (faults.includes('bucket')) await bucketFaults(seconds);
  if (faults.includes('postgres')) await postgresRestart();
  if (faults.includes('disk')) await diskFull(seconds);
} finally {
  await services.stop();
}
