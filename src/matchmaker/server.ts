/**
 * `huddle serve`: the results store, the registry over a launcher, the app listening on HTTP, a sweep timer, and
 * an orderly stop (drain the games, stop listening, close the store).
 */
import type { Config } from '../config.ts';
import { heartbeatIntervalMs } from '../config.ts';
import { silentLogger, type Logger } from '../log.ts';
import { BunWorkerLauncher, type GameLauncher } from '../workers/launcher.ts';
import { ChannelHub } from '../workers/channel-hub.ts';
import { ProcessLauncher } from '../workers/process-launcher.ts';
import { polledUdpUnavailable } from '../protocol/transport/udp-polled.ts';
import { channelRoutes, channelUpgrade } from './internal/channel-routes.ts';
import { writeLocator } from './locator.ts';
import { adoptionRecordPorts } from './registry/adopt.ts';
import { join } from 'node:path';
import type { AnyElysia } from 'elysia';
import { createApp, type MatchmakerApp } from './app.ts';
import { GameRegistry } from './registry.ts';
import { ResultsStore } from './results-store.ts';
import { createEdge, type TlsReload, tokensInClear } from './edge/edge.ts';
import { startReportListener } from './edge/report-listener.ts';
import { checkGamePorts, checkListenHost, listenFailure, StartupCheckError } from './edge/startup-checks.ts';
import type { ClientAddressOf } from './http.ts';
import { ClusterNode } from './cluster/cluster-node.ts';
import type { ClusterDirectory } from './cluster/directory.ts';
import { loadNodeId, nodeApiUrl } from './cluster/node-identity.ts';
import { RedisDirectory } from './cluster/redis-directory.ts';
import { SingleNodeDirectory } from './cluster/single-node-directory.ts';

export interface ServeOptions {
  config: Config;
  /** Defaults to one Bun Worker per game running src/workers/game-worker.ts. */
  launcher?: GameLauncher;
  log?: Logger;
  /**
   * Adds components that live beside the API (the relay, the web client): called once the registry exists, before
   * the app listens. `gameHost` is where the workers' UDP ports are reachable from this process.
   */
  extend?: (context: ServerContext) => ServerExtension;
  /**
   * The cluster directory for this node's id. Defaults to RedisDirectory with --redis-url, else
   * SingleNodeDirectory (one node, nothing shared). Tests pass an in-memory one shared by several servers.
   */
  directory?: (nodeId: string) => ClusterDirectory;
}

export interface ServerContext {
  config: Config;
  registry: GameRegistry;
  log: Logger;
  gameHost: string;
  /** The client address every per-address limit uses (the forwarded one only from a trusted proxy). */
  clientAddress: ClientAddressOf;
}

export interface ServerExtension {
  plugins?: readonly AnyElysia[];
  extraMetrics?: readonly (() => string)[];
  /** Called during stop, after the games are drained and before the HTTP server closes. */
  stop?: () => void | Promise<void>;
}

export interface RunningServer {
  /** The URL the server listens on, e.g. http://0.0.0.0:8080 or https://… under TLS (the real port when 0 was asked). */
  url: string;
  /** Whether it serves HTTPS/WSS (--tls-cert/--tls-key). */
  tls: boolean;
  /** No TLS on an address beyond loopback: connect tokens (which carry the connection's keys) travel in clear. */
  tokensInClear: boolean;
  /** SIGHUP: re-reads the certificate and key; on failure the previous pair keeps being served. */
  reloadTls(): TlsReload;
  /** The same server reached over loopback: what local tools and game workers use. */
  localUrl: string;
  port: number;
  app: MatchmakerApp;
  registry: GameRegistry;
  store: ResultsStore;
  /** This node's part of the cluster (its directory, publisher, front); a single node's when there is no --redis-url. */
  cluster: ClusterNode;
  /**
   * Drains (no new games, workers told to shut down and stopped) or detaches (`--on-stop`: process games play on
   * for the next start to adopt), stops listening, closes the store. Idempotent; `onStop` overrides the setting.
   */
  stop(reason?: string, onStop?: 'drain' | 'detach'): Promise<void>;
  /** Games taken back at start from an earlier matchmaker (`--launcher process`), and those lost in the restart. */
  adopted: { adopted: number; lost: number };
}

const SWEEP_INTERVAL_MS = 1000;
/**
 * How long the cluster waits for a node that detached its games (`--on-stop detach`) to come back before it
 * declares them lost: a restart or an upgrade, not an outage.
 */
export const DETACH_RESTART_WINDOW_MS = 60_000;

