// The composition root: reads the configuration once and builds every part of the server in
// the order they depend on each other — backends, keys, uploads, conversion, event streams,
// the API — handing each its collaborators through its constructor, then serves them over
// HTTP (app.ts) and starts the background work. The picture is in docs/design.md.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MemberLog, type ApiContext } from './api/context.js';
import { serveHttp, type HttpParts } from './app.js';
import { MediaSigner } from './auth/media-tokens.js';
import { TokenVerifier } from './auth/tokens.js';
import type { ServerConfig } from './config.js';
import { Converter } from './convert/index.js';
import { LiveConversions, type LiveStats } from './convert/live-pool.js';
import { LiveRelay } from './jobs/live-relay.js';
import { LivePlaylists } from './events/live-playlists.js';
import { SseHub } from './events/sse.js';
import { Cors } from './http/cors.js';
import { Drain } from './http/drain.js';
import { RetentionSweeper } from './jobs/retention.js';
import { UploadConversion } from './jobs/upload-conversion.js';
import { ConversionWorker, type VideoConverter } from './jobs/worker.js';
import { pgRateLimits } from './limits/pg-token-buckets.js';
import { memoryRateLimits, type RateLimits } from './limits/rate-limit.js';
import { DiskSpace } from './media/disk-space.js';
import { JsonLog } from './observability/log.js';
import { Metrics } from './observability/metrics.js';
import { openBackends, type Backends } from './backends.js';
import { PgLiveLeases } from './store/postgres-live.js';
import { UploadNotices } from './uploads/notices.js';
import { UPLOAD_WRITTEN_CHANNEL } from './uploads/pg-upload-store.js';
import { Uploads } from './uploads/tus.js';
import type http from 'node:http';

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
/** How long a stopping instance waits for its event streams' clients to read their end. */
const SSE_END_GRACE_MS = 1_000;

/** The parts that convert uploads into media. */
interface Conversion {
  converter: VideoConverter & { close?(): Promise<void> };
  worker: ConversionWorker;
  live?: LiveConversions;
  relay?: LiveRelay;
}

/** What the parts share that is not a backend: the job log, metrics, origins, rate limits. */
interface Common {
  config: ServerConfig;
  backends: Backends;
  metrics: Metrics;
  log: JsonLog;
  cors: Cors;
  rateLimits: RateLimits;
  members: MemberLog;
  /** Whether this instance serves the API (not a worker-only instance). */
  serving: boolean;
  /** Whether this instance converts (not an api-only instance). */
  converting: boolean;
  /** The data folder's disk: uploads, SQLite, converted media or a worker's scratch. */
  disk: DiskSpace;
}

export async function createApp(config: ServerConfig, options: AppOptions = {}): Promise<App> {
  const backends = await openBackends(config);
  const common = commonParts(config, options, backends);
  const keys = await openKeys(config, backends);
  const notices = new UploadNotices();
  const uploads = buildUploads(common, notices);
  const livePlaylists = new LivePlaylists();
  const conversion = buildConversion(common, options, uploads, livePlaylists);
  notices.listen(
    new UploadConversion({
      worker: conversion.worker,
      live: conversion.live,
      relayed: conversion.relay !== undefined,
      bytesHere: backends.database === undefined,
      converting: common.converting,
    }),
  );
  // A video whose rows are gone (unsent, expired): stop its conversion, then drop its files.
  const discardVideo = async (videoId: string): Promise<void> => {
    conversion.live?.cancel(videoId);
    conversion.worker.cancel(videoId);
    livePlaylists.end(videoId);
    await backends.media.remove(videoId);
    await uploads.discard(videoId);
  };
  const { store, media, fanout } = backends;
  const api: ApiContext = {
    ...keys,
    config,
    store,
    media,
    members: common.members,
    discardVideo,
    live: livePlaylists,
  };
  const sse = new SseHub(store, fanout, keys.signer, { ...config.sse, retryMs: SSE_RETRY_MS });
  const drain = new Drain();
  const parts: HttpParts = { ...common, api, uploads, sse, worker: conversion.worker, drain };
  const surface = await serveHttp(parts, { devSecret: keys.devSecret, ...options });
  const background = await startBackground(common, conversion, uploads, discardVideo);
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= drainRequests(drain, sse, config.timeouts.drainS)
      .then(() =>
        surface.close(async () => {
          background.stopTimers();
          sse.closeAll();
          await stopConversion(conversion);
        }),
      )
      .then(async () => {
        await background.settled();
        await backends.close();
      }));
  return { url: surface.url, server: surface.server, close, liveStats: conversion.live?.stats };
}

