// reelchat/transport: the contract, the registry and the shipped implementations.
import { MemoryTransport } from './memory-transport.js';
import { hasTransport, registerTransport } from './registry.js';
import { HttpTransport } from './http/http-transport.js';

export * from './types.js';
export { ReelError, type ReelErrorCode } from './errors.js';
export { REEL_ERROR_CODES } from './error-codes.js';
export { registerTransport, createTransport, hasTransport } from './registry.js';
export { MemoryTransport, type MemoryTransportOptions } from './memory-transport.js';
export { HttpTransport } from './http/http-transport.js';

if (!hasTransport('memory')) registerTransport('memory', (options) => new MemoryTransport(options));
if (!hasTransport('http')) registerTransport('http', (options) => new HttpTransport(options));
