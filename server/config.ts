// The reference server's configuration, read once from the environment and checked,
// so a typo fails at start with a plain message instead of at the first request.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';

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
  /** Serve the demo pages and the built library at / (npm start). */
  demo: boolean;
  /** Unfinished uploads are removed this long after they were created. */
  uploadExpiryS: number;
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
  return {
    port: integer(env, 'PORT', 8080),
    host: env.HOST || '127.0.0.1',
    dataDir: resolve(env.REELCHAT_DATA_DIR || './data'),
    jwtSecret,
    jwtPublicKey,
    devTokens: devTokens || demo,
    maxUploadBytes: integer(env, 'REELCHAT_MAX_UPLOAD_BYTES', 200 * 1024 * 1024, 1),
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
    demo,
    uploadExpiryS: integer(env, 'REELCHAT_UPLOAD_EXPIRY_S', 24 * 3600, 1),
  };
}
