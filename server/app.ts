// The HTTP surface of the server: the routes of docs/protocol.md, the request handler (CORS,
// deadlines, errors, the request log) and the node:http server. The parts it serves are built
// by the composition root (compose.ts); tests start the whole server in-process on port 0.
import { existsSync, readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { streamEvents } from './api/events.js';
import { authenticate, type ApiContext } from './api/context.js';
import { serveMedia } from './api/media.js';
import { deleteMessage, listMessages, postMessage } from './api/messages.js';
import { devToken, getSession } from './api/session.js';
import { getVideo, listVideos, markWatched } from './api/videos.js';
import type { ServerConfig } from './config.js';
import type { SseHub } from './events/sse.js';
import type { Cors } from './http/cors.js';
import { HttpError, notFound, sendError, sendJson } from './http/errors.js';
import { serveStatic } from './http/files.js';
import { Drain } from './http/drain.js';
import { answerHeaderOverflow } from './http/header-overflow.js';
import { Router, splitUrl, type RequestContext } from './http/router.js';
import type { ConversionWorker } from './jobs/worker.js';
import type { RateLimits } from './limits/rate-limit.js';
import { applyIdleTimeout, requestDeadline, serverOptions } from './limits/timeouts.js';
import { DISK_FULL_RETRY_AFTER_S, isDiskFull, type DiskSpace } from './media/disk-space.js';
import type { MediaStore } from './media/store.js';
import { pathOnly, requestIdOf, type JsonLog } from './observability/log.js';
import type { Metrics } from './observability/metrics.js';
import { isDatabaseBusy } from './store/busy-retry.js';
import { isDatabaseUnreachable, type PgDatabase } from './store/pg-database.js';
import type { JobQueue } from './store/jobs.js';
import type { MetadataStore } from './store/types.js';
import { UPLOADS_PATH, type Uploads } from './uploads/tus.js';

/** What the HTTP surface serves (built by compose.ts). */
export interface HttpParts {
  config: ServerConfig;
  backends: {
    store: Pick<MetadataStore, 'secret'>;
    queue: Pick<JobQueue, 'queuedCount'>;
    database?: Pick<PgDatabase, 'ping'>;
    media: MediaStore;
    /** What /readyz checks besides the database (the bucket). */
    ready(): Promise<string | undefined>;
  };
  api: ApiContext;
  uploads: Uploads;
  sse: SseHub;
  worker: Pick<ConversionWorker, 'runningCount'>;
  metrics: Metrics;
  log: JsonLog;
  cors: Cors;
  rateLimits: RateLimits;
  /** Whether this instance serves the API (not a worker-only instance). */
  serving: boolean;
  /** The data folder's disk, reported in /readyz and /metrics. */
  disk: Pick<DiskSpace, 'report'>;
  /** Requests in flight, and the refusal of new ones once a graceful stop begins. */
  drain: Drain;
}

export interface HttpOptions {
  /** The dev tokens' key (the demo's /v1/dev/token), when they are on. */
  devSecret?: string;
  /** Where demo/ and dist/ are (default: the package root). */
  packageRoot?: string;
}

export interface HttpSurface {
  url: string;
  server: http.Server;
  /**
   * Stops accepting and runs `during` (ending the streams and conversions that hold
   * connections open), then waits for the connections to end (at most 2 s more).
   */
  close(during: () => Promise<void>): Promise<void>;
}

type ApiHandler = (api: ApiContext, ctx: RequestContext) => Promise<void> | void;

export async function serveHttp(parts: HttpParts, options: HttpOptions): Promise<HttpSurface> {
  const router = routes(parts, options);
  const server = http.createServer(
    serverOptions(parts.config.timeouts),
    // handle() answers its own errors; this catch is for a failure while answering one.
    (req, res) =>
      void handle(parts, router, req, res).catch((error: unknown) => {
        console.error('reelchat: answering a request failed', error);
        res.destroy();
      }),
  );
  applyIdleTimeout(server, parts.config.timeouts);
  answerHeaderOverflow(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(parts.config.port, parts.config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const close = async (during: () => Promise<void>): Promise<void> => {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    await during();
    // Connections whose last response (an event stream) just ended are idle now.
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), 2_000);
    await stopped;
    clearTimeout(force);
  };
  return { url: `http://${host}:${address.port}`, server, close };
}

function routes(parts: HttpParts, options: HttpOptions): Router {
  const router = new Router();
  const route = (method: string, pattern: string, handler: ApiHandler) =>
    router.add(method, pattern, (ctx) => handler(parts.api, ctx));
  addProbeRoutes(parts, route);
  if (parts.serving) addApiRoutes(parts, options, route);
  parts.metrics.gauge(
    'reelchat_event_streams_open',
    'Event streams open on this instance.',
    () => parts.sse.openStreams,
  );
  parts.metrics.gauge(
    'reelchat_conversions_running',
    'Conversions this instance runs now.',
    () => parts.worker.runningCount,
  );
  if (parts.config.demo && parts.serving) {
    const root = options.packageRoot ?? findPackageRoot();
    route('GET', '/dist/*', (_a, ctx) =>
      serveStatic(ctx.req, ctx.res, join(root, 'dist'), ctx.params['*']!),
    );
    route('GET', '/*', (_a, ctx) =>
      serveStatic(ctx.req, ctx.res, join(root, 'demo'), ctx.params['*']!),
    );
  }
  return router;
}

type AddRoute = (method: string, pattern: string, handler: ApiHandler) => void;

const PROBES = new Set(['/healthz', '/readyz', '/metrics']);
const EVENTS_PATH = '/v1/events';

/** Every role answers these three on its PORT (docs/scaling.md). */
function addProbeRoutes({ backends, metrics, disk, drain }: HttpParts, route: AddRoute): void {
  const { database, store, queue } = backends;
  const pingDatabase = database
    ? () => database.ping()
    : () => store.secret('media-url-key').then(() => undefined);
  route('GET', '/healthz', (_api, ctx) => sendJson(ctx.res, 200, { ok: true }));
  route('GET', '/readyz', async (_api, ctx) => {
    // Stopping: the balancer takes this instance out (it refuses new requests meanwhile).
    const failed = drain.draining ? 'stopping' : await readiness(pingDatabase);
    // The bucket away or the disk full: reads of media or uploads are answered 503/507 and
    // retried, the rest works — said in the body, not a reason to stop routing here (every
    // instance shares the bucket, so taking one out would take them all out).
    const degraded = [await backends.ready()].filter((part) => part !== undefined);
    const space = await disk.report().catch(() => undefined);
    if (space?.full) degraded.push('disk');
    if (failed) ctx.res.setHeader('Retry-After', '5');
    sendJson(ctx.res, failed ? 503 : 200, {
      ok: !failed,
      ...(failed ? { failed } : {}),
      ...(degraded.length ? { degraded } : {}),
      ...(space ? { disk: space } : {}),
    });
  });
  route('GET', '/metrics', async (_api, ctx) => {
    // Read from the shared queue, so any instance reports the cluster's backlog.
    const queued = await queue.queuedCount?.().catch(() => undefined);
    const space = await disk.report().catch(() => undefined);
    ctx.res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    ctx.res.end(
      metrics.render({
        reelchat_conversions_queued: { help: 'Conversion jobs waiting to run.', value: queued },
        reelchat_disk_free_bytes: {
          help: "Bytes free on the data folder's disk.",
          value: space?.freeBytes,
        },
        reelchat_disk_reserve_bytes: {
          help: 'Bytes kept free there: uploads are refused (507) below this.',
          value: space?.reserveBytes,
        },
      }),
    );
  });
}

function addApiRoutes(parts: HttpParts, options: HttpOptions, route: AddRoute): void {
  const { config, uploads } = parts;
  route('GET', '/v1/session', getSession);
  if (options.devSecret !== undefined) route('GET', '/v1/dev/token', devToken(options.devSecret));
  route('GET', EVENTS_PATH, streamEvents(parts.sse));
  route('GET', '/v1/conversations/:c/messages', listMessages);
  // Each author's new messages: a burst, then a steady rate (a person, not a script).
  const messageRate =
    config.messagesPerMinute > 0
      ? parts.rateLimits('messages', {
          capacity: config.messagesBurst,
          ratePerS: config.messagesPerMinute / 60,
        })
      : undefined;
  route('POST', '/v1/conversations/:c/messages', postMessage(messageRate));
  route('DELETE', '/v1/conversations/:c/messages/:id', deleteMessage);
  route('GET', '/v1/conversations/:c/videos', listVideos);
  route('GET', '/v1/conversations/:c/videos/:id', getVideo);
  route('PUT', '/v1/conversations/:c/videos/:id/watched', markWatched);
  route('POST', UPLOADS_PATH, async (a, ctx) =>
    uploads.create(ctx.req, ctx.res, await authenticate(a, ctx)),
  );
  route('OPTIONS', UPLOADS_PATH, (_a, ctx) => uploads.discovery(ctx.req, ctx.res));
  for (const method of ['HEAD', 'PATCH', 'DELETE']) {
    route(method, `${UPLOADS_PATH}/:id`, async (a, ctx) =>
      uploads.resume(ctx.req, ctx.res, await authenticate(a, ctx), ctx.params.id!),
    );
  }
  route('GET', '/media/:video/:file', serveMedia);
}

/** Answers one request: CORS, the route, its deadline; the request's metrics and log line. */
async function handle(
  parts: HttpParts,
  router: Router,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const requestId = requestIdOf(req.headers['x-request-id']);
  const started = process.hrtime.bigint();
  const matched = { pattern: 'unmatched' };
  res.setHeader('X-Request-Id', requestId);
  res.once('close', () => logRequest(parts, req, res, { requestId, started, ...matched }));
  try {
    const verdict = parts.cors.verdict(req);
    if (parts.cors.apply(req, res, verdict)) return;
    if (verdict === 'refused') throw new HttpError(403, 'This origin is not allowed.');
    const { path, query } = splitUrl(req.url);
    // The probes answer until the end (/readyz says the instance is stopping). An event
    // stream ends by itself with its last frame: the stop does not wait on its client.
    if (!PROBES.has(path)) parts.drain.admit(res, { wait: path !== EVENTS_PATH });
    const uploadBody =
      (req.method === 'PATCH' || req.method === 'POST') && path.startsWith(UPLOADS_PATH);
    if (!uploadBody) requestDeadline(req, res, parts.config.timeouts.requestS);
    const match = router.match(req.method ?? 'GET', path);
    if (match.kind === 'not-found') throw notFound(`No route for ${req.method} ${path}.`);
    if (match.kind === 'method-not-allowed') {
      res.setHeader('Allow', match.allow.join(', '));
      throw new HttpError(405, `${req.method} is not allowed here.`);
    }
    matched.pattern = match.pattern;
    await match.handler({ req, res, params: match.params, query, path });
  } catch (error) {
    answerError(req, res, error);
  }
}

function logRequest(
  { metrics, log }: HttpParts,
  req: IncomingMessage,
  res: ServerResponse,
  { requestId, started, pattern }: { requestId: string; started: bigint; pattern: string },
): void {
  const status = res.statusCode;
  if (status === 503 || status === 507) metrics.tryLater.inc({ status: String(status) });
  metrics.requests.inc({
    method: req.method ?? '',
    route: pattern,
    status: `${Math.floor(status / 100)}xx`,
  });
  if (req.method === 'PATCH' && pattern.startsWith(UPLOADS_PATH)) {
    metrics.uploadBytes.inc({}, Number(req.headers['content-length']) || 0);
  }
  log.event('request', {
    id: requestId,
    method: req.method,
    route: pattern,
    path: pathOnly(req.url),
    status,
    ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
    finished: res.writableFinished,
  });
}

function answerError(req: IncomingMessage, res: ServerResponse, error: unknown): void {
  // A client that hung up mid-request is not a fault of ours.
  const clientGone = (error as { code?: unknown } | null)?.code === 'ECONNRESET';
  if (isDiskFull(error)) {
    // One line, not a stack for every refused request while the disk is full.
    console.error(`reelchat: ${req.method} ${pathOnly(req.url)} refused, the disk is full`);
  } else if (!(error instanceof HttpError) && !clientGone) {
    console.error(`reelchat: ${req.method} ${req.url?.split('?')[0]} failed`, error);
  }
  const answer = error instanceof HttpError ? error : unavailable(error, res);
  // A body we did not read (too large) is not drained: close the connection after answering.
  if (!req.complete) res.setHeader('Connection', 'close');
  sendError(res, answer);
}

/**
 * 503 with Retry-After for a database that is locked by another connection longer than a
 * write waits (SQLite), cannot be reached (PostgreSQL restarting, failing over) or whose disk
 * is full (SQLITE_FULL: the write was rolled back, the file is intact); else 500.
 */
function unavailable(error: unknown, res: ServerResponse): HttpError {
  if (isDiskFull(error)) {
    if (!res.headersSent) res.setHeader('Retry-After', String(DISK_FULL_RETRY_AFTER_S));
    return new HttpError(503, "The server's storage is full; please try again later.");
  }
  const busy = isDatabaseBusy(error);
  const unreachable = !busy && isDatabaseUnreachable(error);
  if (!busy && !unreachable) return new HttpError(500, 'Something went wrong on the server.');
  if (!res.headersSent) res.setHeader('Retry-After', busy ? '2' : '5');
  return new HttpError(
    503,
    busy
      ? 'The server is busy; please try again in a moment.'
      : 'The database cannot be reached; please try again in a moment.',
  );
}

/** Why this instance is not ready (its database does not answer), or undefined when it is. */
async function readiness(ping: () => Promise<void>): Promise<string | undefined> {
  try {
    await ping();
    return undefined;
  } catch (error) {
    console.error('reelchat: readiness check failed (database)', error);
    return 'database';
  }
}

/**
 * The demo serves the browser library's demo/ and dist/: the repository's root, the folder
 * above this server package whose package.json is the `reelchat` library's.
 */
function findPackageRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && isLibrary(manifest)) return dir;
    if (dirname(dir) === dir) {
      throw new Error('The demo runs from the reelchat repository (demo/ and dist/ not found).');
    }
  }
}

function isLibrary(manifest: string): boolean {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'reelchat';
  } catch {
    return false;
  }
}
