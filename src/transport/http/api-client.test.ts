// The http transport's answer to "try again later" refusals, with fetch stood in for: the
// waits and attempt counts are the client's own logic. The same paths against the real
// server are in http-transport.test.ts.
import { expect } from '@open-wc/testing';
import sinon from 'sinon';
import { ReelError } from '../errors.js';
import type { Message } from '../types.js';
import { retryAfterMs, retryWait } from './api-client.js';
import { HttpTransport } from './http-transport.js';
import { shouldRetryUpload } from './tus-upload.js';

const ENDPOINT = 'https://api.reelchat.test';

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

const slowDown = (seconds?: number) =>
  json(
    429,
    { error: { code: 'quota-exceeded', message: 'Too many messages; wait a moment.' } },
    seconds === undefined ? {} : { 'Retry-After': String(seconds) },
  );

function message(clientId: string): Message {
  return {
    id: 'm-1',
    conversation: 'c1',
    clientId,
    author: 'alice',
    authorName: 'Alice',
    text: 'hello',
    createdAt: new Date().toISOString(),
  };
}

/** fetch answering each call in turn from `answers` (the last one repeats); the calls' bodies. */
function stubFetch(...answers: (() => Response)[]) {
  const bodies: string[] = [];
  const stub = sinon.stub(window, 'fetch').callsFake(async (_url, init) => {
    bodies.push(String(init?.body ?? ''));
    return answers[Math.min(bodies.length - 1, answers.length - 1)]();
  });
  return { stub, bodies };
}

async function refusal(promise: Promise<unknown>): Promise<ReelError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(ReelError);
    return error as ReelError;
  }
  throw new Error('expected a refusal');
}

describe('http transport: refusals that waiting clears', () => {
  afterEach(() => sinon.restore());

  it('waits out a 429’s Retry-After, then sends the same message once', async () => {
    const { stub, bodies } = stubFetch(
      () => slowDown(1),
      () => json(201, message('m-once')),
    );
    const transport = new HttpTransport({ endpoint: ENDPOINT, token: 't' });
    const started = performance.now();
    const sent = await transport.sendMessage('c1', { clientId: 'm-once', text: 'hello' });
    expect(performance.now() - started).to.be.at.least(950);
    expect(sent.clientId).to.equal('m-once');
    expect(stub.callCount).to.equal(2);
    // The repeat is the same request: the same clientId, which the server keeps once.
    expect(bodies[1]).to.equal(bodies[0]);
    expect(JSON.parse(bodies[0])).to.deep.equal({ clientId: 'm-once', text: 'hello' });
  });

  it('backs off by itself on a 503 without Retry-After', async () => {
    const { stub } = stubFetch(
      () => json(503, { error: { code: 'internal', message: 'Busy.' } }),
      () => json(200, { user: 'alice', name: 'Alice' }),
    );
    const transport = new HttpTransport({ endpoint: ENDPOINT, token: 't' });
    const started = performance.now();
    expect((await transport.connect()).user).to.equal('alice');
    expect(performance.now() - started).to.be.at.least(950);
    expect(stub.callCount).to.equal(2);
  });

  it('answers at once with quota-exceeded and retryAfter when the wait is too long', async () => {
    const { stub } = stubFetch(() => slowDown(3600));
    const transport = new HttpTransport({ endpoint: ENDPOINT, token: 't' });
    const started = performance.now();
    const error = await refusal(transport.sendMessage('c1', { clientId: 'm-2', text: 'hi' }));
    expect(performance.now() - started).to.be.below(500);
    expect(error.code).to.equal('quota-exceeded');
    expect(error.status).to.equal(429);
    expect(error.retryAfter).to.equal(3_600_000);
    expect(error.message).to.equal('Too many messages; wait a moment.');
    expect(stub.callCount).to.equal(1);
  });

  it('gives up after a few attempts with the server’s refusal', async () => {
    const { stub } = stubFetch(() => slowDown(0));
    const transport = new HttpTransport({ endpoint: ENDPOINT, token: 't' });
    const error = await refusal(transport.sendMessage('c1', { clientId: 'm-3', text: 'hi' }));
    expect(error.code).to.equal('quota-exceeded');
    expect(error.retryAfter).to.equal(0);
    expect(stub.callCount).to.equal(5);
  });

  it('keeps the waits together within half a minute', () => {
    const asked = (seconds: number) =>
      new ReelError('quota-exceeded', 'Slow down.', { status: 429, retryAfter: seconds * 1000 });
    expect(retryWait(asked(10), 0, 0)).to.equal(10_000);
    expect(retryWait(asked(10), 2, 20_000)).to.equal(10_000);
    // Another 10 s would pass the bound: the person hears why instead.
    expect(retryWait(asked(10), 3, 30_000)).to.equal(undefined);
    expect(retryWait(asked(31), 0, 0)).to.equal(undefined);
    // Without a Retry-After: 1 s, 2 s, 4 s, 8 s, then the refusal.
    const busy = new ReelError('internal', 'Busy.', { status: 503 });
    expect([0, 1, 2, 3, 4].map((attempt) => retryWait(busy, attempt))).to.deep.equal([
      1000,
      2000,
      4000,
      8000,
      undefined,
    ]);
    expect(retryWait(new ReelError('bad-request', 'No.', { status: 400 }), 0)).to.equal(undefined);
    expect(retryWait(new ReelError('network', 'Offline.'), 0)).to.equal(undefined);
  });

  it('does not repeat a refusal that waiting does not change', async () => {
    const { stub } = stubFetch(() =>
      json(413, { error: { code: 'quota-exceeded', message: 'Your storage is full.' } }),
    );
    const transport = new HttpTransport({ endpoint: ENDPOINT, token: 't' });
    const error = await refusal(transport.sendMessage('c1', { clientId: 'm-5', text: 'hi' }));
    expect(error.code).to.equal('quota-exceeded');
    expect(error.status).to.equal(413);
    expect(stub.callCount).to.equal(1);
  });

  it('stops waiting when the transport is closed', async () => {
    const { stub } = stubFetch(() => slowDown(30));
    const transport = new HttpTransport({ endpoint: ENDPOINT, token: 't' });
    const result = refusal(transport.sendMessage('c1', { clientId: 'm-6', text: 'hi' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await transport.close();
    const error = await result;
    expect(error.code).to.equal('aborted');
    expect(performance.now() - started).to.be.below(500);
    expect(stub.callCount).to.equal(1);
  });

  it('reads Retry-After as seconds or a date', () => {
    const now = Date.parse('2026-11-25T12:00:00Z');
    expect(retryAfterMs('7', now)).to.equal(7000);
    expect(retryAfterMs(' 0 ', now)).to.equal(0);
    expect(retryAfterMs('Wed, 25 Nov 2026 12:00:30 GMT', now)).to.equal(30_000);
    expect(retryAfterMs('Wed, 25 Nov 2026 11:00:00 GMT', now)).to.equal(0);
    expect(retryAfterMs(null, now)).to.equal(undefined);
    expect(retryAfterMs('soon', now)).to.equal(undefined);
    expect(retryAfterMs('-3', now)).to.equal(undefined);
  });

  it('retries an upload on every status that means "try again", and only those', () => {
    for (const status of [0, 408, 423, 425, 429, 500, 502, 503, 504])
      expect(shouldRetryUpload(status), String(status)).to.equal(true);
    for (const status of [400, 403, 404, 409, 410, 412, 413, 415, 501, 505])
      expect(shouldRetryUpload(status), String(status)).to.equal(false);
  });
});
