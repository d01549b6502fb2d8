import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Router, splitUrl } from './router.js';

describe('Router', () => {
  const noop = () => {};
  const router = new Router()
    .add('GET', '/v1/conversations/:c/messages', noop)
    .add('POST', '/v1/conversations/:c/messages', noop)
    .add('HEAD', '/v1/uploads/:id', noop)
    .add('GET', '/static/*', noop);

  it('matches methods and decodes parameters', () => {
    const match = router.match('GET', '/v1/conversations/a%20b/messages');
    assert.equal(match.kind, 'found');
    assert.deepEqual(match.kind === 'found' && match.params, { c: 'a b' });
    assert.equal(router.match('HEAD', '/v1/conversations/c/messages').kind, 'found');
    assert.equal(router.match('HEAD', '/v1/uploads/x').kind, 'found');
    const rest = router.match('GET', '/static/a/b.js');
    assert.deepEqual(rest.kind === 'found' && rest.params, { '*': 'a/b.js' });
  });

  it('tells a wrong method from an unknown path', () => {
    const wrong = router.match('DELETE', '/v1/conversations/c/messages');
    assert.deepEqual(wrong, { kind: 'method-not-allowed', allow: ['GET', 'POST', 'HEAD'] });
    assert.equal(router.match('GET', '/v1/conversations/c/messages/x').kind, 'not-found');
    assert.equal(router.match('GET', '/v1/conversations/c/../messages').kind, 'not-found');
  });

  it('keeps the raw path: no dot-segment resolution', () => {
    assert.deepEqual(splitUrl('/media/../x?t=1').path, '/media/../x');
    assert.equal(splitUrl('/a?b=1&c=2').query.get('c'), '2');
    assert.throws(() => router.match('GET', '/v1/conversations/%E0%A4%A/messages'), /percent/);
  });
});
