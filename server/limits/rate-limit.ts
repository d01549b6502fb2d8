// What the message and upload-creation limits need of a token bucket, so that one process
// keeps its buckets in memory (token-bucket.ts) and instances of scaled mode share theirs in
// PostgreSQL (pg-token-buckets.ts) — else N instances behind a balancer would allow N× each.
import { TokenBuckets, type TakeResult } from './token-bucket.js';

export interface RateLimit {
  /** Takes `cost` tokens from `key`'s bucket, or says how long to wait. */
  take(key: string, cost?: number): TakeResult | Promise<TakeResult>;
  /** Gives back tokens taken for an action that did not happen after all. */
  refund(key: string, cost?: number): void | Promise<void>;
}

/** Makes the named limit (`messages`, `uploads`): `capacity` at once, then `ratePerS`. */
export type RateLimits = (
  name: string,
  options: { capacity: number; ratePerS: number },
) => RateLimit;

export const memoryRateLimits: RateLimits = (_name, options) => new TokenBuckets(options);
