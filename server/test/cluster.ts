// Scaled mode for tests: N `api` instances and M `worker` instances as child processes over
// one fresh PostgreSQL database and one fresh bucket (from the services scripts/services.mjs
// started, see scripts/with-services.mjs), behind a round-robin proxy. Instances can be
// killed (-9) and replaced, as a load balancer's pool would see them.
import { startRoundRobinProxy } from '../../scripts/round-robin-proxy.mjs';
import { S3ObjectStore } from '../media/s3-object-store.js';
import { createTestDatabase } from './pg-test-database.js';
import { signToken } from '../auth/tokens.js';
import { SECRET, startChildServer, type ChildServer } from './helpers.js';

export interface Cluster {
  /** The proxy's URL: what clients use. */
  url: string;
  apis: ChildServer[];
  workers: ChildServer[];
  /** The database URL and bucket the instances share. */
  databaseUrl: string;
  bucket: string;
  objects: S3ObjectStore;
  /** Requests the proxy sent to each api instance, in order. */
  served: number[];
  token(user: string, conversations: string[], name?: string): Promise<string>;
  /** kill -9 of one instance (it stays in the proxy's pool until replaced). */
  kill(instance: ChildServer): void;
  /** Starts a new instance of the role in place of `old` (the proxy then sends to it). */
  replace(old: ChildServer): Promise<ChildServer>;
  /**
   * A deploy's stop of an api instance: out of the proxy's pool (as a balancer's endpoints
   * update) and SIGTERM at once. Resolves with its exit code once it has exited.
   */
  stopGracefully(api: ChildServer): Promise<number | null>;
  /** Starts one more instance of `role` (not behind the proxy when a worker). */
  add(role: 'api' | 'worker'): Promise<ChildServer>;
  stop(): Promise<void>;
}

/** The services' environment, or a loud failure: scaled tests never pass without them. */
export function servicesEnv(): { serverUrl: string; s3: Record<string, string> } {
  const serverUrl = process.env.REELCHAT_TEST_DATABASE_URL;
  const endpoint = process.env.REELCHAT_S3_ENDPOINT;
  if (!serverUrl || !endpoint || !process.env.REELCHAT_TEST_S3_BUCKET) {
    throw new Error(
      'Scaled-mode tests need PostgreSQL and Swift: run them through scripts/with-services.mjs ' +
        '(npm run test:server does), or `eval "$(node scripts/services.mjs start)"` first.',
    );
  }
  const s3: Record<string, string> = {};
  for (const name of [
    'REELCHAT_S3_ENDPOINT',
    'REELCHAT_S3_REGION',
    'REELCHAT_S3_FORCE_PATH_STYLE',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'REELCHAT_TEST_S3_BUCKET',
  ]) {
    if (process.env[name]) s3[name] = process.env[name]!;
  }
  return { serverUrl, s3 };
}

export async function startCluster({
  apis = 2,
  workers = 1,
  env = {},
}: { apis?: number; workers?: number; env?: Record<string, string> } = {}): Promise<Cluster> {
  const { s3 } = servicesEnv();
  const database = await createTestDatabase('reelchat_cluster');
  // One bucket for every cluster of a run: video ids are unique, and the services are thrown away.
  const bucket = s3.REELCHAT_TEST_S3_BUCKET!;
  const objects = new S3ObjectStore({
    bucket,
    endpoint: s3.REELCHAT_S3_ENDPOINT,
    region: s3.REELCHAT_S3_REGION ?? 'us-east-1',
    forcePathStyle: true,
  });
  const { REELCHAT_TEST_S3_BUCKET: _bucket, ...s3Env } = s3;
  const shared = {
    ...s3Env,
    REELCHAT_DATABASE_URL: database.url,
    REELCHAT_S3_BUCKET: bucket,
    REELCHAT_LOG: 'off',
    ...env,
  };
  const start = (role: 'api' | 'worker') => startChildServer({ ...shared, REELCHAT_ROLE: role });
  // The first instance migrates alone, so the others' start is not a test of the lock.
  const first = await start('api');
  const apiList = [
    first,
    ...(await Promise.all(Array.from({ length: apis - 1 }, () => start('api')))),
  ];
  const workerList = await Promise.all(Array.from({ length: workers }, () => start('worker')));
  const proxy = await startRoundRobinProxy(apiList.map((api) => api.url));

  const cluster: Cluster = {
    url: proxy.url,
    apis: apiList,
    workers: workerList,
    databaseUrl: database.url,
    bucket,
    objects,
    served: proxy.served,
    token: (user, conversations, name = user) => signToken(SECRET, { user, name, conversations }),
    kill(instance) {
      instance.child.kill('SIGKILL');
    },
    async replace(old) {
      const isApi = cluster.apis.includes(old);
      const list = isApi ? cluster.apis : cluster.workers;
      const fresh = await start(isApi ? 'api' : 'worker');
      list[list.indexOf(old)] = fresh;
      await old.stop();
      if (isApi) proxy.setTargets(cluster.apis.map((api) => api.url));
      return fresh;
    },
    stopGracefully(api) {
      cluster.apis = cluster.apis.filter((instance) => instance !== api);
      proxy.setTargets(cluster.apis.map((instance) => instance.url));
      const exited = new Promise<number | null>((resolve) =>
        api.child.once('exit', (code) => resolve(code)),
      );
      api.child.kill('SIGTERM');
      return exited;
    },
    async add(role) {
      const fresh = await start(role);
      if (role === 'api') {
        cluster.apis.push(fresh);
        proxy.setTargets(cluster.apis.map((api) => api.url));
      } else cluster.workers.push(fresh);
      return fresh;
    },
    async stop() {
      await proxy.close();
      await Promise.all([...cluster.apis, ...cluster.workers].map((instance) => instance.stop()));
      await database.drop();
    },
  };
  return cluster;
}
