// The work that meets a PostgreSQL restart (issue 26), shared by pg-restart.test.ts, which
// holds it to the bar, and bench/storage-faults.mjs, which prints its figures: uploads
// of 8 PATCHes each (retried from HEAD as a tus client does) and messages from several members
// (retried with the same clientId), an event stream open on each api instance, while
// PostgreSQL is stopped with `pg_ctl -m fast` for a while and started again.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Cluster } from './cluster.js';
import { auth, json, makeClip, tusMetadata, waitFor } from './helpers.js';
import type { PostgresControl } from './postgres-process.js';

/** The load: 20 uploads and 200 messages from 8 members, PostgreSQL down 10 s. */
export const RESTART_LOAD: RestartLoad = {
  uploads: 20,
  members: 8,
  messages: 200,
  outageMs: 10_000,
};

/** The scaled cluster that meets it: two api instances and a worker, no limit in its way. */
export const RESTART_CLUSTER = {
  apis: 2,
  workers: 1,
  env: {
    REELCHAT_RATE_MESSAGES_PER_MINUTE: '0',
    REELCHAT_QUOTA_UPLOADS_BURST: '100',
    REELCHAT_QUOTA_UNFINISHED_UPLOADS: '100',
    REELCHAT_CONVERT_CONCURRENCY: '2',
  },
};

export interface RestartLoad {
  uploads: number;
  members: number;
  messages: number;
  outageMs: number;
}

export interface RestartRun {
  tally: Tally;
  /** One per api instance, still open: the caller closes them. */
  streams: ResumingStream[];
  uploads: { id: string; bytes: Buffer; token: string }[];
  /** When PostgreSQL accepted connections again. */
  restartedAt: number;
}

/** What the clients saw: every status, and when the first success after the restart came. */
export class Tally {
  statuses = new Map<number, number>();
  restartedAt: number | undefined;
  firstSuccessAfter: number | undefined;
  count(status: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (status < 300 && this.restartedAt !== undefined && this.firstSuccessAfter === undefined) {
      this.firstSuccessAfter = Date.now() - this.restartedAt;
    }
  }
}

/** Sends a request until `done(status)`; waits Retry-After (or 250 ms) after a refusal or no answer. */
export async function persist(
  tally: Tally,
  send: () => Promise<Response>,
  done: (status: number) => boolean,
): Promise<Response> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const response = await send().catch(() => undefined);
    if (response) tally.count(response.status);
    else tally.count(0);
    if (response && done(response.status)) return response;
    await response?.arrayBuffer().catch(() => undefined);
    if (Date.now() > deadline) throw new Error(`gave up: last ${response?.status ?? 'no answer'}`);
    const asked = Number(response?.headers.get('retry-after'));
    await sleep(asked > 0 ? Math.min(asked, 5) * 1000 : 250);
  }
}

/** An event stream that resumes with Last-Event-ID whenever it ends, until closed. */
export class ResumingStream {
  readonly events: { id: number; event: string; data: string }[] = [];
  reconnects = 0;
  private readonly stop = new AbortController();
  private readonly running: Promise<void>;

  constructor(url: string, token: string) {
    this.running = this.loop(url, token);
  }

  private async loop(url: string, token: string): Promise<void> {
    while (!this.stop.signal.aborted) {
      const last = this.events.at(-1)?.id;
      try {
        const response = await fetch(url, {
          headers: auth(token, last ? { 'Last-Event-ID': String(last) } : {}),
          signal: this.stop.signal,
        });
        if (response.ok && response.body) await this.read(response.body);
        else await response.body?.cancel();
      } catch {
        // cut or refused: resume below
      }
      if (this.stop.signal.aborted) return;
      this.reconnects++;
      await sleep(250);
    }
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of body) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end; (end = buffer.indexOf('\n\n')) >= 0;) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(
          block
            .split('\n')
            .filter((line) => !line.startsWith(':') && line.includes(':'))
            .map((line) => [
              line.slice(0, line.indexOf(':')),
              line.slice(line.indexOf(':') + 1).trim(),
            ]),
        );
        if (fields.id && fields.data) {
          this.events.push({ id: Number(fields.id), event: fields.event ?? '', data: fields.data });
        }
      }
    }
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.running;
  }
}

/**
 * Runs the load and the outage (2 s in) together; resolves once every upload is complete
 * and every message taken. `guard.postgresDown` says whether PostgreSQL is stopped now, so a
 * failed caller can start it again for the tests after it.
 */
