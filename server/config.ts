// The reference server's configuration, read once from the environment and checked,
// so a typo fails at start with a plain message instead of at the first request.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_CLIP_LIMITS, type ClipLimits } from './convert/types.js';
import type { LogMode } from './observability/log.js';

/** What one instance does in scaled mode: serve HTTP, convert, or both (docs/scaling.md). */
export type ServerRole = 'all' | 'api' | 'worker';

/** An S3-compatible bucket for converted media (credentials: the AWS SDK's default chain). */
export interface S3Config {
  bucket: string;
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
}

export interface ServerConfig {
  port: number;
  /** Interface to listen on; loopback unless HOST says otherwise. */
  host: string;
  dataDir: string;
  /** HS256 secret shared with the host site (or undefined when a public key is used). */
  jwtSecret?: string;
  /** EdDSA public key (PEM, SPKI) of the host site. */
  jwtPublicKey?: string;
  /** Demo only: GET /v1/dev/token hands out tokens. */
  devTokens: boolean;
  maxUploadBytes: number;
  /**
   * Bytes kept free on the data folder's disk (SQLite, conversions, info files): uploads
   * are refused with 507 once their bytes would eat into it.
   */
  diskReserveBytes: number;
  maxDurationS: number;
  maxText: number;
  /** Origins whose pages may call the API and load media (CORS). */
  allowedOrigins: string[];
  /** Lifetime of the signed query tokens in media URLs. */
  mediaTokenTtlS: number;
  ffmpegPath: string;
  ffprobePath: string;
  /** Conversions at once. */
  convertConcurrency: number;
  /** Conversions of one owner at once; their other clips wait while other owners' run. */
  convertPerOwner: number;
  /** What one clip may cost ffmpeg: picture, pixel budget, output size, memory. */
  clipLimits: ClipLimits;
  /**
   * Converting recordings while they upload (docs/conversion.md): at most `max` at once (0:
   * off), `perOwner` of one owner; each has `finishS` after the last byte to be done and
   * gives up after `idleS` without new bytes (the stored bytes are then converted as usual).
   */
  liveConvert: { max: number; perOwner: number; finishS: number; idleS: number };
  /** How long a database write waits for another connection's lock before failing. */
  dbBusyWaitMs: number;
  /** PostgreSQL instead of SQLite (scaled mode, REELCHAT_DATABASE_URL), or undefined. */
  databaseUrl?: string;
  /** Scaled mode: how long a conversion's lease lasts without its worker's heartbeat. */
  jobLeaseS: number;
  /** Serve the demo pages and the built library at / (npm start). */
  demo: boolean;
  /** Unfinished uploads are removed this long after they were created. */
  uploadExpiryS: number;
  /** Tokens whose exp is further than this from now are refused (401). */
  maxTokenLifetimeS: number;
  /** Event streams: heartbeat interval, bytes queued for a client before it is dropped,
   * open streams per user. */
  sse: { heartbeatMs: number; maxBufferedBytes: number; maxStreamsPerUser: number };
  /** Per-user upload quotas (0 = no limit); see docs/protocol.md, Limits. */
  quota: {
    /** Unfinished uploads one user may have at once. */
    unfinishedUploads: number;
    /** Bytes in one user's unfinished uploads: promised Upload-Length, or written so far. */
    unfinishedBytes: number;
    /** Bytes one user keeps: ready and waiting clips plus unfinished uploads. */
    storedBytes: number;
    /** Upload creations per hour, sustained (token bucket)… */
    uploadsPerHour: number;
    /** …and at once (the bucket's size). */
    uploadsBurst: number;
  };
  /** Messages one user may post at once, then `messagesPerMinute` sustained (0 = no limit). */
  messagesBurst: number;
  messagesPerMinute: number;
  /** Messages and clips older than this many days are removed (undefined: kept for ever). */
  retentionDays?: number;
  /** How often the retention sweep runs, in seconds. */
  retentionSweepS: number;
  /** Socket and request timeouts of the HTTP server, in seconds (0 = none). */
  /** `api` serves HTTP and converts nothing; `worker` only converts (and answers health). */
  role: ServerRole;
  /** Converted media in this bucket instead of dataDir/media (needs REELCHAT_DATABASE_URL). */
  s3?: S3Config;
  /** One JSON line per request and job on stdout: on by default in scaled mode. */
  log: LogMode;
  timeouts: {
    /** Until the request's headers are complete (slowloris). */
    headersS: number;
    /** Until a request's body is complete — every request but upload bodies. */
    requestS: number;
    /** A socket with no bytes either way this long is closed (a stalled upload too). */
    idleS: number;
    /** An idle keep-alive connection waits this long for its next request. */
    keepAliveS: number;
    /** A graceful stop waits this long at most for the requests in flight (a PATCH) to end. */
    drainS: number;
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`${name} must be a whole number of at least ${min}, not "${raw}".`);
  }
  return value;
}

