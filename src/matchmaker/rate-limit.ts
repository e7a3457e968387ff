/**
 * The guess budget (DESIGN.md section 12): token buckets for wrong guesses per client address, per network prefix
 * and across all clients, arranged so that the global limit bounds how fast anyone can find games without becoming
 * a lockout for honest players. Time is injected for tests. SECURITY.md "Passcodes" explains the figures.
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

  /** Whether `key` has a token to spend now. */
  has(key: string): boolean {
    return this.blockedForMs(key) === 0;
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

/** IPv4 addresses share a budget per /24, IPv6 per /56: what one subscriber or one small hoster typically holds. */
export function networkPrefix(address: string): string {
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/i.exec(address);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (!address.includes(':')) return address;
  const [left = '', right] = address.split('::', 2);
  const head = left === '' ? [] : left.split(':');
  const tail = right === undefined || right === '' ? [] : right.split(':');
  const groups = [...head, ...Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail];
  // /56 = the first three groups and the high byte of the fourth.
  const fourth = (parseInt(groups[3] ?? '0', 16) || 0) & 0xff00;
  return `${groups.slice(0, 3).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':')}:${fourth.toString(16)}::/56`;
}

/**
 * Remembers which keys failed within the last `windowMs`, bounded to `maxKeys` (the oldest are forgotten first:
 * forgetting only ever makes a key look like a newcomer, whose guesses have a budget of their own).
 */
export class RecentFailures {
  private readonly at = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
    private readonly maxKeys = 200_000,
  ) {}

  record(key: string): void {
    this.at.delete(key);
    this.at.set(key, this.now());
    if (this.at.size > this.maxKeys) {
      const oldest = this.at.keys().next();
      if (!oldest.done) this.at.delete(oldest.value);
    }
  }

  has(key: string): boolean {
    const when = this.at.get(key);
    if (when === undefined) return false;
    if (this.now() - when < this.windowMs) return true;
    this.at.delete(key);
    return false;
  }

  get size(): number {
    return this.at.size;
  }
}

export interface JoinLimiterOptions {
  perAddressPerMinute: number;
  /** Wrong guesses per /24 (IPv4) or /56 (IPv6) per minute; 3 × per address unless given. */
  perPrefixPerMinute?: number;
  globalPerMinute: number;
  /** Guesses per minute from newcomers while the global budget is spent; the global figure unless given. */
  newcomersPerMinute?: number;
  now?: () => number;
}

const MINUTE_MS = 60_000;
const GLOBAL_KEY = '*';
/** An address or prefix with a wrong guess this recent is a suspect while the global budget is spent. */
export const SUSPECT_WINDOW_MS = 10 * MINUTE_MS;

/** Which budget refused a guess; a metric label and the log line's reason. */
export type GuessScope = 'address' | 'prefix' | 'global' | 'newcomers';
export const GUESS_SCOPES: readonly GuessScope[] = ['address', 'prefix', 'global', 'newcomers'];

export type GuessDecision = { allowed: true } | { allowed: false; scope: GuessScope; retryAfterSeconds: number };

/**
 * The per-address, per-prefix and global limits together.
 *
 * - An address or its prefix over its own budget is refused (429) until a token comes back.
 * - The global budget is spent first by every wrong guess. Once it is empty, it no longer refuses everyone: only
 *   suspects — addresses and prefixes with a wrong guess in the last SUSPECT_WINDOW_MS — are refused. A newcomer
 *   (an honest player typing the code their friend read out) is still checked, and its wrong guesses spend a
 *   second bucket, `newcomersPerMinute`. Only when that one is empty too is a newcomer refused.
 * So at most `globalPerMinute + newcomersPerMinute` guesses a minute are ever checked, however many addresses the
 * guesser has; and to keep honest players out, a botnet must keep spending the newcomers' bucket with addresses
 * from prefixes that have not guessed for ten minutes, each of which can guess once before it is a suspect.
 */
export class JoinLimiter {
  private readonly perAddress: TokenBuckets;
  private readonly perPrefix: TokenBuckets;
  private readonly global: TokenBuckets;
  private readonly newcomers: TokenBuckets;
  private readonly suspects: RecentFailures;

  constructor(options: JoinLimiterOptions) {
    const now = options.now ?? (() => performance.now());
    const bucket = (capacity: number) => new TokenBuckets({ capacity, windowMs: MINUTE_MS, now });
    this.perAddress = bucket(options.perAddressPerMinute);
    this.perPrefix = bucket(options.perPrefixPerMinute ?? options.perAddressPerMinute * 3);
    this.global = bucket(options.globalPerMinute);
    this.newcomers = bucket(options.newcomersPerMinute ?? options.globalPerMinute);
    this.suspects = new RecentFailures(SUSPECT_WINDOW_MS, now);
  }

  /** Whether a guess from `address` may be checked now, and if not, which budget refused it and for how long. */
  decide(address: string): GuessDecision {
    const prefix = networkPrefix(address);
    const own = this.perAddress.blockedForMs(address);
    if (own > 0) return refuse('address', own);
    const shared = this.perPrefix.blockedForMs(prefix);
    if (shared > 0) return refuse('prefix', shared);
    const global = this.global.blockedForMs(GLOBAL_KEY);
    if (global === 0) return { allowed: true };
    if (this.suspects.has(address) || this.suspects.has(prefix)) return refuse('global', global);
    const newcomers = this.newcomers.blockedForMs(GLOBAL_KEY);
    return newcomers === 0 ? { allowed: true } : refuse('newcomers', Math.min(global, newcomers));
  }

  /** Whole seconds to wait before trying again (for Retry-After), or 0 if the address may try now. */
  retryAfterSeconds(address: string): number {
    const decision = this.decide(address);
    return decision.allowed ? 0 : decision.retryAfterSeconds;
  }

  /** A wrong guess from `address` was checked: it spends its address, its prefix, and the global (or newcomers') budget. */
  recordFailure(address: string): void {
    const prefix = networkPrefix(address);
    this.perAddress.take(address);
    this.perPrefix.take(prefix);
    if (this.global.has(GLOBAL_KEY)) this.global.take(GLOBAL_KEY);
    else this.newcomers.take(GLOBAL_KEY);
    this.suspects.record(address);
    this.suspects.record(prefix);
  }

  /** Addresses and prefixes remembered as suspects (bounded), for tests of the memory bound. */
  get suspectCount(): number {
    return this.suspects.size;
  }
}

function refuse(scope: GuessScope, ms: number): GuessDecision {
  return { allowed: false, scope, retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) };
}
