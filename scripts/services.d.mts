// Types for scripts/services.mjs, for the scaled-mode tests (TypeScript).

export interface ServicesEnv {
  REELCHAT_TEST_DATABASE_URL: string;
  REELCHAT_S3_ENDPOINT: string;
  REELCHAT_S3_REGION: string;
  REELCHAT_S3_FORCE_PATH_STYLE: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  /** Exists when startServices resolves. */
  REELCHAT_TEST_S3_BUCKET: string;
}

export interface Services {
  env: ServicesEnv;
  dir: string;
  /** How long the start took. */
  seconds: number;
  /** Kills what was started and removes its data. */
  stop(): Promise<void>;
}

export const DEFAULT_DIR: string;

/** No dir: a temporary folder, removed by stop(). Killed at exit unless keepRunning. */
export function startServices(options?: { dir?: string; keepRunning?: boolean }): Promise<Services>;

export function stopServices(dir?: string): Promise<boolean>;
