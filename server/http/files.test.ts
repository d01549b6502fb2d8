import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withToken } from '../api/media.js';
import { parseRange } from './files.js';

describe('parseRange', () => {
  it('reads single byte ranges against the size', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-500', 100), { start: 0, end: 99 });
    assert.deepEqual(parseRange('bytes=50-500', 100), { start: 50, end: 99 });
  });

  it('tells what cannot be satisfied from what is ignored', () => {
    assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=5-4', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=-0', 100), 'unsatisfiable');
    assert.equal(parseRange(undefined, 100), undefined);
    assert.equal(parseRange('bytes=0-1,5-6', 100), undefined);
    assert.equal(parseRange('items=0-1', 100), undefined);
    assert.equal(parseRange('bytes=-', 100), undefined);
  });
});

describe('withToken', () => {
  it('adds the token to every URI of a playlist', () => {
    const playlist = [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-MAP:URI="init.mp4"',
      '#EXTINF:2.000,',
      'seg0.m4s',
      '#EXTINF:1.5,',
      'seg1.m4s?x=1',
      '#EXT-X-ENDLIST',
      '',
    ].join('\n');
    assert.equal(
      withToken(playlist, '123.a_b-c'),
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-MAP:URI="init.mp4?t=123.a_b-c"',
        '#EXTINF:2.000,',
        'seg0.m4s?t=123.a_b-c',
        '#EXTINF:1.5,',
        'seg1.m4s?x=1&t=123.a_b-c',
        '#EXT-X-ENDLIST',
        '',
      ].join('\n'),
    );
  });
});