/** Host text for a URL: IPv6 in brackets, and the wildcard addresses replaced by loopback for local callers. */
export function loopbackHostFor(listenHost: string): string {
  if (listenHost === '0.0.0.0' || listenHost === '') return '127.0.0.1';
  if (listenHost === '::' || listenHost === '[::]') return '[::1]';
  return urlHost(listenHost);
}

function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * Starts serving. A setting that cannot work on this machine (bad --host, a game port or --port in use, an
 * unreadable or invalid TLS pair) throws a StartupCheckError whose message is one line for the CLI (exit 2).
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const { config } = options;
  const log = options.log ?? silentLogger;
  const created = createEdge(config, log);
  if (!created.ok) throw new StartupCheckError(created.error);
  const edge = created.edge;
  await checkListenHost(config.host);
  // Only real workers bind the game ports; a test's fake launcher binds nothing, so there is nothing to check.
  // Games a previous matchmaker left running (their records in the data dir) hold theirs: they are adopted below.
  const gamesDir = join(config.dataDir, 'games');
  if (options.launcher === undefined) await checkGamePorts(config.host, config.gamePorts, config.launcher === 'process' ? adoptionRecordPorts(gamesDir) : undefined);
  const nodeId = loadNodeId(config.dataDir);
  const directory =
    options.directory?.(nodeId) ??
    (config.redisUrl !== undefined ? new RedisDirectory({ url: config.redisUrl, nodeId, logger: log }) : new SingleNodeDirectory(nodeId));
  const store = new ResultsStore(config.dataDir);
  // `--launcher process`: each game a `huddle game` child whose supervision channel is a WebSocket to us.
  const launcher: GameLauncher =
    options.launcher ??
    (config.launcher === 'process'
      ? new ProcessLauncher({ hub: new ChannelHub(), logDir: gamesDir, locatorFile: join(config.dataDir, 'matchmaker.json'), udpReads: config.udpReads })
      : new BunWorkerLauncher({ udpReads: config.udpReads }));
  if (options.launcher === undefined && config.udpReads === 'wakes') {
    // Said once at start: the games then read each datagram as it comes, which costs more CPU, not correctness.
    const why = polledUdpUnavailable(config.host);
    if (why !== undefined) log.warn('server.udp_reads_each', { message: `games read UDP per datagram, not at their wakes: ${why}` });
  }
  // Games that outlive this process: their channels come over HTTP, and they have adoption records.
  const channels = launcher.channels;
  const processGames = channels !== undefined && launcher.adopt !== undefined;
  let localUrl = '';
  let reportBase = '';
  let extension: ServerExtension = {};
  let reports: ReturnType<typeof startReportListener> | undefined;
  let sweeper: ReturnType<typeof setInterval> | undefined;
  // Everything started so far, in reverse; each step runs even when one before it throws. Used by stop and by a
  // start that fails half-way (a port in use, a plugin that throws), which must leave nothing listening or open.
  // Set by a detaching stop: the cluster keeps this node's games that long for the restart to re-adopt them.
  let restartWindowMs: number | undefined;
  const release = async (): Promise<void> => {
    const steps: (() => unknown)[] = [() => clearInterval(sweeper), () => cluster.stop(undefined, restartWindowMs), () => extension.stop?.(), () => edge.stop(), () => reports?.stop(true), () => store.close()];
    let first: unknown;
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        first ??= error;
      }
    }
    if (first !== undefined) throw first;
  };
  let registry: GameRegistry;
  let app: MatchmakerApp;
  let listener;
  // The registry is built with the cluster's publisher as its observer; the cluster reads the registry lazily.
  const cluster = new ClusterNode({
    directory,
    registry: () => registry,
    store,
    log,
    workerStartTimeoutMs: config.workerStartTimeoutMs,
    shared: !(directory instanceof SingleNodeDirectory),
  });
  try {
    registry = new GameRegistry({
      settings: {
        maxGames: config.maxGames,
        maxPlayers: config.maxPlayers,
        gamePorts: config.gamePorts,
        publicHost: config.publicHost,
        bindHost: config.host,
        lobbyTimeoutSeconds: config.lobbyTimeoutSeconds,
        roundSeconds: config.roundSeconds,
        tokenExpirySeconds: config.tokenExpirySeconds,
        workerStartTimeoutMs: config.workerStartTimeoutMs,
        heartbeatTimeoutMs: config.heartbeatTimeoutMs,
        heartbeatIntervalMs: heartbeatIntervalMs(config),
        rejoinGraceSeconds: config.rejoinGraceSeconds,
        maxSpectators: config.maxSpectators,
        ticketsPerGame: config.ticketsPerGame,
        warmGames: config.warmGames,
      },
      launcher,
      store,
      ...(processGames ? { adoptionDir: gamesDir } : {}),
      // Workers report over loopback: the report route never needs to be reachable from outside.
      reportUrl: (gameId) => `${reportBase}/internal/games/${encodeURIComponent(gameId)}/report`,
      log,
      observer: cluster.publisher,
    });
    extension = options.extend?.({ config, registry, log, gameHost: loopbackHostFor(config.host).replace(/^\[|\]$/g, ''), clientAddress: edge.clientAddress }) ?? {};
    app = createApp({
      config,
      registry,
      store,
      log,
      clientAddress: edge.clientAddress,
      // The edge first: its hook resolves each request's origin before any route reads it.
      plugins: [edge.plugin(), ...(channels ? [channelRoutes(channels, log)] : []), ...(extension.plugins ?? [])],
      extraMetrics: [...(extension.extraMetrics ?? []), () => edge.metrics(), () => cluster.renderMetrics()],
      cluster: cluster.front,
    });
    try {
      // Bun's own limit answers with a bare 413; keep it well above ours so ours (JSON) answers first.
      listener = edge.listen(app, Math.max(config.maxBodyBytes * 4, 1024 * 1024));
    } catch (error) {
      throw listenFailure(error, config.host, config.port) ?? error;
    }
    const handle = app.handle.bind(app);
    // Workers report over plain loopback HTTP: under TLS to a listener of their own (the certificate names the public host).
    reports = edge.tls ? startReportListener((request) => handle(request), channels ? channelUpgrade(channels, log) : undefined) : undefined;
  } catch (error) {
    await release().catch(() => {});
    throw error;
  }
  const server = listener.server;
  app.attachServer(server);
  const port = server.port ?? config.port;
  const scheme = edge.tls ? 'https' : 'http';
  localUrl = `${scheme}://${loopbackHostFor(config.host)}:${port}`;
  const url = `${scheme}://${urlHost(config.host)}:${port}`;
  reportBase = reports ? `http://127.0.0.1:${reports.port}` : localUrl;
  let adopted = { adopted: 0, lost: 0 };
  if (processGames) {
    // Where our games find us after a restart that moved us (--port 0, the TLS report listener's random port).
    writeLocator(join(config.dataDir, 'matchmaker.json'), reportBase);
    adopted = registry.adopt();
    if (adopted.adopted + adopted.lost > 0) log.info('server.adopted', { count: adopted.adopted, live: registry.live, message: `${adopted.lost} lost in the restart` });
  }
  sweeper = setInterval(() => registry.sweep(), SWEEP_INTERVAL_MS);
  sweeper.unref();
  // Joins the cluster once the port is known (it names this node's API); Redis down only delays it.
  const apiUrl = nodeApiUrl(config.nodeUrl, config.publicHost, port);
  try {
    await cluster.start(() => ({ nodeId, apiUrl, live: registry.live, maxGames: config.maxGames, draining: registry.draining }));
  } catch (error) {
    await release().catch(() => {});
    throw error;
  }
  // Once the start cannot fail any more (nothing would stop them), and after adoption: warm games take what slots
  // and ports the adopted games left.
  registry.warmUp();

  let stopping: Promise<void> | undefined;
  const stop = (reason = 'the server is shutting down', onStop?: 'drain' | 'detach'): Promise<void> => {
    // auto: process games outlive us (the next start adopts them); worker games cannot.
    const mode = onStop ?? (config.onStop === 'auto' ? (processGames ? 'detach' : 'drain') : config.onStop);
    stopping ??= (async () => {
      log.info(mode === 'detach' && processGames ? 'server.detaching' : 'server.draining', { live: registry.live, reason });
      try {
        if (mode === 'detach' && processGames) {
          restartWindowMs = DETACH_RESTART_WINDOW_MS;
          await registry.detach(reason);
        }
        else await registry.drain(reason);
      } finally {
        // A drain that throws still stops listening and closes the store.
        await release();
      }
      log.info('server.stopped', {});
    })();
    return stopping;
  };
  return {
    url,
    localUrl,
    port,
    tls: edge.tls,
    tokensInClear: tokensInClear(config.host, edge.tls),
    reloadTls: () => edge.reloadTls(),
    app,
    registry,
    store,
    cluster,
    stop,
    adopted,
  };
}