export function readConfig(
  env: NodeJS.ProcessEnv = process.env,
  argv: string[] = [],
): ServerConfig {
  const { devTokens, demo, jwtSecret, jwtPublicKey } = readKeys(env, argv);
  return {
    port: integer(env, 'PORT', 8080),
    host: env.HOST || '127.0.0.1',
    dataDir: dataDirOf(env),
    jwtSecret,
    jwtPublicKey,
    devTokens: devTokens || demo,
    maxUploadBytes: integer(env, 'REELCHAT_MAX_UPLOAD_BYTES', 200 * 1024 * 1024, 1),
    diskReserveBytes: integer(env, 'REELCHAT_DISK_RESERVE_BYTES', 128 * 1024 * 1024),
    maxDurationS: integer(env, 'REELCHAT_MAX_DURATION_S', 300, 1),
    maxText: integer(env, 'REELCHAT_MAX_TEXT', 4000, 1),
    allowedOrigins: (env.REELCHAT_ALLOWED_ORIGINS || '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    mediaTokenTtlS: integer(env, 'REELCHAT_MEDIA_TOKEN_TTL_S', 3600, 1),
    ffmpegPath: env.FFMPEG_PATH || 'ffmpeg',
    ffprobePath: env.FFPROBE_PATH || 'ffprobe',
    convertConcurrency: integer(env, 'REELCHAT_CONVERT_CONCURRENCY', availableParallelism(), 1),
    convertPerOwner: integer(env, 'REELCHAT_CONVERT_PER_OWNER', 1, 1),
    clipLimits: readClipLimits(env),
    liveConvert: readLiveConvert(env),
    dbBusyWaitMs: integer(env, 'REELCHAT_DB_BUSY_WAIT_MS', 10_000),
    databaseUrl: databaseUrlOf(env),
    jobLeaseS: integer(env, 'REELCHAT_JOB_LEASE_S', 30, 1),
    demo,
    uploadExpiryS: integer(env, 'REELCHAT_UPLOAD_EXPIRY_S', 24 * 3600, 1),
    maxTokenLifetimeS: integer(env, 'REELCHAT_MAX_TOKEN_LIFETIME_S', 24 * 3600, 1),
    sse: readSse(env),
    quota: readQuota(env),
    messagesBurst: integer(env, 'REELCHAT_RATE_MESSAGES_BURST', 30, 1),
    messagesPerMinute: integer(env, 'REELCHAT_RATE_MESSAGES_PER_MINUTE', 60),
    retentionDays: env.REELCHAT_RETENTION_DAYS
      ? integer(env, 'REELCHAT_RETENTION_DAYS', 0, 1)
      : undefined,
    retentionSweepS: integer(env, 'REELCHAT_RETENTION_SWEEP_S', 3600, 1),
    ...readScaledConfig(env),
    timeouts: readTimeouts(env),
  };
}

/** The keys the bearer tokens are checked with, or the demo's dev tokens (never both). */
function readKeys(env: NodeJS.ProcessEnv, argv: string[]) {
  const devTokens = env.REELCHAT_DEV_TOKENS === '1';
  const demo = argv.includes('--demo');
  const jwtSecret = env.REELCHAT_JWT_SECRET || undefined;
  const jwtPublicKey = env.REELCHAT_JWT_PUBLIC_KEY || undefined;
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    throw new ConfigError('REELCHAT_JWT_SECRET must be at least 32 characters.');
  }
  if ((devTokens || demo) && (jwtSecret || jwtPublicKey)) {
    // Dev tokens are handed to anyone who asks: with the site's real key they would let
    // anyone be anyone.
    throw new ConfigError(
      'Dev tokens (REELCHAT_DEV_TOKENS=1 or --demo) cannot be combined with REELCHAT_JWT_SECRET ' +
        'or REELCHAT_JWT_PUBLIC_KEY: unset one of them.',
    );
  }
  if (!jwtSecret && !jwtPublicKey && !devTokens && !demo) {
    throw new ConfigError(
      'Set REELCHAT_JWT_SECRET (HS256, shared with your site) or REELCHAT_JWT_PUBLIC_KEY (EdDSA), ' +
        'or REELCHAT_DEV_TOKENS=1 for a local demo.',
    );
  }
  return { devTokens, demo, jwtSecret, jwtPublicKey };
}

