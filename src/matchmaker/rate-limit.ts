/**
 * Token buckets for failed join attempts, per client address and across all clients. Each failure takes a token;
 * tokens come back at `capacity` per `windowMs`. With no token left, every join attempt (right or wrong) is
 * refused with 429 until one comes back, so a brute force cannot keep guessing. Time is injected for tests.
 */
export interface BucketOptions {
  capacity: number;
  windowMs: number;
  now?: () => number;
  /** Most addresses tracked at once; full buckets are dropped first (they carry no information). */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly ratePerMs: number;
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly options: BucketOptions) {
    if (options.capacity < 1 || options.windowMs <= 0) throw new RangeError('capacity >= 1 and windowMs > 0 required');
    this.ratePerMs = options.capacity / options.windowMs;
    this.now = options.now ?? (() => performance.now());
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  /** Milliseconds until `key` may try again; 0 if it may now. */
  blockedForMs(key: string): number {
    const bucket = this.refill(key);
    if (!bucket || bucket.tokens >= 1) return 0;
    return Math.ceil((1 - bucket.tokens) / this.ratePerMs);
  }

  /** Records a failure for `key`. */
  take(key: string): void {
    const bucket = this.refill(key) ?? { tokens: this.options.capacity, at: this.now() };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.prune();
  }

  get trackedKeys(): number {
    return this.buckets.size;
  }

  private refill(key: string): Bucket | undefined {
    const bucket = this.buckets.get(key);
    if (!bucket) return undefined;
    const now = this.now();
    bucket.tokens = Math.min(this.options.capacity, bucket.tokens + (now - bucket.at) * this.ratePerMs);
    bucket.at = now;
    if (bucket.tokens >= this.options.capacity) {
      this.buckets.delete(key);
      return undefined;
    }
    return bucket;
  }

  private prune(): void {
    for (const key of [...this.buckets.keys()]) this.refill(key);
    // Still too many: forget the oldest (Map keeps insertion order). An attacker spraying addresses is what the
    // global bucket is for.
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}

export interface JoinLimiterOptions {
  perAddressPerMinute: number;
  globalPerMinute: number;
  now?: () => number;
}

const MINUTE_MS = 60_000;
const GLOBAL_KEY = '*';

/** The two limits of DESIGN.md section 7 together. */
export class JoinLimiter {
  private readonly perAddress: TokenBuckets;
  private readonly global: TokenBuckets;

  constructor(options: JoinLimiterOptions) {
    const now = options.now;
    this.perAddress = new TokenBuckets({ capacity: options.perAddressPerMinute, windowMs: MINUTE_MS, ...(now ? { now } : {}) });
    this.global = new TokenBuckets({ capacity: options.globalPerMinute, windowMs: MINUTE_MS, ...(now ? { now } : {}) });
  }

  /** Whole seconds to wait before trying again (for Retry-After), or 0 if the address may try now. */
  retryAfterSeconds(address: string): number {
    const ms = Math.max(this.perAddress.blockedForMs(address), this.global.blockedForMs(GLOBAL_KEY));
    return ms === 0 ? 0 : Math.max(1, Math.ceil(ms / 1000));
  }

  recordFailure(address: string): void {
    this.perAddress.take(address);
    this.global.take(GLOBAL_KEY);
  }
}
