/**
 * One connection to Redis that never makes a caller wait long: every command answers or rejects with
 * `ClusterUnavailableError` within `callTimeoutMs`, and the link reconnects by itself, forever, with capped
 * backoff. The directory builds on it; nothing else talks to Bun's RedisClient.
 *
 * Why it owns the reconnect loop instead of Bun's (measured on Bun 1.4.4 against redis-server 7.0, see the top of
 * redis-directory.ts): with the defaults a command sent while the server is down waits in the offline queue until
 * the link is back (it hung for as long as the server was down), and after `maxRetries` attempts Bun gives up for
 * good. So the client is made with `autoReconnect: false` and `enableOfflineQueue: false` (a command on a closed
 * link then rejects at once), a fresh client per attempt, and a per-command timer, because a server that is alive
 * but not answering (SIGSTOP, a blackholed route) keeps the socket open and Bun never times a command out.
 */
import { RedisClient } from 'bun';
import { ClusterUnavailableError } from './directory.ts';

export interface RedisLinkOptions {
  /** A command with no answer by then rejects, and the link is dropped and made again. */
  callTimeoutMs: number;
  /** A connection attempt (TCP + HELLO) with no answer by then counts as failed. */
  connectTimeoutMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_LINK_OPTIONS: RedisLinkOptions = {
  callTimeoutMs: 800,
  connectTimeoutMs: 1000,
  backoffMinMs: 50,
  backoffMaxMs: 1000,
};

export interface RedisLinkEvents {
  /** The link is usable (first connection, or back after an outage). */
  up(): void;
  /** The link broke; `reason` is a short text without the URL (which may carry a password). */
  down(reason: string): void;
}

/** Server replies that mean "Redis cannot serve right now", not "this command is wrong". */
const UNAVAILABLE_REPLIES = /^(LOADING|BUSY|MASTERDOWN|READONLY|OOM|NOAUTH|WRONGPASS|CLUSTERDOWN|TRYAGAIN)\b/;

type State = 'idle' | 'connecting' | 'up' | 'closed';

export class RedisLink {
  private state: State = 'idle';
  private client: RedisClient | undefined;
  private wake: (() => void) | undefined;
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  /** performance.now() when the link last came up; Infinity while it is not up. */
  private upAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly url: string,
    private readonly options: RedisLinkOptions,
    private readonly events: RedisLinkEvents,
  ) {}

  get up(): boolean {
    return this.state === 'up';
  }

  /** When the link last came up (performance.now() ms), Infinity while it is down. */
  get upSince(): number {
    return this.upAt;
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Starts connecting (and reconnecting whenever the link breaks) until `close()`. */
  start(): void {
    if (this.state !== 'idle') return;
    void this.connectLoop();
  }

  /** Sends one command. Rejects with ClusterUnavailableError at once when the link is down, else within callTimeoutMs. */
  async call(command: string, args: readonly string[]): Promise<unknown> {
    if (this.state === 'closed') throw new ClusterUnavailableError('the cluster directory is stopped');
    const client = this.client;
    if (this.state !== 'up' || !client) throw new ClusterUnavailableError('Redis is unreachable (reconnecting)');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ClusterUnavailableError(`Redis did not answer within ${this.options.callTimeoutMs} ms`)), this.options.callTimeoutMs);
    });
    const sent = client.send(command, [...args]);
    // The reply may come after the timeout (or the close that follows it rejects it): either way nobody waits for it.
    sent.catch(() => {});
    try {
      return await Promise.race([sent, timeout]);
    } catch (error) {
      if (error instanceof ClusterUnavailableError) {
        this.drop(client, 'timeout');
        throw error;
      }
      const { code, message } = describe(error);
      if (code === 'ERR_REDIS_SERVER_ERROR' && !UNAVAILABLE_REPLIES.test(message)) {
        // A wrong command or a failing script: a bug to see, not an outage.
        throw new Error(`Redis refused ${command}: ${message}`);
      }
      if (code !== 'ERR_REDIS_SERVER_ERROR') this.drop(client, code || 'connection error');
      throw new ClusterUnavailableError(`Redis is unavailable: ${message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.upAt = Number.POSITIVE_INFINITY;
    clearTimeout(this.wakeTimer);
    this.wake?.();
    const client = this.client;
    this.client = undefined;
    closeQuietly(client);
  }

  /** The link behind `client` is broken: forget it and make a new one (once per broken client). */
  private drop(client: RedisClient, reason: string): void {
    if (client !== this.client || this.state !== 'up') return;
    this.client = undefined;
    this.state = 'connecting';
    this.upAt = Number.POSITIVE_INFINITY;
    closeQuietly(client);
    this.events.down(reason);
    void this.connectLoop();
  }

  private async connectLoop(): Promise<void> {
    this.state = 'connecting';
    let delay = this.options.backoffMinMs;
    while (this.state === 'connecting') {
      const client = new RedisClient(this.url, {
        autoReconnect: false,
        enableOfflineQueue: false,
        connectionTimeout: this.options.connectTimeoutMs,
      });
      try {
        await withTimeout(client.connect(), this.options.connectTimeoutMs + 200);
        if (this.state !== 'connecting') {
          closeQuietly(client);
          return;
        }
        client.onclose = () => this.drop(client, 'connection closed');
        this.client = client;
        this.state = 'up';
        this.upAt = performance.now();
        this.events.up();
        return;
      } catch {
        closeQuietly(client);
      }
      // Closed while this attempt was under way: no timer to outlive the close.
      if (this.state !== 'connecting') return;
      // Jitter, so that nodes cut off together do not all come back in the same millisecond.
      await this.sleep(delay * (0.75 + Math.random() * 0.5));
      delay = Math.min(delay * 2, this.options.backoffMaxMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.wakeTimer = setTimeout(resolve, ms);
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  promise.catch(() => {});
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function closeQuietly(client: RedisClient | undefined): void {
  if (!client) return;
  client.onclose = null;
  try {
    client.close();
  } catch {
    // Already closed.
  }
}

function describe(error: unknown): { code: string; message: string } {
  if (error instanceof Error) return { code: String((error as Error & { code?: unknown }).code ?? ''), message: error.message };
  return { code: '', message: String(error) };
}
