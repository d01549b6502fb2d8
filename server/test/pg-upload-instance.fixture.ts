// A tus instance over PgUploadStore in a process of its own, for the test that kills one
// with SIGKILL mid-upload (pg-upload-store.test.ts). Prints its port, then serves until killed.
//   node --import tsx server/test/pg-upload-instance.fixture.ts <database url>
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@tus/server';
import { PgDatabase } from '../store/pg-database.js';
import { PgUploadStore } from '../uploads/pg-upload-store.js';

const db = await PgDatabase.connect(process.argv[2]!, { max: 2 });
const store = new PgUploadStore(db, { expiryMs: 60_000, onTerminated: async () => undefined });
const tus = new Server({ path: '/files', datastore: store, relativeLocation: true });
const http = createServer((req, res) => void tus.handle(req, res));
http.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(http.address() as AddressInfo).port}\n`);
});
