// Per-key token buckets (one per user): `capacity` tokens at most, refilled at `ratePerS`.
// Each action takes a token; with none left the caller is told how long until the next.
// Memory stays bounded: a bucket that has had time to refill completely is the same as
// no bucket, so idle ones are dropped, and past `maxKeys` the least recently used go.
export interface TokenBucketOptions {
  /** Tokens a full bucket holds: how many actions may come at once. */
  capacity: number;
  /** Tokens added per second: the sustained rate. */
  ratePerS: number;
  /** Buckets kept at most (the least recently used beyond this are forgotten). */
  maxKeys?: number;
  now?: () => number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterS: number };

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly capacity: number;
  private readonly ratePerMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  /** How long an empty bucket takes to fill: a bucket untouched for this long is full. */
  private readonly fillMs: number;

  constructor(options: TokenBucketOptions) {
    if (!(options.capacity >= 1) || !(options.ratePerS > 0)) {
      throw new RangeError('A token bucket needs capacity ≥ 1 and a positive rate.');
    }
    this.capacity = options.capacity;
    this.ratePerMs = options.ratePerS / 1000;
    this.maxKeys = options.maxKeys ?? 100_000;
    this.now = options.now ?? Date.now;
    this.fillMs = this.capacity / this.ratePerMs;
  }

  /** Takes `cost` tokens from `key`'s bucket, or says how long (whole seconds) to wait. */
  take(key: string, cost = 1): TakeResult {
    const now = this.now();
    this.evictIdle(now);
    const bucket = this.current(key, now);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      this.store(key, bucket);
      return { ok: true };
    }
    this.store(key, bucket);
    const waitMs = (cost - bucket.tokens) / this.ratePerMs;
    return { ok: false, retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  /** Gives back tokens taken for an action that did not happen after all. */
  refund(key: string, cost = 1): void {
    const bucket = this.buckets.get(key);
    if (!bucket) return;
    bucket.tokens = Math.min(this.capacity, bucket.tokens + cost);
  }

  /** Buckets held now (for tests and figures). */
  get size(): number {
    return this.buckets.size;
  }

  private current(key: string, now: number): Bucket {
    const bucket = this.buckets.get(key);
    if (!bucket) return { tokens: this.capacity, at: now };
    const elapsed = Math.max(0, now - bucket.at);
    return { tokens: Math.min(this.capacity, bucket.tokens + elapsed * this.ratePerMs), at: now };
  }

  /** Re-inserts, so the map's order is least recently used first. */
  private store(key: string, bucket: Bucket): void {
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) {
      this.buckets.delete(this.buckets.keys().next().value!);
    }
  }

  /** Drops buckets untouched long enough to be full again; they are the oldest in order. */
  private evictIdle(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.at < this.fillMs) return;
      this.buckets.delete(key);
    }
  }
}
