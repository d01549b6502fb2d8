// The reference server, assembled: stores, conversion worker, tus uploads, SSE and the
// routes of docs/protocol.md on one node:http server. Tests start it in-process on port 0.
import { existsSync, readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { streamEvents } from './api/events.js';
import { authenticate, MemberLog, type ApiContext } from './api/context.js';
import { deleteMessage, listMessages, postMessage } from './api/messages.js';
import { devToken, getSession } from './api/session.js';
import { getVideo, listVideos, markWatched } from './api/videos.js';
import { MediaSigner } from './auth/media-tokens.js';
import { TokenVerifier } from './auth/tokens.js';
import type { ServerConfig } from './config.js';
import { Converter } from './convert/index.js';
import { LiveConversions, type LiveStats } from './convert/live-pool.js';
import { LiveRelay } from './convert/live-relay.js';
import { SseHub } from './events/sse.js';
import { Cors } from './http/cors.js';
import { HttpError, notFound, sendError, sendJson } from './http/errors.js';
import { serveStatic } from './http/files.js';
import { answerHeaderOverflow } from './http/header-overflow.js';
import { applyIdleTimeout, requestDeadline, serverOptions } from './limits/timeouts.js';
import { pgRateLimits } from './limits/pg-token-buckets.js';
import { memoryRateLimits } from './limits/rate-limit.js';
import { Router, splitUrl, type RequestContext } from './http/router.js';
import { RetentionSweeper } from './jobs/retention.js';
import { ConversionWorker, type VideoConverter } from './jobs/worker.js';
import { serveMedia } from './media/routes.js';
import { JsonLog, pathOnly, requestIdOf } from './observability/log.js';
import { Metrics } from './observability/metrics.js';
import { isDatabaseBusy } from './store/busy-retry.js';
import { openStore } from './store/open.js';
import { PgLiveLeases } from './store/postgres-live.js';
import { openStorage } from './storage.js';
import { UPLOAD_WRITTEN_CHANNEL } from './uploads/pg-upload-store.js';
import { Uploads, UPLOADS_PATH } from './uploads/tus.js';

export interface App {
  url: string;
  server: http.Server;
  /** Stops accepting, ends event streams and conversions, closes the database. */
  close(): Promise<void>;
  /** What the conversions while uploading did (undefined when that is off). */
  liveStats?: LiveStats;
}

export interface AppOptions {
  /** Replaces the ffmpeg converter (tests). */
  converter?: VideoConverter & { close?(): Promise<void> };
  /** Where demo/ and dist/ are (default: the package root). */
  packageRoot?: string;
  /** Where the JSON log's lines go (default: stdout). */
  logWrite?: (line: string) => void;
}

const SSE_RETRY_MS = 2_000;

export async function createApp(config: ServerConfig, options: AppOptions = {}): Promise<App> {
  const uploadsDir = join(config.dataDir, 'uploads');
  // SQLite and the in-process fan-out, or PostgreSQL shared by instances (store/open.ts);
  // upload bytes and media in the data folder, or in PostgreSQL and the bucket (storage.ts).
  const { store, queue, fanout, database, close: closeStore } = await openStore(config);
  const storage = await openStorage(config, database).catch(async (error: unknown) => {
    await closeStore();
    throw error;
  });
  const media = storage.media;
  const signer = new MediaSigner(await store.secret('media-url-key'), config.mediaTokenTtlS);
  // Kept with the data, so that every instance of scaled mode signs and checks the same tokens.
  const devSecret = config.devTokens
    ? (await store.secret('dev-token-key')).toString('hex')
    : undefined;
  if (config.devTokens) {
    console.error(
      'reelchat: dev tokens are ON — anyone can get a token at /v1/dev/token. Demo only.',
    );
  }
  const tokens = new TokenVerifier(
    { secret: config.jwtSecret ?? devSecret, publicKey: config.jwtPublicKey },
    { maxLifetimeS: config.maxTokenLifetimeS },
  );
  const members = new MemberLog(store);
  // A video whose rows are gone (unsent, expired): stop its conversion, then drop its files.
  const discardVideo = async (videoId: string) => {
    live?.cancel(videoId);
    worker.cancel(videoId);
    await media.remove(videoId);
    await uploads.discard(videoId);
  };
  const api: ApiContext = { config, store, media, signer, tokens, members, discardVideo };
  const metrics = new Metrics();
  const log = new JsonLog(
    config.log,
    { instance: `${hostname()}:${process.pid}`, role: config.role },
    options.logWrite,
  );
  const serving = config.role !== 'worker';
  const converting = config.role !== 'api';
  const cors = new Cors(config.allowedOrigins);

  const converter =
    options.converter ??
    new Converter({
      ffmpegPath: config.ffmpegPath,
      ffprobePath: config.ffprobePath,
      concurrency: config.convertConcurrency,
      maxDurationS: config.maxDurationS,
      limits: config.clipLimits,
    });
  // The worker and the uploads call each other (queue a job, discard converted bytes).
  const worker: ConversionWorker = new ConversionWorker({
    queue,
    store,
    media,
    converter,
    uploadPath: (id) => uploads.localInput(id),
    discardUpload: (id) => uploads.discard(id),
    concurrency: config.convertConcurrency,
    perOwner: config.convertPerOwner,
    onRecorded: (videoId, outcome) => {
      metrics.conversions.inc({ state: outcome.state, path: outcome.path });
      if (outcome.seconds !== undefined) {
        metrics.conversionSeconds.observe(outcome.seconds, { path: outcome.path });
      }
      log.event('job', { video: videoId, ...outcome });
    },
  });
  // Recordings converted while they upload; not when a test replaced the converter.
  const live: LiveConversions | undefined =
    config.liveConvert.max > 0 && !options.converter && converting
      ? new LiveConversions({
          ffmpegPath: config.ffmpegPath,
          ffprobePath: config.ffprobePath,
          maxDurationS: config.maxDurationS,
          limits: config.clipLimits,
          max: config.liveConvert.max,
          perOwner: config.liveConvert.perOwner,
          finishTimeoutMs: config.liveConvert.finishS * 1000,
          idleTimeoutMs: config.liveConvert.idleS * 1000,
          uploadPath: (id): string => uploads.path(id),
          outputDir: (id): string => media.outputDir(id),
          onFinished: (id, outcome) => log.event('live', { video: id, ...outcome }),
        })
      : undefined;
  // Per user, across every instance in scaled mode (else N instances would allow N× each).
  const rateLimits = database ? pgRateLimits(database) : memoryRateLimits;
  const uploads = new Uploads({
    directory: uploadsDir,
    rateLimits,
    datastore: storage.uploadBytes,
    maxUploadBytes: config.maxUploadBytes,
    expiryS: config.uploadExpiryS,
    quota: config.quota,
    store,
    media,
    cors,
    onQueued: (id) => {
      // Converted while it arrived: recorded once finished; the job waits for that. (In
      // scaled mode the live conversion runs on a worker, which learns of it by itself.)
      const converted = relay ? undefined : live?.completed(id);
      if (converted) void worker.recordConverted(id, converted);
      // An api instance converts nothing: the workers hear of the job from the queue.
      if (converting) worker.kick();
    },
    onTerminating: (id) => worker.cancel(id),
    onWritten: live && !database ? (id, owner) => live.written(id, owner) : undefined,
    onRemoving: (id) => live?.cancel(id),
    touchMember: (identity, conversation) => members.seen(identity, conversation),
  });
  // Scaled mode: the bytes reach an api instance; a worker hears of them and converts live.
  const relay =
    live && database && uploads.datastore.copyToLocal
      ? new LiveRelay({
          listen: (onId, onReconnect) => database.listen(UPLOAD_WRITTEN_CHANNEL, onId, onReconnect),
          copyToLocal: (id, path) => uploads.datastore.copyToLocal!(id, path),
          localPath: (id) => uploads.path(id),
          store,
          leases: new PgLiveLeases(database, `${hostname()}:${process.pid}`),
          pool: live,
          worker,
          leaseMs: config.liveConvert.idleS * 1000,
        })
      : undefined;
  const sse = new SseHub(store, fanout, signer, { ...config.sse, retryMs: SSE_RETRY_MS });

  type ApiHandler = (api: ApiContext, ctx: RequestContext) => Promise<void> | void;
  const router = new Router();
  const route = (method: string, pattern: string, handler: ApiHandler) =>
    router.add(method, pattern, (ctx) => handler(api, ctx));

  const pingDatabase = database
    ? () => database.ping()
    : () => store.secret('media-url-key').then(() => undefined);
  // Every role answers these three on its PORT (docs/scaling.md).
  route('GET', '/healthz', (_api, ctx) => sendJson(ctx.res, 200, { ok: true }));
  route('GET', '/readyz', async (_api, ctx) => {
    const failed = (await readiness(pingDatabase)) ?? (await storage.ready());
    if (failed) ctx.res.setHeader('Retry-After', '5');
    sendJson(ctx.res, failed ? 503 : 200, { ok: !failed, ...(failed ? { failed } : {}) });
  });
  route('GET', '/metrics', async (_api, ctx) => {
    // Read from the shared queue, so any instance reports the cluster's backlog.
    const queued = await queue.queuedCount?.().catch(() => undefined);
    ctx.res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    ctx.res.end(
      metrics.render({
        reelchat_conversions_queued: { help: 'Conversion jobs waiting to run.', value: queued },
      }),
    );
  });
  if (serving) addApiRoutes();
  function addApiRoutes(): void {
    route('GET', '/v1/session', getSession);
    if (devSecret !== undefined) route('GET', '/v1/dev/token', devToken(devSecret));
    route('GET', '/v1/events', streamEvents(sse));
    route('GET', '/v1/conversations/:c/messages', listMessages);
    // Each author's new messages: a burst, then a steady rate (a person, not a script).
    const messageRate =
      config.messagesPerMinute > 0
        ? rateLimits('messages', {
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
  metrics.gauge(
    'reelchat_event_streams_open',
    'Event streams open on this instance.',
    () => sse.openStreams,
  );
  metrics.gauge(
    'reelchat_conversions_running',
    'Conversions this instance runs now.',
    () => worker.runningCount,
  );
  if (config.demo && serving) {
    const root = options.packageRoot ?? findPackageRoot();
    route('GET', '/dist/*', (_a, ctx) =>
      serveStatic(ctx.req, ctx.res, join(root, 'dist'), ctx.params['*']!),
    );
    route('GET', '/*', (_a, ctx) =>
      serveStatic(ctx.req, ctx.res, join(root, 'demo'), ctx.params['*']!),
    );
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = requestIdOf(req.headers['x-request-id']);
    const started = process.hrtime.bigint();
    let pattern = 'unmatched';
    res.setHeader('X-Request-Id', requestId);
    res.once('close', () => {
      const status = res.statusCode;
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
    });
    try {
      const verdict = cors.verdict(req);
      if (cors.apply(req, res, verdict)) return;
      if (verdict === 'refused') throw new HttpError(403, 'This origin is not allowed.');
      const { path, query } = splitUrl(req.url);
      const uploadBody =
        (req.method === 'PATCH' || req.method === 'POST') && path.startsWith(UPLOADS_PATH);
      if (!uploadBody) requestDeadline(req, res, config.timeouts.requestS);
      const match = router.match(req.method ?? 'GET', path);
      if (match.kind === 'not-found') throw notFound(`No route for ${req.method} ${path}.`);
      if (match.kind === 'method-not-allowed') {
        res.setHeader('Allow', match.allow.join(', '));
        throw new HttpError(405, `${req.method} is not allowed here.`);
      }
      pattern = match.pattern;
      await match.handler({ req, res, params: match.params, query, path });
    } catch (error) {
      // A client that hung up mid-request is not a fault of ours.
      const clientGone = (error as { code?: unknown } | null)?.code === 'ECONNRESET';
      if (!(error instanceof HttpError) && !clientGone) {
        console.error(`reelchat: ${req.method} ${req.url?.split('?')[0]} failed`, error);
      }
      // The database stayed locked by another connection longer than a write waits.
      const busy = !(error instanceof HttpError) && isDatabaseBusy(error);
      if (busy && !res.headersSent) res.setHeader('Retry-After', '2');
      const answer =
        error instanceof HttpError
          ? error
          : busy
            ? new HttpError(503, 'The server is busy; please try again in a moment.')
            : new HttpError(500, 'Something went wrong on the server.');
      // A body we did not read (too large) is not drained: close the connection after answering.
      if (!req.complete) res.setHeader('Connection', 'close');
      sendError(res, answer);
    }
  };

  const server = http.createServer(
    serverOptions(config.timeouts),
    // handle() answers its own errors; this catch is for a failure while answering one.
    (req, res) =>
      void handle(req, res).catch((error: unknown) => {
        console.error('reelchat: answering a request failed', error);
        res.destroy();
      }),
  );
  applyIdleTimeout(server, config.timeouts);
  answerHeaderOverflow(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  if (converting) await worker.start();
  await relay?.start();
  // Workers of scaled mode learn of jobs queued by api instances by looking every second
  // (one claim query); a NOTIFY from completeUpload would make that sooner, not correct.
  const jobPoll = converting && database ? setInterval(() => worker.kick(), 1000) : undefined;
  jobPoll?.unref();
  const sweepStale = () =>
    void uploads
      .removeStale()
      .catch((error) => console.error('reelchat: removing stale uploads failed', error));
  sweepStale();
  const sweeper = setInterval(sweepStale, Math.min(config.uploadExpiryS, 3600) * 1000);
  sweeper.unref();
  const retention = config.retentionDays
    ? new RetentionSweeper({ store, days: config.retentionDays, discardVideo })
    : undefined;
  const sweepOld = () =>
    void retention
      ?.sweep()
      .catch((error) => console.error('reelchat: the retention sweep failed', error));
  sweepOld();
  const retentionTimer = retention && setInterval(sweepOld, config.retentionSweepS * 1000);
  retentionTimer?.unref();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(sweeper);
      clearInterval(retentionTimer);
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      sse.closeAll();
      clearInterval(jobPoll);
      await relay?.close();
      await live?.close();
      await worker.close();
      await (options.converter ? options.converter.close?.() : (converter as Converter).close());
      // Connections whose last response (an event stream) just ended are idle now.
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 2_000);
      await stopped;
      clearTimeout(force);
      await retention?.settled();
      await closeStore();
      await storage.close();
    })());

  return { url, server, close, liveStats: live?.stats };
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