/**
 * A graceful stop's first step: event streams told to reconnect elsewhere, new requests
 * refused (503), the requests in flight given up to `drainS` to end (docs/scaling.md).
 */
async function drainRequests(drain: Drain, sse: SseHub, drainS: number): Promise<void> {
  const started = Date.now();
  const inFlight = drain.inFlightCount;
  const streams = sse.openStreams;
  const grace = Math.min(drainS * 1000, SSE_END_GRACE_MS);
  const [cut] = await Promise.all([
    drain.settle(drainS * 1000),
    Promise.race([sse.endAll(), new Promise((resolve) => setTimeout(resolve, grace).unref())]),
  ]);
  if (inFlight > 0 || streams > 0) {
    console.error(
      `reelchat: stopping: ${streams} event streams told to reconnect elsewhere; ` +
        `${inFlight - cut} of ${inFlight} requests in flight ended in ${Date.now() - started} ms` +
        (cut > 0 ? `, ${cut} cut after REELCHAT_DRAIN_S=${drainS}` : ''),
    );
  }
}

function commonParts(config: ServerConfig, options: AppOptions, backends: Backends): Common {
  const log = new JsonLog(
    config.log,
    { instance: `${hostname()}:${process.pid}`, role: config.role },
    options.logWrite,
  );
  // Per user, across every instance in scaled mode (else N instances would allow N× each).
  const rateLimits = backends.database ? pgRateLimits(backends.database) : memoryRateLimits;
  return {
    config,
    backends,
    metrics: new Metrics(),
    log,
    cors: new Cors(config.allowedOrigins),
    rateLimits,
    members: new MemberLog(backends.store),
    serving: config.role !== 'worker',
    converting: config.role !== 'api',
    disk: new DiskSpace(config.dataDir, config.diskReserveBytes),
  };
}

/** The media URLs' signer, the bearer tokens' verifier and, in the demo, the dev tokens' key. */
async function openKeys(config: ServerConfig, { store }: Backends) {
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
  return { signer, tokens, devSecret };
}

function buildUploads(common: Common, notices: UploadNotices): Uploads {
  const { config, backends } = common;
  return new Uploads({
    directory: join(config.dataDir, 'uploads'),
    rateLimits: common.rateLimits,
    datastore: backends.uploadBytes,
    // Bytes kept on this disk (embedded mode); PostgreSQL keeps scaled mode's.
    disk: backends.uploadBytes ? undefined : common.disk,
    maxUploadBytes: config.maxUploadBytes,
    expiryS: config.uploadExpiryS,
    quota: config.quota,
    store: backends.store,
    media: backends.media,
    cors: common.cors,
    onQueued: (id) => notices.queued(id),
    onTerminating: (id) => notices.terminating(id),
    onWritten: (id, owner, live) => notices.written(id, owner, live),
    // Shared live only where one process converts live and serves (docs/protocol.md, "Live"):
    // a live take is `live` from its creation, so it must be converted so.
    liveSharing: backends.database === undefined && config.liveConvert.max > 0 && common.converting,
    onRemoving: (id) => notices.removing(id),
    touchMember: (identity, conversation) => common.members.seen(identity, conversation),
  });
}

/** The converter, the job worker and, unless a test replaced the converter, the live pool. */
function buildConversion(
  common: Common,
  options: AppOptions,
  uploads: Uploads,
  livePlaylists: LivePlaylists,
): Conversion {
  const { config, backends, metrics, log } = common;
  const tools = { ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath };
  const clips = { maxDurationS: config.maxDurationS, limits: config.clipLimits };
  const converter =
    options.converter ??
    new Converter({ ...tools, ...clips, concurrency: config.convertConcurrency });
  const worker = new ConversionWorker({
    queue: backends.queue,
    store: backends.store,
    media: backends.media,
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
      // A shared take is ready (or failed): its files are served as any video's now.
      livePlaylists.end(videoId);
    },
  });
  countRetries(common, worker);
  if (config.liveConvert.max === 0 || options.converter || !common.converting) {
    return { converter, worker };
  }
  // Recordings converted while they upload.
  const live = new LiveConversions({
    ...tools,
    ...clips,
    max: config.liveConvert.max,
    perOwner: config.liveConvert.perOwner,
    finishTimeoutMs: config.liveConvert.finishS * 1000,
    idleTimeoutMs: config.liveConvert.idleS * 1000,
    uploadPath: (id): string => uploads.path(id),
    outputDir: (id): string => backends.media.outputDir(id),
    onFinished: (id, outcome) => {
      log.event('live', { video: id, ...outcome });
      // Gave up: the take is converted from its stored bytes; viewers wait for ready.
      if (!outcome.used) livePlaylists.end(id);
    },
    onPlaylist: (id, text, dir) => {
      const first = livePlaylists.get(id) === undefined;
      livePlaylists.publish(id, text, dir);
      // Its first segment is out. A take is `live` from its upload's creation; this marks
      // one created before that was so (an upload older than this server version).
      if (first) {
        backends.store.markVideoLive(id).catch((error: unknown) => {
          console.error(`reelchat: marking ${id} live failed`, error);
        });
      }
    },
  });
  return { converter, worker, live, relay: buildRelay(common, uploads, live, worker) };
}