export async function runRestartWorkload(
  cluster: Cluster,
  postgres: PostgresControl,
  load: RestartLoad,
  guard: { postgresDown: boolean },
): Promise<RestartRun> {
  const tally = new Tally();
  const tokens = await Promise.all(
    Array.from({ length: load.members }, (_v, i) => cluster.token(`m${i}`, ['c1'])),
  );
  const streams = cluster.apis.map(
    (api) => new ResumingStream(`${api.url}/v1/events?conversation=c1`, tokens[0]!),
  );
  const clips = await Promise.all([
    makeClip('mp4', 1, '160x120'),
    makeClip('mp4', 2, '160x120'),
    makeClip('webm-vp8', 1, '160x120'),
    makeClip('mp4', 1, '320x240'),
  ]);
  const files = await Promise.all(clips.map((path) => readFile(path)));

  const create = async (token: string, bytes: Buffer, clientId: string) => {
    const created = await persist(
      tally,
      () =>
        fetch(`${cluster.url}/v1/uploads`, {
          method: 'POST',
          headers: auth(token, {
            'Tus-Resumable': '1.0.0',
            'Upload-Length': String(bytes.length),
            'Upload-Metadata': tusMetadata({
              conversation: 'c1',
              clientId,
              filetype: 'video/mp4',
            }),
          }),
        }),
      (status) => status === 201 || status === 409,
    );
    // 409: a creation whose answer was lost made it; resume that one.
    return created.status === 201
      ? created.headers.get('location')!.split('/').pop()!
      : (await json<{ error: { upload: string } }>(created)).error.upload;
  };
  /** PATCHes from HEAD's offset, 8 pieces; false when HEAD says there is no such upload. */
  const sendAll = async (token: string, bytes: Buffer, id: string): Promise<boolean> => {
    const piece = Math.ceil(bytes.length / 8);
    for (;;) {
      const head = await persist(
        tally,
        () =>
          fetch(`${cluster.url}/v1/uploads/${id}`, {
            method: 'HEAD',
            headers: auth(token, { 'Tus-Resumable': '1.0.0' }),
          }),
        (status) => status === 200 || status === 404,
      );
      if (head.status === 404) return false;
      const offset = Number(head.headers.get('upload-offset'));
      if (offset >= bytes.length) return true;
      const patched = await fetch(`${cluster.url}/v1/uploads/${id}`, {
        method: 'PATCH',
        headers: auth(token, {
          'Tus-Resumable': '1.0.0',
          'Upload-Offset': String(offset),
          'Content-Type': 'application/offset+octet-stream',
        }),
        body: bytes.subarray(offset, Math.min(offset + piece, bytes.length)),
      }).catch(() => undefined);
      tally.count(patched?.status ?? 0);
      await patched?.arrayBuffer();
      const asked = Number(patched?.headers.get('retry-after'));
      await sleep(patched?.status === 204 ? 400 : asked > 0 ? Math.min(asked, 5) * 1000 : 250);
    }
  };

  const upload = async (n: number): Promise<{ id: string; bytes: Buffer; token: string }> => {
    await sleep(n * 300); // spread over the outage's start
    const bytes = files[n % files.length]!;
    const token = tokens[n % load.members]!;
    const clientId = `upload-${n}`;
    // A 404 from HEAD: the upload's creation failed half-way and was cleared; create again.
    for (;;) {
      const id = await create(token, bytes, clientId);
      if (await sendAll(token, bytes, id)) return { id, bytes, token };
    }
  };

  const member = async (m: number): Promise<void> => {
    for (let i = 0; i < load.messages / load.members; i++) {
      const clientId = `msg-${m}-${i}`;
      await persist(
        tally,
        () =>
          fetch(`${cluster.url}/v1/conversations/c1/messages`, {
            method: 'POST',
            headers: auth(tokens[m]!, { 'Content-Type': 'application/json' }),
            body: JSON.stringify({ clientId, text: clientId }),
          }),
        (status) => status === 201 || status === 200,
      );
      await sleep(300);
    }
  };

  const outage = (async () => {
    await sleep(2_000);
    guard.postgresDown = true;
    await postgres.stop();
    await sleep(load.outageMs);
    await postgres.start();
    guard.postgresDown = false;
    tally.restartedAt = Date.now();
  })();
  const [uploads] = await Promise.all([
    Promise.all(Array.from({ length: load.uploads }, (_v, n) => upload(n))),
    Promise.all(Array.from({ length: load.members }, (_v, m) => member(m))),
    outage,
  ]);
  return { tally, streams, uploads, restartedAt: tally.restartedAt! };
}

/** The video once it is no longer processing, as its owner sees it; says what the worker did if it never settles. */
export async function settledVideo(
  cluster: Cluster,
  id: string,
  token: string,
): Promise<{ state: string; sha256?: string; reason?: string }> {
  return waitFor(async () => {
    const response = await fetch(`${cluster.url}/v1/conversations/c1/videos/${id}`, {
      headers: auth(token),
    }).catch(() => undefined);
    if (response?.status !== 200) return undefined;
    const body = await json<{ state: string; sha256?: string; reason?: string }>(response);
    return body.state === 'processing' ? undefined : body;
  }, `video ${id} to settle`).catch(async (error: Error) => {
    const db = new pg.Client(cluster.databaseUrl);
    await db.connect();
    const rows = await db.query('SELECT * FROM jobs WHERE video_id = $1', [id]);
    const upload = await db.query('SELECT * FROM uploads WHERE id = $1', [id]);
    await db.end();
    const said = cluster.workers[0]!.output()
      .split('\n')
      .filter((line) => line.startsWith('reelchat') && line.includes(id));
    throw new Error(
      `${error.message}: job ${JSON.stringify(rows.rows)} upload ${JSON.stringify(upload.rows)}; the worker said:\n${said.join('\n')}`,
    );
  });
}
