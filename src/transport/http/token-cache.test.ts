import { expect } from '@open-wc/testing';
import { ReelError } from '../errors.js';
import type { TokenRequest } from '../types.js';
import { TokenCache } from './token-cache.js';

/** An unsigned JWT-shaped token with this `exp` (seconds) and a marker to tell tokens apart. */
function jwt(exp: number, marker: string): string {
  const part = (value: object) =>
    btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${part({ alg: 'HS256' })}.${part({ sub: 'alice', exp, marker })}.sig`;
}

const now = () => Math.floor(Date.now() / 1000);

describe('TokenCache', () => {
  it('asks once per conversation and purpose, sharing a call between requests at once', async () => {
    const asked: TokenRequest[] = [];
    const cache = new TokenCache(async (request) => {
      asked.push(request);
      await new Promise((resolve) => setTimeout(resolve, 10));
      return jwt(now() + 600, `${request.purpose}:${request.conversation}`);
    });
    const [a, b] = await Promise.all([
      cache.get({ conversation: 'c1', purpose: 'api' }),
      cache.get({ conversation: 'c1', purpose: 'api' }),
    ]);
    expect(a).to.equal(b);
    await cache.get({ conversation: 'c1', purpose: 'api' });
    await cache.get({ conversation: 'c2', purpose: 'api' });
    await cache.get({ conversation: 'c1', purpose: 'events' });
    expect(asked).to.deep.equal([
      { conversation: 'c1', purpose: 'api' },
      { conversation: 'c2', purpose: 'api' },
      { conversation: 'c1', purpose: 'events' },
    ]);
    expect(cache.cached({ conversation: 'c2', purpose: 'api' })).to.contain('.');
    expect(cache.cached({ conversation: 'c3', purpose: 'api' })).to.equal(undefined);
  });

  it('asks again for a token about to expire, and when told to refresh (after a 401)', async () => {
    let calls = 0;
    const lifetimes = [5, 600, 600];
    const cache = new TokenCache(() => jwt(now() + lifetimes[calls]!, String(calls++)));
    const request: TokenRequest = { conversation: 'c1', purpose: 'api' };
    const first = await cache.get(request);
    // 5 s left is inside the margin: the next request gets a fresh one.
    const second = await cache.get(request);
    expect(second).to.not.equal(first);
    expect(await cache.get(request)).to.equal(second);
    const third = await cache.get(request, true);
    expect(third).to.not.equal(second);
    expect(calls).to.equal(3);
  });

  it('keeps an opaque token (no exp) until told to refresh', async () => {
    let calls = 0;
    const cache = new TokenCache(() => `opaque-${calls++}`);
    const request: TokenRequest = { purpose: 'api' };
    expect(await cache.get(request)).to.equal('opaque-0');
    expect(await cache.get(request)).to.equal('opaque-0');
    expect(await cache.get(request, true)).to.equal('opaque-1');
  });

  it('refuses an empty token, JSON or a header value, and asks again next time', async () => {
    const answers = ['', '{"token":"abc"}', 'Bearer abc', 'good'];
    const cache = new TokenCache(() => answers.shift()!);
    const request: TokenRequest = { conversation: 'c1', purpose: 'upload' };
    for (const message of [/No token/, /bare token/, /bare token/]) {
      const error = await cache.get(request).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(ReelError);
      expect((error as ReelError).code).to.equal('unauthorized');
      expect((error as ReelError).message).to.match(message);
    }
    expect(await cache.get(request)).to.equal('good');
  });
});
