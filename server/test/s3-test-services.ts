// The S3 (Swift) service for a test file: the one scripts/with-services.mjs already started
// when its environment is set, else a throwaway one from scripts/services.mjs for this file.
// Never a skip: when neither is there, this rejects and the tests that need it fail.
import { startServices, type ServicesEnv } from '../../scripts/services.mjs';

export interface S3TestService {
  env: Pick<ServicesEnv, 'REELCHAT_S3_ENDPOINT' | 'REELCHAT_S3_REGION' | 'REELCHAT_TEST_S3_BUCKET'>;
  stop(): Promise<void>;
}

export async function s3ForTests(): Promise<S3TestService> {
  const { REELCHAT_S3_ENDPOINT, REELCHAT_TEST_S3_BUCKET, AWS_ACCESS_KEY_ID } = process.env;
  if (REELCHAT_S3_ENDPOINT && REELCHAT_TEST_S3_BUCKET && AWS_ACCESS_KEY_ID) {
    const env = {
      REELCHAT_S3_ENDPOINT,
      REELCHAT_TEST_S3_BUCKET,
      REELCHAT_S3_REGION: process.env.REELCHAT_S3_REGION ?? 'us-east-1',
    };
    return { env, stop: async () => {} };
  }
  try {
    const services = await startServices();
    // Credentials come from the SDK's default chain, as in production.
    process.env.AWS_ACCESS_KEY_ID = services.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = services.env.AWS_SECRET_ACCESS_KEY;
    return services;
  } catch (error) {
    throw new Error(
      'Could not start Swift (S3) and PostgreSQL for these tests (needs postgresql-15 and ' +
        'swift-{proxy,account,container,object}; see .ci/run): ' +
        (error as Error).message,
    );
  }
}
