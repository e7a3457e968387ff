/**
 * The app's listening socket, plain or TLS, and the certificate swap on SIGHUP.
 *
 * Bun's `server.reload()` ignores `tls` (oven-sh/bun#43815: documented to update only the handlers), so a new
 * certificate means a new listener: a second Bun server on the same port (SO_REUSEPORT, which Elysia sets by
 * default) starts with the new pair, then the old one stops listening. Its idle keep-alive connections close at
 * once; requests in flight finish and open WebSockets (relay tunnels) live on until they close, so players are not
 * dropped by a renewal. Until it has drained, the old server is still asked for the peer address of its requests.
 */
import type { Server } from 'bun';
import type { TlsPair } from './tls.ts';

/** The part of an Elysia app this needs (so tests can hand in a small fake). */
export interface ListenableApp {
  listen(options: ListenOptions): unknown;
  server: Server<unknown> | null;
  stop(closeActiveConnections?: boolean): Promise<unknown>;
}

export interface ListenOptions {
  hostname: string;
  port: number;
  maxRequestBodySize: number;
  reusePort: true;
  tls?: { cert: string; key: string };
}

/** How long the old and new listeners overlap during a certificate swap. */
export const SWAP_OVERLAP_MS = 200;

export class EdgeListener {
  private readonly retiring = new Set<Server<unknown>>();
  private readonly swapTimers = new Set<ReturnType<typeof setTimeout>>();
  private current: Server<unknown> | undefined;

  constructor(
    private readonly app: ListenableApp,
    private readonly options: Omit<ListenOptions, 'tls' | 'reusePort'>,
    private pair: TlsPair | undefined,
  ) {}

  get tls(): boolean {
    return this.pair !== undefined;
  }

  get certificate(): Pick<TlsPair, 'subject' | 'validTo'> | undefined {
    return this.pair && { subject: this.pair.subject, validTo: this.pair.validTo };
  }

  /** Listens; throws what Bun throws (bad address, port in use) for the caller to turn into a one-line error. */
  start(): Server<unknown> {
    this.listen(this.options.port, this.pair);
    return this.current!;
  }

  get server(): Server<unknown> {
    if (!this.current) throw new Error('the edge listener has not started');
    return this.current;
  }

  /** Every server that may still hold connections: the current one first. */
  servers(): Server<unknown>[] {
    return this.current ? [this.current, ...this.retiring] : [...this.retiring];
  }

  /** The TCP peer of a request, from whichever server received it. */
  peerOf(request: Request): string | undefined {
    for (const server of this.servers()) {
      const peer = server.requestIP(request);
      if (peer) return peer.address;
    }
    return undefined;
  }

  /**
   * Serves `pair` from now on: a new listener on the same port takes new connections, the old one drains.
   * Throws (and keeps the old listener) when Bun refuses the new pair.
   */
  swapCertificate(pair: TlsPair): void {
    const old = this.current;
    if (!old) throw new Error('the edge listener has not started');
    this.listen(old.port ?? this.options.port, pair);
    this.pair = pair;
    this.retiring.add(old);
    // Let the event loop accept what already queued on the old socket before it closes: a connection still in
    // its accept queue at close time is reset (Linux hands it to the new socket only with tcp_migrate_req).
    const timer = setTimeout(() => {
      this.swapTimers.delete(timer);
      void old.stop(false).finally(() => this.retiring.delete(old));
    }, SWAP_OVERLAP_MS);
    timer.unref();
    this.swapTimers.add(timer);
  }

  /** Stops the current listener (dropping its connections) and every draining one. */
  async stop(): Promise<void> {
    for (const timer of this.swapTimers) clearTimeout(timer);
    this.swapTimers.clear();
    const retiring = [...this.retiring];
    this.retiring.clear();
    await Promise.all([this.app.stop(true), ...retiring.map((s) => s.stop(true))]);
    this.current = undefined;
  }

  private listen(port: number, pair: TlsPair | undefined): void {
    const previous = this.app.server;
    try {
      this.app.listen({ ...this.options, port, reusePort: true, ...(pair ? { tls: { cert: pair.cert, key: pair.key } } : {}) });
    } catch (error) {
      // Elysia replaced nothing if Bun threw; make sure the app still points at the old server.
      this.app.server = previous;
      throw error;
    }
    const server = this.app.server;
    if (!server) throw new Error('the HTTP server did not start');
    this.current = server;
  }
}