/** The bucket's retries in /metrics (what the 503s and 507s given are, app.ts counts). */
function countRetries({ backends, metrics }: Common, worker: ConversionWorker): void {
  const { objects } = backends;
  if (!objects) return;
  metrics.countOf(
    'reelchat_storage_put_retries_total',
    'Writes of converted files sent again after the bucket was unavailable.',
    () => objects.stats.putRetries,
  );
  metrics.countOf(
    'reelchat_storage_unavailable_total',
    'Requests to the bucket that failed as unavailable (after their retries).',
    () => objects.stats.unavailable,
  );
  metrics.countOf(
    'reelchat_storage_waits_total',
    'Tries a conversion made again while the bucket was unavailable (publishing, clearing).',
    () => worker.storageRetries,
  );
}

/** Scaled mode: the bytes reach an api instance; a worker hears of them and converts live. */
function buildRelay(
  { config, backends }: Common,
  uploads: Uploads,
  live: LiveConversions,
  worker: ConversionWorker,
): LiveRelay | undefined {
  const { database, store } = backends;
  const copyToLocal = uploads.datastore.copyToLocal?.bind(uploads.datastore);
  if (!database || !copyToLocal) return undefined;
  return new LiveRelay({
    listen: (onId, onReconnect) => database.listen(UPLOAD_WRITTEN_CHANNEL, onId, onReconnect),
    copyToLocal,
    localPath: (id) => uploads.path(id),
    store,
    leases: new PgLiveLeases(database, `${hostname()}:${process.pid}`),
    pool: live,
    worker,
    leaseMs: config.liveConvert.idleS * 1000,
  });
}

/**
 * Starts the worker and the relay, and the timers: the job poll of scaled mode, the stale
 * uploads' sweep and the retention sweep.
 */
async function startBackground(
  { config, backends, converting }: Common,
  { worker, relay }: Conversion,
  uploads: Uploads,
  discardVideo: (videoId: string) => Promise<void>,
) {
  if (converting) await worker.start();
  await relay?.start();
  // Workers of scaled mode learn of jobs queued by api instances by looking every second
  // (one claim query); a NOTIFY from completeUpload would make that sooner, not correct.
  const jobPoll =
    converting && backends.database ? setInterval(() => worker.kick(), 1000) : undefined;
  jobPoll?.unref();
  const sweepStale = () =>
    void uploads
      .removeStale()
      .catch((error) => console.error('reelchat: removing stale uploads failed', error));
  sweepStale();
  const sweeper = setInterval(sweepStale, Math.min(config.uploadExpiryS, 3600) * 1000);
  sweeper.unref();
  const retention = config.retentionDays
    ? new RetentionSweeper({ store: backends.store, days: config.retentionDays, discardVideo })
    : undefined;
  const sweepOld = () =>
    void retention
      ?.sweep()
      .catch((error) => console.error('reelchat: the retention sweep failed', error));
  sweepOld();
  const retentionTimer = retention && setInterval(sweepOld, config.retentionSweepS * 1000);
  retentionTimer?.unref();
  return {
    stopTimers(): void {
      clearInterval(sweeper);
      clearInterval(retentionTimer);
      clearInterval(jobPoll);
    },
    /** Resolves once no retention sweep runs (before the database closes). */
    settled: async () => retention?.settled(),
  };
}

async function stopConversion({ relay, live, worker, converter }: Conversion): Promise<void> {
  await relay?.close();
  await live?.close();
  await worker.close();
  await converter.close?.();
}
