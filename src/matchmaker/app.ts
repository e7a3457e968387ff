/**
 * The matchmaker's Elysia app, assembled from one small controller per concern. Everything stateful is passed in
 * (registry, store, limiter), so tests build the app around a fake launcher and call `app.handle(request)`.
 *
 * Uniform errors: whatever goes wrong — a GameError from the registry, a schema violation, bad JSON, a body too
 * large, an unknown route — the answer is `{error: {code, message}}` with its status (and Retry-After or
 * WWW-Authenticate where they apply).
 */
import { type AnyElysia, Elysia } from 'elysia';
import type { Config } from '../config.ts';
import { renderSuppressedLines, silentLogger, type Logger } from '../log.ts';
import { adminController } from './admin/controller.ts';
import { AdminService } from './admin/service.ts';
import { docsPlugin } from './docs.ts';
import { type ErrorCode, errorBody, GameError } from './errors.ts';
import { gamesController } from './games/controller.ts';
import { GamesService } from './games/service.ts';
import type { ClientAddressOf } from './http.ts';
import { internalController } from './internal/controller.ts';
import { leaderboardController } from './leaderboard/controller.ts';
import { opsController } from './ops/controller.ts';
import { JoinLimiter } from './rate-limit.ts';
import type { GameRegistry } from './registry.ts';
import type { ResultsStore } from './results-store.ts';
import type { ClusterFront } from './cluster/front.ts';
import { requestPath } from './edge/request-url.ts';

export type AppConfig = Pick<Config, 'maxPlayers' | 'maxBodyBytes' | 'createToken' | 'joinFailuresPerAddress' | 'joinFailuresGlobal'> &
  Partial<Pick<Config, 'joinFailuresPerPrefix' | 'adminToken'>>;

export interface AppDeps {
  config: AppConfig;
  registry: GameRegistry;
  store: ResultsStore;
  log?: Logger;
  /** Defaults to limits from the config on the real clock. */
  limiter?: JoinLimiter;
  /** Defaults to the peer address Bun's server saw. */
  clientAddress?: ClientAddressOf;
  /** More routes under the same error handling and docs (the relay, the web client). */
  plugins?: readonly AnyElysia[];
  /** More Prometheus text appended to /metrics (each ends with a newline). */
  extraMetrics?: readonly (() => string)[];
  /** Several nodes: what this node does not host is forwarded to the node that does (cluster/front.ts). */
  cluster?: ClusterFront;
}

export function createApp(deps: AppDeps) {
  const log = deps.log ?? silentLogger;
  const limiter =
    deps.limiter ??
    new JoinLimiter({
      perAddressPerMinute: deps.config.joinFailuresPerAddress,
      ...(deps.config.joinFailuresPerPrefix !== undefined ? { perPrefixPerMinute: deps.config.joinFailuresPerPrefix } : {}),
      globalPerMinute: deps.config.joinFailuresGlobal,
    });
  const service = new GamesService(deps.registry, limiter, deps.registry.metrics, log, deps.config.createToken);
  const maxBody = deps.config.maxBodyBytes;

  // Declared before the app so the default address lookup can reach the server once it listens.
  let server: { requestIP(request: Request): { address: string } | null } | null = null;
  const clientAddress: ClientAddressOf = deps.clientAddress ?? ((request) => server?.requestIP(request)?.address ?? 'unknown');

  // WebSocket frames are netcode datagrams (≤ 1225 bytes): refuse huge frames in Bun before they are buffered.
  const app = new Elysia({ name: 'huddle', websocket: { maxPayloadLength: 64 * 1024 } })
    .onRequest(({ request }) => {
      const length = Number(request.headers.get('content-length') ?? 0);
      if (length > maxBody) throw new GameError('payload_too_large', `the body is larger than ${maxBody} bytes`);
    })
    .onParse(async ({ request, contentType }) => {
      // Bodiless requests (and the relay's WebSocket upgrade, which Elysia also runs parse hooks for) pass.
      if (request.method === 'GET' || request.method === 'HEAD') return;
      // Every body here is JSON; read it ourselves so a body without Content-Length is capped too.
      if (!/^application\/json\b/i.test(contentType ?? '')) {
        throw new GameError('unsupported_media_type', 'send the body as application/json');
      }
      const text = await readCapped(request, maxBody);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new GameError('bad_request', 'the body is not valid JSON');
      }
    })
    .onError({ as: 'global' }, ({ code, error: thrown, set, request }) => {
      // Elysia wraps whatever a parser throws in its ParseError; ours are GameErrors with their own status.
      const error = code === 'PARSE' && thrown.cause instanceof GameError ? thrown.cause : thrown;
      let status: number;
      let body: ReturnType<typeof errorBody>;
      if (error instanceof GameError) {
        status = error.status;
        body = errorBody(error.code, error.message);
        Object.assign(set.headers, error.headers);
      } else if (code === 'VALIDATION') {
        status = 422;
        body = errorBody('validation_failed', validationMessage(error));
      } else if (code === 'PARSE') {
        status = 400;
        body = errorBody('bad_request', 'the body could not be parsed');
      } else if (code === 'NOT_FOUND') {
        status = 404;
        body = errorBody('not_found', `no route ${request.method} ${requestPath(request)}`);
      } else {
        status = 500;
        body = errorBody('internal' satisfies ErrorCode, 'internal error');
        log.error('http.error', { url: requestPath(request), message: error instanceof Error ? error.message : String(code) });
      }
      set.status = status;
      set.headers['content-type'] = 'application/json; charset=utf-8';
      return body;
    })
    .use(docsPlugin())
    .use(gamesController({ service, maxPlayers: deps.config.maxPlayers, clientAddress, ...(deps.cluster ? { cluster: deps.cluster } : {}) }))
    .use(leaderboardController(deps.store, deps.cluster))
    .use(internalController(deps.registry))
    .use(adminController({ service: new AdminService(deps.registry, log, deps.config.adminToken), clientAddress }))
    // The log sampler's suppressed counts: what a flood of client-caused lines cost, in numbers instead of lines.
    .use(opsController(deps.registry, [...(deps.extraMetrics ?? []), () => renderSuppressedLines(log)]));
  for (const plugin of deps.plugins ?? []) app.use(plugin);

  return Object.assign(app, {
    /** Lets the default client-address lookup use the listening server (call after `listen`). */
    attachServer(s: typeof server) {
      server = s;
    },
  });
}

export type MatchmakerApp = ReturnType<typeof createApp>;

async function readCapped(request: Request, max: number): Promise<string> {
  if (!request.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw new GameError('payload_too_large', `the body is larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** "where: what" for the first schema violation, without echoing the submitted value. */
function validationMessage(error: unknown): string {
  const first = (error as { all?: { path?: string; summary?: string; message?: string }[] }).all?.[0];
  if (!first) return 'the request does not match the schema';
  const where = first.path ? first.path.replace(/^\//, '').replace(/\//g, '.') : 'request';
  return `${where}: ${first.summary ?? first.message ?? 'invalid'}`;
}