function readLiveConvert(env: NodeJS.ProcessEnv): ServerConfig['liveConvert'] {
  return {
    max: integer(env, 'REELCHAT_LIVE_CONVERT', availableParallelism()),
    perOwner: integer(env, 'REELCHAT_LIVE_CONVERT_PER_OWNER', 1, 1),
    finishS: integer(env, 'REELCHAT_LIVE_FINISH_S', 10, 1),
    idleS: integer(env, 'REELCHAT_LIVE_IDLE_S', 30, 1),
  };
}

function readSse(env: NodeJS.ProcessEnv): ServerConfig['sse'] {
  return {
    heartbeatMs: integer(env, 'REELCHAT_SSE_HEARTBEAT_MS', 15_000, 100),
    maxBufferedBytes: integer(env, 'REELCHAT_SSE_MAX_BUFFERED_BYTES', 1024 * 1024, 64 * 1024),
    maxStreamsPerUser: integer(env, 'REELCHAT_SSE_MAX_STREAMS_PER_USER', 32, 1),
  };
}

function readQuota(env: NodeJS.ProcessEnv): ServerConfig['quota'] {
  return {
    unfinishedUploads: integer(env, 'REELCHAT_QUOTA_UNFINISHED_UPLOADS', 10),
    unfinishedBytes: integer(env, 'REELCHAT_QUOTA_UNFINISHED_BYTES', 1024 ** 3),
    storedBytes: integer(env, 'REELCHAT_QUOTA_STORED_BYTES', 5 * 1024 ** 3),
    uploadsPerHour: integer(env, 'REELCHAT_QUOTA_UPLOADS_PER_HOUR', 200),
    uploadsBurst: integer(env, 'REELCHAT_QUOTA_UPLOADS_BURST', 20, 1),
  };
}

function readTimeouts(env: NodeJS.ProcessEnv): ServerConfig['timeouts'] {
  return {
    headersS: integer(env, 'REELCHAT_HEADERS_TIMEOUT_S', 30, 1),
    requestS: integer(env, 'REELCHAT_REQUEST_TIMEOUT_S', 60),
    idleS: integer(env, 'REELCHAT_IDLE_TIMEOUT_S', 60),
    keepAliveS: integer(env, 'REELCHAT_KEEP_ALIVE_TIMEOUT_S', 10, 1),
    drainS: integer(env, 'REELCHAT_DRAIN_S', 10),
  };
}

