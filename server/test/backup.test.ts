// `reelchat-server backup <file>` (issue 26): the embedded mode's database copied while the
// server runs and messages are being written, restored into a fresh data folder, and a server
// started on it. Held: every message acknowledged before the backup started is there (once),
// and the copy passes PRAGMA integrity_check.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { signToken } from '../auth/tokens.js';
import { auth, json, SECRET, startChildServer, type ChildServer } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Embedded mode whatever the test run's database: these folders are SQLite's.
const EMBEDDED = {
  REELCHAT_DATABASE_URL: '',
  REELCHAT_RATE_MESSAGES_BURST: '100000',
  REELCHAT_RATE_MESSAGES_PER_MINUTE: '0',
};

/** Runs `reelchat-server backup …` on `dataDir`; resolves with its exit code and output. */
async function backupCommand(dataDir: string, args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(root, 'server/main.ts'), 'backup', ...args],
      { cwd: root, env: { ...process.env, REELCHAT_DATA_DIR: dataDir, ...EMBEDDED, ...env } },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

async function allMessageClientIds(base: string, token: string): Promise<string[]> {
  const found: string[] = [];
  let before = '';
  for (;;) {
    const response = await fetch(
      `${base}/v1/conversations/c1/messages?limit=200${before ? `&before=${before}` : ''}`,
      { headers: auth(token) },
    );
    assert.equal(response.status, 200);
    const page = await json<{ messages: { clientId: string }[]; next: string | null }>(response);
    found.push(...page.messages.map((m) => m.clientId));
    if (!page.next) return found;
    before = page.next;
  }
}

describe('reelchat-server backup (embedded mode)', () => {
  let folders: string[] = [];
  const folder = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'reelchat-backup-'));
    folders.push(dir);
    return dir;
  };
  let servers: ChildServer[] = [];
  before(() => {
    folders = [];
    servers = [];
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('copies a database being written; a restored server has every acknowledged message', async () => {
    const dataDir = await folder();
    const server = await startChildServer({ ...EMBEDDED, REELCHAT_DATA_DIR: dataDir });
    servers.push(server);
    const token = await signToken(SECRET, { user: 'ana', name: 'Ana', conversations: ['c1'] });
    const acknowledged: string[] = [];
    let writing = true;
    const writer = async (lane: number) => {
      for (let n = 0; writing; n++) {
        const clientId = `w${lane}-${n}`;
        const response = await fetch(`${server.url}/v1/conversations/c1/messages`, {
          method: 'POST',
          headers: auth(token, { 'Content-Type': 'application/json' }),
          body: JSON.stringify({ clientId, text: `message ${n} of lane ${lane}` }),
        });
        assert.equal(response.status, 201, await response.text());
        acknowledged.push(clientId);
      }
    };
    const writers = Promise.all([0, 1, 2, 3].map(writer));
    while (acknowledged.length < 200) await new Promise((resolve) => setTimeout(resolve, 20));

    const target = join(await folder(), 'reelchat-backup.db');
    const before = [...acknowledged];
    const backup = await backupCommand(dataDir, [target]);
    const during = acknowledged.length - before.length;
    writing = false;
    await writers;
    assert.equal(backup.code, 0, backup.output);
    assert.match(backup.output, /integrity ok/);
    assert.ok(during > 0, 'no message was written while the backup ran');

    const copy = new Database(target, { readonly: true });
    assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
    copy.close();

    // Restore: the copy becomes a fresh data folder's reelchat.db.
    const restored = await folder();
    await copyFile(target, join(restored, 'reelchat.db'));
    const again = await startChildServer({ ...EMBEDDED, REELCHAT_DATA_DIR: restored });
    servers.push(again);
    const found = await allMessageClientIds(again.url, token);
    assert.equal(new Set(found).size, found.length, 'a message is there twice');
    const missing = before.filter((clientId) => !found.includes(clientId));
    assert.deepEqual(missing, [], `${missing.length} acknowledged messages missing`);
    console.log(
      `# ${before.length} messages before the backup, ${during} written while it ran; ` +
        `${found.length} in the restored copy`,
    );
  });

  it('refuses a file that exists, a missing folder, and scaled mode', async () => {
    const dataDir = await folder();
    const server = await startChildServer({ ...EMBEDDED, REELCHAT_DATA_DIR: dataDir });
    servers.push(server);
    const taken = join(await folder(), 'taken.db');
    await writeFile(taken, 'keep me');
    const exists = await backupCommand(dataDir, [taken]);
    assert.equal(exists.code, 1);
    assert.match(exists.output, /exists already/);
    const nowhere = await backupCommand(dataDir, [join(dataDir, 'no', 'such', 'x.db')]);
    assert.equal(nowhere.code, 1);
    assert.match(nowhere.output, /does not exist/);
    const usage = await backupCommand(dataDir, []);
    assert.equal(usage.code, 1);
    assert.match(usage.output, /Usage: reelchat-server backup <file>/);
    const scaled = await backupCommand(dataDir, [join(dataDir, 'x.db')], {
      REELCHAT_DATABASE_URL: 'postgres://u@127.0.0.1:1/db',
    });
    assert.equal(scaled.code, 1);
    assert.match(scaled.output, /pg_dump/);
  });
});
