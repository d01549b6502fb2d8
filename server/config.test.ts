import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, readConfig } from './config.js';

const SECRET = 'a-secret-that-is-at-least-32-characters-long';

describe('readConfig', () => {
  it('reads the defaults and the limits from the environment', () => {
    const config = readConfig({ REELCHAT_JWT_SECRET: SECRET, REELCHAT_MAX_TEXT: '500' });
    assert.equal(config.port, 8080);
    assert.equal(config.maxText, 500);
    assert.equal(config.devTokens, false);
  });

  it('refuses to start without a way to check tokens', () => {
    assert.throws(() => readConfig({}), ConfigError);
  });

  it('refuses a short secret and a malformed number, naming the variable', () => {
    assert.throws(() => readConfig({ REELCHAT_JWT_SECRET: 'short' }), /REELCHAT_JWT_SECRET/);
    assert.throws(
      () => readConfig({ REELCHAT_JWT_SECRET: SECRET, PORT: 'eighty' }),
      /PORT must be a whole number/,
    );
  });

  it('never hands out dev tokens beside a real key', () => {
    assert.throws(
      () => readConfig({ REELCHAT_JWT_SECRET: SECRET, REELCHAT_DEV_TOKENS: '1' }),
      /cannot be combined/,
    );
    assert.throws(
      () => readConfig({ REELCHAT_JWT_PUBLIC_KEY: 'pem' }, ['--demo']),
      /cannot be combined/,
    );
    assert.equal(readConfig({}, ['--demo']).devTokens, true);
  });

  it('keeps everything for ever unless REELCHAT_RETENTION_DAYS says otherwise', () => {
    assert.equal(readConfig({ REELCHAT_JWT_SECRET: SECRET }).retentionDays, undefined);
    const config = readConfig({ REELCHAT_JWT_SECRET: SECRET, REELCHAT_RETENTION_DAYS: '90' });
    assert.deepEqual([config.retentionDays, config.retentionSweepS], [90, 3600]);
    for (const days of ['0', '1.5', 'forever'])
      assert.throws(
        () => readConfig({ REELCHAT_JWT_SECRET: SECRET, REELCHAT_RETENTION_DAYS: days }),
        /REELCHAT_RETENTION_DAYS must be a whole number of at least 1/,
      );
  });

  it('uses PostgreSQL only when REELCHAT_DATABASE_URL names it, refusing anything else', () => {
    assert.equal(readConfig({ REELCHAT_JWT_SECRET: SECRET }).databaseUrl, undefined);
    for (const url of ['postgres://reelchat@db:5432/chat', 'postgresql://u:p@127.0.0.1/x'])
      assert.equal(
        readConfig({ REELCHAT_JWT_SECRET: SECRET, REELCHAT_DATABASE_URL: url }).databaseUrl,
        url,
      );
    for (const url of ['mysql://db/chat', 'db:5432', 'postgres://', 'sqlite:///data/reelchat.db'])
      assert.throws(
        () => readConfig({ REELCHAT_JWT_SECRET: SECRET, REELCHAT_DATABASE_URL: url }),
        (error: unknown) =>
          error instanceof ConfigError &&
          /REELCHAT_DATABASE_URL must be a PostgreSQL URL/.test(error.message),
      );
    assert.equal(readConfig({ REELCHAT_JWT_SECRET: SECRET }).jobLeaseS, 30);
  });
});
