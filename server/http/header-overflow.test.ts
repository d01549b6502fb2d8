// A request with headers past Node's limit gets a 431 that explains itself, readable from any
// origin; other malformed requests get Node's own plain answers.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { answerHeaderOverflow } from './header-overflow.js';

describe('answerHeaderOverflow', () => {
  let server: http.Server;
  let url: string;
  before(async () => {
    server = http.createServer((_req, res) => res.end('app'));
    answerHeaderOverflow(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers a 40 KB token with 431, the limit and what to do, in JSON any origin may read', async () => {
    const response = await fetch(`${url}/v1/session`, {
      headers: { Authorization: `Bearer ${'a'.repeat(40 * 1024)}`, Origin: 'https://site.test' },
    });
    assert.equal(response.status, 431);
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    const { error } = (await response.json()) as {
      error: { code: string; message: string; limit: number };
    };
    assert.equal(error.code, 'too-large');
    assert.equal(error.limit, http.maxHeaderSize);
    assert.match(error.message, new RegExp(`${Math.round(http.maxHeaderSize / 1024)} KB`));
    assert.match(error.message, /sign a token for just the conversation/);
  });

  it('lets requests within the limit through to the app', async () => {
    const response = await fetch(url, { headers: { Authorization: `Bearer ${'a'.repeat(2000)}` } });
    assert.equal(await response.text(), 'app');
  });

  it('answers a malformed request 400, as Node does', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.write('NOT A REQUEST\r\n\r\n');
    });
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request/);
  });
});