/** The data folder (REELCHAT_DATA_DIR), also for commands that need nothing else (erase-user). */
export function dataDirOf(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.REELCHAT_DATA_DIR || './data');
}

/** The bucket of scaled mode, if configured (also for commands such as erase-user). */
export function s3ConfigOf(env: NodeJS.ProcessEnv = process.env): S3Config | undefined {
  return readScaledConfig(env).s3;
}

/** Role, bucket and logs: the parts of scaled mode that need PostgreSQL to be shared. */
function readScaledConfig(env: NodeJS.ProcessEnv): Pick<ServerConfig, 'role' | 's3' | 'log'> {
  const scaled = Boolean(env.REELCHAT_DATABASE_URL);
  const role = (env.REELCHAT_ROLE || 'all') as ServerRole;
  if (!['all', 'api', 'worker'].includes(role)) {
    throw new ConfigError(`REELCHAT_ROLE must be all, api or worker, not "${env.REELCHAT_ROLE}".`);
  }
  if (role !== 'all' && !scaled) {
    throw new ConfigError(
      `REELCHAT_ROLE=${role} needs REELCHAT_DATABASE_URL: instances share work through PostgreSQL.`,
    );
  }
  const bucket = env.REELCHAT_S3_BUCKET || undefined;
  if (bucket !== undefined && !scaled) {
    throw new ConfigError(
      'REELCHAT_S3_BUCKET needs REELCHAT_DATABASE_URL: unfinished uploads are kept in PostgreSQL.',
    );
  }
  if (bucket !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(`REELCHAT_S3_BUCKET is not a bucket name: "${bucket}".`);
  }
  const endpoint = env.REELCHAT_S3_ENDPOINT || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint)) {
    throw new ConfigError(`REELCHAT_S3_ENDPOINT must be an http(s) URL, not "${endpoint}".`);
  }
  const log = (env.REELCHAT_LOG || (scaled ? 'json' : 'off')) as LogMode;
  if (log !== 'json' && log !== 'off') {
    throw new ConfigError(`REELCHAT_LOG must be json or off, not "${env.REELCHAT_LOG}".`);
  }
  return {
    role,
    s3: bucket
      ? {
          bucket,
          endpoint,
          region: env.REELCHAT_S3_REGION || 'us-east-1',
          forcePathStyle: env.REELCHAT_S3_FORCE_PATH_STYLE === '1',
        }
      : undefined,
    log,
  };
}

/** REELCHAT_DATABASE_URL, when set: a postgres:// (or postgresql://) connection URL. */
export function databaseUrlOf(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = env.REELCHAT_DATABASE_URL;
  if (raw === undefined || raw === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') || !url.host) {
    // Not echoed: the URL may carry a password.
    throw new ConfigError(
      'REELCHAT_DATABASE_URL must be a PostgreSQL URL: postgres://user@host:port/database.',
    );
  }
  return raw;
}

/** What one clip may cost ffmpeg; defaults and their reasons in server/convert/types.ts. */
function readClipLimits(env: NodeJS.ProcessEnv): ClipLimits {
  const defaults = DEFAULT_CLIP_LIMITS;
  const mb = 1024 * 1024;
  return {
    maxSide: integer(env, 'REELCHAT_MAX_VIDEO_SIDE', defaults.maxSide, 16),
    maxPixelsPerClip: integer(env, 'REELCHAT_MAX_PIXELS_PER_CLIP', defaults.maxPixelsPerClip, 1),
    maxFrameRate: integer(env, 'REELCHAT_MAX_FRAME_RATE', defaults.maxFrameRate, 1),
    maxOutputShortSide: integer(
      env,
      'REELCHAT_MAX_OUTPUT_SHORT_SIDE',
      defaults.maxOutputShortSide,
      16,
    ),
    maxMemoryBytes:
      integer(env, 'REELCHAT_MAX_CONVERT_MEMORY_MB', defaults.maxMemoryBytes / mb, 64) * mb,
  };
}
