/**
 * `huddle serve`: the results store, the registry over a launcher, the app listening on HTTP, a sweep timer, and
 * an orderly stop (drain the games, stop listening, close the store).
 */
import type { Config } from '../config.ts';
import { heartbeatIntervalMs } from '../config.ts';
import { silentLogger, type Logger } from '../log.ts';
import { BunWorkerLauncher, type GameLauncher } from '../workers/launcher.ts';
import type { AnyElysia } from 'elysia';
import { createApp, type MatchmakerApp } from './app.ts';
import { GameRegistry } from './registry.ts';
import { ResultsStore } from './results-store.ts';

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
}

export interface ServerContext {
  config: Config;
  registry: GameRegistry;
  log: Logger;
  gameHost: string;
}

export interface ServerExtension {
  plugins?: readonly AnyElysia[];
  extraMetrics?: readonly (() => string)[];
  /** Called during stop, after the games are drained and before the HTTP server closes. */
  stop?: () => void | Promise<void>;
}

export interface RunningServer {
  /** The URL the server listens on, e.g. http://0.0.0.0:8080 (the real port when 0 was asked). */
  url: string;
  /** The same server reached over loopback: what local tools and game workers use. */
  localUrl: string;
  port: number;
  app: MatchmakerApp;
  registry: GameRegistry;
  store: ResultsStore;
  /** Drains (no new games, workers told to shut down and stopped), stops listening, closes the store. Idempotent. */
  stop(reason?: string): Promise<void>;
}

const SWEEP_INTERVAL_MS = 1000;

/** Host text for a URL: IPv6 in brackets, and the wildcard addresses replaced by loopback for local callers. */
export function loopbackHostFor(listenHost: string): string {
  if (listenHost === '0.0.0.0' || listenHost === '') return '127.0.0.1';
  if (listenHost === '::' || listenHost === '[::]') return '[::1]';
  return urlHost(listenHost);
}

function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const { config } = options;
  const log = options.log ?? silentLogger;
  const store = new ResultsStore(config.dataDir);
  let localUrl = '';
  const registry = new GameRegistry({
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
    },
    launcher: options.launcher ?? new BunWorkerLauncher(),
    store,
    // Workers report over loopback: the report route never needs to be reachable from outside.
    reportUrl: (gameId) => `${localUrl}/internal/games/${encodeURIComponent(gameId)}/report`,
    log,
  });
  const extension = options.extend?.({ config, registry, log, gameHost: loopbackHostFor(config.host).replace(/^\[|\]$/g, '') }) ?? {};
  const app = createApp({
    config,
    registry,
    store,
    log,
    ...(extension.plugins ? { plugins: extension.plugins } : {}),
    ...(extension.extraMetrics ? { extraMetrics: extension.extraMetrics } : {}),
  });
  try {
    app.listen({
      hostname: config.host,
      port: config.port,
      // Bun's own limit answers with a bare 413; keep it well above ours so ours (JSON) answers first.
      maxRequestBodySize: Math.max(config.maxBodyBytes * 4, 1024 * 1024),
    });
  } catch (error) {
    store.close();
    throw error;
  }
  const server = app.server;
  if (!server) throw new Error('the HTTP server did not start');
  app.attachServer(server);
  const port = server.port ?? config.port;
  localUrl = `http://${loopbackHostFor(config.host)}:${port}`;
  const url = `http://${urlHost(config.host)}:${port}`;
  const sweeper = setInterval(() => registry.sweep(), SWEEP_INTERVAL_MS);
  sweeper.unref();

  let stopping: Promise<void> | undefined;
  const stop = (reason = 'the server is shutting down'): Promise<void> => {
    stopping ??= (async () => {
      log.info('server.draining', { live: registry.live, reason });
      await registry.drain(reason);
      clearInterval(sweeper);
      await extension.stop?.();
      await app.stop(true);
      store.close();
      log.info('server.stopped', {});
    })();
    return stopping;
  };
  return { url, localUrl, port, app, registry, store, stop };
}
