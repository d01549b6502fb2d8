import { ReelError } from './errors.js';
import type { ReelTransport, TransportFactory, TransportOptions } from './types.js';

const factories = new Map<string, TransportFactory>();

/**
 * Makes `transport="name"` pick this implementation. Sites register their own
 * before the elements connect; the library registers `memory` and `http`.
 */
export function registerTransport(name: string, factory: TransportFactory): void {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new ReelError(
      'bad-request',
      `Transport names are lowercase words: "${name}" is not one.`,
    );
  }
  factories.set(name, factory);
}

export function hasTransport(name: string): boolean {
  return factories.has(name);
}

export function createTransport(name: string, options: TransportOptions): ReelTransport {
  const factory = factories.get(name);
  if (!factory) {
    const known = [...factories.keys()].join(', ') || 'none';
    throw new ReelError(
      'bad-request',
      `No transport named "${name}" is registered (known: ${known}).`,
    );
  }
  return factory(options);
}
