import { expect } from '@open-wc/testing';
import { createTransport, hasTransport, registerTransport } from './registry.js';
import { ReelError } from './errors.js';
import type { ReelTransport } from './types.js';

describe('transport registry', () => {
  it('creates a registered transport by name with the given options', () => {
    const seen: unknown[] = [];
    registerTransport('test-echo', (options) => {
      seen.push(options);
      return {} as ReelTransport;
    });
    expect(hasTransport('test-echo')).to.equal(true);
    createTransport('test-echo', { endpoint: 'https://example.test' });
    expect(seen).to.deep.equal([{ endpoint: 'https://example.test' }]);
  });

  it('names the known transports when asked for an unknown one', () => {
    try {
      createTransport('nope', {});
      expect.fail('should throw');
    } catch (error) {
      expect(ReelError.is(error, 'bad-request')).to.equal(true);
      expect((error as Error).message).to.contain('nope');
    }
  });

  it('refuses names that are not lowercase words', () => {
    expect(() => registerTransport('Bad Name', () => ({}) as ReelTransport)).to.throw(ReelError);
  });
});
