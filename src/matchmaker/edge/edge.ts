/**
 * The edge: everything between the network and the app, assembled from the settings. It listens (plain or TLS,
 * with the SIGHUP certificate swap), resolves every request's origin (client address, scheme, public base) once in
 * an onRequest hook, and caps the TCP connections one address may hold. server.ts builds one per server.
 */
import { Elysia } from 'elysia';
import type { Config } from '../../config.ts';
import type { Logger } from '../../log.ts';
import type { ClientAddressOf } from '../http.ts';
import { CidrList } from './cidr.ts';
import { ConnectionCap } from './connection-cap.ts';
import { EdgeListener, type ListenableApp } from './listener.ts';
import { clientAddressOf, rememberOrigin, resolveOrigin, type OriginSettings } from './origin.ts';
import { loadTlsPair, type TlsPair } from './tls.ts';

export type EdgeConfig = Pick<Config, 'host' | 'port' | 'tlsCert' | 'tlsKey' | 'publicUrl' | 'trustProxy' | 'maxConnectionsPerAddress'>;

export type TlsReload = { ok: true; subject: string; validTo: string } | { ok: false; error: string };

export class Edge {
  readonly origins: OriginSettings;
  private listener: EdgeListener | undefined;
  private cap: ConnectionCap | undefined;

  /** Build it with `createEdge`, which loads and checks the TLS pair first. */
  constructor(
    private readonly config: EdgeConfig,
    private readonly log: Logger,
    private readonly tlsPair: TlsPair | undefined,
  ) {
    this.origins = {
      trustProxy: CidrList.fromTexts(config.trustProxy),
      publicUrl: config.publicUrl === undefined ? undefined : new URL(config.publicUrl),
    };
  }

  get tls(): boolean {
    return this.tlsPair !== undefined;
  }

  /** Resolves and remembers each request's origin before any route runs (WebSocket upgrades included). */
  plugin() {
    return new Elysia({ name: 'edge' }).onRequest(({ request }) => {
      rememberOrigin(request, resolveOrigin(request, this.listener?.peerOf(request), this.origins));
    });
  }

  /** What the API's per-address limits use. */
  readonly clientAddress: ClientAddressOf = (request) =>
    clientAddressOf(request) ?? resolveOrigin(request, this.listener?.peerOf(request), this.origins).address;

  /** Listens and starts the connection cap; throws what Bun throws from listen. */
  listen(app: ListenableApp, maxRequestBodySize: number): EdgeListener {
    const listener = new EdgeListener(app, { hostname: this.config.host, port: this.config.port, maxRequestBodySize }, this.tlsPair);
    listener.start();
    this.listener = listener;
    const cap = new ConnectionCap({
      perAddress: this.config.maxConnectionsPerAddress,
      ports: () => [listener.server.port ?? this.config.port],
      exempt: (address) => this.origins.trustProxy.contains(address),
      log: this.log,
    });
    const why = cap.start();
    if (why !== undefined) this.log.warn('server.connection_cap_off', { message: why });
    this.cap = cap;
    return listener;
  }

  /** SIGHUP: re-reads the certificate and key; a pair that does not load keeps the old one. */
  reloadTls(): TlsReload {
    if (!this.listener || this.config.tlsCert === undefined || this.config.tlsKey === undefined) {
      return { ok: false, error: 'TLS is not configured (--tls-cert/--tls-key)' };
    }
    const loaded = loadTlsPair({ certFile: this.config.tlsCert, keyFile: this.config.tlsKey });
    if (!loaded.ok) return { ok: false, error: `${loaded.error}; still serving the previous certificate` };
    try {
      this.listener.swapCertificate(loaded.pair);
    } catch (error) {
      return { ok: false, error: `the new certificate was refused (${error instanceof Error ? error.message : String(error)}); still serving the previous one` };
    }
    return { ok: true, subject: loaded.pair.subject, validTo: loaded.pair.validTo };
  }

  metrics(): string {
    return this.cap?.metrics() ?? '';
  }

  async stop(): Promise<void> {
    this.cap?.stop();
    await this.listener?.stop();
  }
}

export type EdgeCreate = { ok: true; edge: Edge } | { ok: false; error: string };

/** Reads the TLS pair (when configured) and builds the edge; a pair that does not load is the error. */
export function createEdge(config: EdgeConfig, log: Logger): EdgeCreate {
  let pair: TlsPair | undefined;
  if (config.tlsCert !== undefined && config.tlsKey !== undefined) {
    const loaded = loadTlsPair({ certFile: config.tlsCert, keyFile: config.tlsKey });
    if (!loaded.ok) return { ok: false, error: `invalid --tls-cert/--tls-key: ${loaded.error}` };
    pair = loaded.pair;
  }
  return { ok: true, edge: new Edge(config, log, pair) };
}

/** Whether connect tokens would cross the network in clear: no TLS and a listen address beyond loopback. */
export function tokensInClear(host: string, tls: boolean): boolean {
  if (tls) return false;
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return !(bare === 'localhost' || bare === '::1' || /^127\./.test(bare) || bare === '::ffff:127.0.0.1');
}
