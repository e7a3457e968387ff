/**
 * The cluster directory in a real redis-server (`--redis-url`), over Bun's built-in RedisClient through RedisLink.
 * Key layout and scripts: redis-scripts.ts; what is stored and for how long: docs/OPERATIONS.md, "Redis keys".
 *
 * Bun 1.4.4's RedisClient, as measured against redis-server 7.0 (the reasons RedisLink is what it is):
 * - Defaults (autoReconnect, offline queue on, maxRetries 20): a command sent while the server is down is queued
 *   and its promise stays pending until the link is back: `get` waited the whole outage (12 s in the experiment),
 *   then answered. No `onclose` fires when the server dies, only when Bun gives up after maxRetries (with
 *   maxRetries 3 that was ~350 ms after the kill); after that every command rejects at once with
 *   ERR_REDIS_CONNECTION_CLOSED "Connection has failed" and nothing reconnects until `connect()` is called.
 * - `enableOfflineQueue: false`: a command on a closed link rejects at once (ERR_REDIS_CONNECTION_CLOSED,
 *   "Connection is closed and offline queue is disabled"), also before the first `connect()`, which is lazy.
 * - `autoReconnect: false`: `onclose` fires at once when the server dies; `connect()` to a dead port rejects at
 *   once; `connect()` to a SIGSTOPped server (kernel accepts, HELLO never answered) rejects after
 *   `connectionTimeout`; `connect()` may be called again on the same client after a close.
 * - A SIGSTOPped server keeps the socket open: commands never settle and Bun has no command timeout, so each
 *   call here has its own timer; `close()` rejects whatever is pending (ERR_REDIS_CONNECTION_CLOSED).
 * - The client speaks RESP3: HGETALL answers a null-prototype object, a Lua table an array, a Lua nil null, and
 *   a server error (a failing script) rejects with ERR_REDIS_SERVER_ERROR.
 *
 * Node loss (NodeLiveness decides, the REAP script acts): every node beats its heartbeat key (TTL 2.5 s) every
 * second and, twice a second, asks which members' heartbeats are missing. A member missing on two checks at least
 * 1.5 s apart, while our link was up throughout (and, after an outage of our own, has been back for 5 s), is
 * reaped by whichever node claims it first. From a node's last beat to its games being `failed`: 4.0 s measured, at
 * most ~4.6 s by these timings (expiry ≤ 2.5 s, first sighting ≤ 0.5 s later, confirmation 1.5 s later).
 *
 * Ids (node and game) must match ID_PATTERN: they are parts of key names and of "<gameId>@<nodeId>" values.
 */
import { GAME_STATES, type GameState } from '../metrics.ts';
import { type LeaderboardEntry, type StoredGame, withRanks } from '../results-store.ts';
import { errorMessage } from '../registry/lifecycle.ts';
import { DIFFICULTIES } from '../../game/lobby.ts';
import { type Logger, silentLogger } from '../../log.ts';
import { type ClusterDirectory, ClusterUnavailableError, type GameSummary, keyRoute, type NodeInfo } from './directory.ts';
import { NodeLiveness } from './node-liveness.ts';
import { DEFAULT_LINK_OPTIONS, RedisLink, type RedisLinkOptions } from './redis-link.ts';
import * as scripts from './redis-scripts.ts';
import { parseRouteValue, RedisKeys, routeValue } from './redis-scripts.ts';

/** Public fields a summary may carry besides the required ones (stored when present). */
interface OptionalSummaryFields {
  maxPlayers?: number;
  difficulty?: StoredGame['difficulty'] | null;
}

export const ID_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;
const KEY_HASH_PATTERN = /^[0-9a-f]{64}$/;
const ENDED_STATES: ReadonlySet<GameState> = new Set(['finished', 'failed']);

const SECOND = 1000;
const DAY = 86_400 * SECOND;

export interface RedisDirectoryTiming {
  heartbeatMs: number;
  heartbeatTtlMs: number;
  checkMs: number;
  /** A heartbeat missing on two checks this far apart is lost… */
  confirmMs: number;
  /** …if our own link has been up this long (others cut off by the same outage need it to come back). */
  settleMs: number;
  reapClaimMs: number;
  /** start() rejects if this node is not registered by then (it keeps trying). */
  startTimeoutMs: number;
  passcodeTtlMs: number;
  keyRouteTtlMs: number;
  summaryTtlMs: number;
  resultsTtlMs: number;
  /** How long a lost node's fencing notice waits for it to come back. */
  lostNoticeTtlMs: number;
  /** Entries kept per difficulty's leaderboard (the best ones): a limit up to this answers exactly. */
  leaderboardCap: number;
}

export const DEFAULT_TIMING: RedisDirectoryTiming = {
  heartbeatMs: SECOND,
  heartbeatTtlMs: 2500,
  checkMs: 500,
  confirmMs: 1500,
  settleMs: 5 * SECOND,
  reapClaimMs: 10 * SECOND,
  startTimeoutMs: 2 * SECOND,
  passcodeTtlMs: DAY,
  keyRouteTtlMs: DAY,
  summaryTtlMs: 7 * DAY,
  resultsTtlMs: 30 * DAY,
  lostNoticeTtlMs: DAY,
  leaderboardCap: 1000,
};

export interface RedisDirectoryOptions {
  /** redis:// or rediss:// URL. Never logged (it may carry a password). */
  url: string;
  nodeId: string;
  /** Every key starts with it (default `huddle:`): several clusters, or tests, can share one Redis. */
  prefix?: string;
  logger?: Logger;
  timing?: Partial<RedisDirectoryTiming>;
  link?: Partial<RedisLinkOptions>;
}

export class RedisDirectory implements ClusterDirectory {
  readonly nodeId: string;
  private readonly keys: RedisKeys;
  private readonly timing: RedisDirectoryTiming;
  private readonly log: Logger;
  private readonly link: RedisLink;
  private readonly liveness: NodeLiveness;
  private readonly reconnectListeners: (() => void)[] = [];
  private readonly lostListeners: ((gameIds: string[]) => void)[] = [];
  private self: (() => NodeInfo) | undefined;
  private stopped = false;
  /** Set as stop() begins: no beat or check is scheduled after it. */
  private halted = false;
  /** The link came up and the node has not yet announced itself since (onReconnect is due). */
  private announceDue = false;
  private registered: (() => void) | undefined;
  private startTimer: Timer | undefined;
  private failStart: ((error: Error) => void) | undefined;
  private beatTimer: ReturnType<typeof setTimeout> | undefined;
  private checkTimer: ReturnType<typeof setTimeout> | undefined;
  private beating = false;
  /** The link broke at least once: from then on a reconnection waits settleMs before declaring anyone lost. */
  private hadOutage = false;
  private checking = false;

  constructor(options: RedisDirectoryOptions) {
    if (!ID_PATTERN.test(options.nodeId)) throw new TypeError(`node id ${JSON.stringify(options.nodeId)} must match ${ID_PATTERN}`);
    this.nodeId = options.nodeId;
    this.keys = new RedisKeys(options.prefix ?? 'huddle:');
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.log = options.logger ?? silentLogger;
    this.liveness = new NodeLiveness({ confirmMs: this.timing.confirmMs, settleMs: this.timing.settleMs });
    this.link = new RedisLink(options.url, { ...DEFAULT_LINK_OPTIONS, ...options.link }, {
      up: () => this.linkUp(),
      down: (reason) => this.linkDown(reason),
    });
  }

  get available(): boolean {
    return !this.stopped && this.link.up;
  }

  start(self: () => NodeInfo): Promise<void> {
    if (this.self) return Promise.reject(new Error('the cluster directory was already started'));
    if (this.stopped) return Promise.reject(new ClusterUnavailableError('the cluster directory is stopped'));
    this.self = self;
    const registered = new Promise<void>((resolve, reject) => {
      this.failStart = (error) => {
        clearTimeout(this.startTimer);
        this.registered = undefined;
        this.failStart = undefined;
        reject(error);
      };
      this.startTimer = setTimeout(
        () => this.failStart?.(new ClusterUnavailableError(`could not register with Redis within ${this.timing.startTimeoutMs} ms (still trying)`)),
        this.timing.startTimeoutMs,
      );
      this.registered = () => {
        clearTimeout(this.startTimer);
        this.registered = undefined;
        this.failStart = undefined;
        resolve();
      };
    });
    this.link.start();
    this.scheduleBeat(this.timing.heartbeatMs);
    this.scheduleCheck(this.timing.checkMs);
    return registered;
  }

  /**
   * Stops beating and checking, removes this node's heartbeat (the node stays a member, so whatever it left
   * unended is reaped by the others like a lost node's) and closes the link. With `restartWindowMs` (the process
   * launcher's detach: its games play on for the next start to adopt) the heartbeat is written once more, marked
   * draining so no create is sent here, to live that long: the others declare this node's games lost only if it
   * has not come back by then. `keepHeartbeat` leaves the heartbeat to expire by itself, as a killed node's does.
   */
  async stop(options: { restartWindowMs?: number; keepHeartbeat?: boolean } = {}): Promise<void> {
    if (this.halted) return;
    this.halted = true;
    clearTimeout(this.beatTimer);
    clearTimeout(this.checkTimer);
    // A start still waiting to register fails now, not with a timer that outlives the stop.
    this.failStart?.(new ClusterUnavailableError('the cluster directory was stopped before it registered'));
    this.registered = undefined;
    if (this.link.up && !options.keepHeartbeat) {
      const window = options.restartWindowMs;
      const last = window !== undefined && window > 0 && this.self ? { ...this.self(), nodeId: this.nodeId, draining: true } : undefined;
      const command: [string, string[]] = last
        ? ['SET', [this.keys.heartbeat(this.nodeId), JSON.stringify(last), 'PX', String(Math.round(window as number))]]
        : ['DEL', [this.keys.heartbeat(this.nodeId)]];
      await this.link.call(command[0], command[1]).catch(() => {});
    }
    this.stopped = true;
    this.link.close();
  }

  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  onGamesLost(listener: (gameIds: string[]) => void): void {
    this.lostListeners.push(listener);
  }

  async nodes(): Promise<NodeInfo[]> {
    const beats = await this.eval(scripts.LIVE, [this.keys.nodes()], [this.keys.prefix]);
    return asStrings(beats)
      .map(parseNodeInfo)
      .filter((n): n is NodeInfo => n !== undefined)
      .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  }

  async node(nodeId: string): Promise<NodeInfo | undefined> {
    if (!ID_PATTERN.test(nodeId)) return undefined;
    return parseNodeInfo(await this.call('GET', [this.keys.heartbeat(nodeId)]));
  }

  async reservePasscode(code: string, gameId: string): Promise<boolean> {
    checkId('game id', gameId);
    const hash = keyRoute(code);
    const held = await this.eval(
      scripts.RESERVE_PASSCODE,
      [this.keys.passcode(hash), this.keys.gamePasscodes(gameId), this.keys.nodeGames(this.nodeId)],
      [routeValue(gameId, this.nodeId), String(this.timing.passcodeTtlMs), hash, gameId],
    );
    return held === 1;
  }

  async releasePasscode(code: string, gameId: string): Promise<void> {
    checkId('game id', gameId);
    const hash = keyRoute(code);
    await this.eval(scripts.RELEASE_PASSCODE, [this.keys.passcode(hash), this.keys.gamePasscodes(gameId)], [routeValue(gameId, this.nodeId), hash]);
  }

  async passcodeRoute(code: string): Promise<{ gameId: string; nodeId: string } | undefined> {
    return parseRouteValue(await this.call('GET', [this.keys.passcode(keyRoute(code))]));
  }

  async publishKeyRoutes(gameId: string, keyHashes: readonly string[]): Promise<void> {
    checkId('game id', gameId);
    for (const hash of keyHashes) {
      // The one guard against a raw key reaching Redis by mistake: only a SHA-256 hex passes.
      if (!KEY_HASH_PATTERN.test(hash)) throw new TypeError('publishKeyRoutes takes key hashes (keyRoute()), never keys');
    }
    if (keyHashes.length === 0) return;
    await this.eval(
      scripts.PUBLISH_KEY_ROUTES,
      [this.keys.gameKeys(gameId), this.keys.nodeGames(this.nodeId)],
      [this.keys.prefix, routeValue(gameId, this.nodeId), String(this.timing.keyRouteTtlMs), gameId, ...keyHashes],
    );
  }

  async keyRoute(keyHash: string): Promise<{ gameId: string; nodeId: string } | undefined> {
    if (!KEY_HASH_PATTERN.test(keyHash)) return undefined;
    return parseRouteValue(await this.call('GET', [this.keys.keyRoute(keyHash)]));
  }

  async publishGame(summary: GameSummary): Promise<void> {
    checkId('game id', summary.gameId);
    checkId('node id', summary.nodeId);
    if (!(GAME_STATES as readonly string[]).includes(summary.state)) throw new TypeError(`unknown game state ${JSON.stringify(summary.state)}`);
    if (!Number.isFinite(summary.createdAt)) throw new TypeError('createdAt must be a number (unix ms)');
    const ended = ENDED_STATES.has(summary.state);
    // Optional public fields of a summary, kept when given ('' stands for a null difficulty).
    const extra: string[] = [];
    const { maxPlayers, difficulty } = summary as GameSummary & OptionalSummaryFields;
    if (typeof maxPlayers === 'number' && Number.isFinite(maxPlayers)) extra.push('maxPlayers', String(maxPlayers));
    if (difficulty === null || (typeof difficulty === 'string' && (DIFFICULTIES as readonly string[]).includes(difficulty))) extra.push('difficulty', difficulty ?? '');
    await this.eval(
      scripts.PUBLISH_GAME,
      [this.keys.game(summary.gameId), this.keys.nodeGames(summary.nodeId)],
      [summary.gameId, summary.nodeId, summary.state, summary.endReason ?? '', String(summary.createdAt), String(this.timing.summaryTtlMs), ended ? '1' : '0', ...extra],
    );
  }

  async game(gameId: string): Promise<GameSummary | undefined> {
    if (!ID_PATTERN.test(gameId)) return undefined;
    const fields = (await this.call('HGETALL', [this.keys.game(gameId)])) as Record<string, string> | null;
    if (!fields || typeof fields.state !== 'string' || typeof fields.nodeId !== 'string') return undefined;
    if (!(GAME_STATES as readonly string[]).includes(fields.state)) return undefined;
    const summary: GameSummary & OptionalSummaryFields = {
      gameId,
      nodeId: fields.nodeId,
      state: fields.state as GameState,
      // Stored as '' for none (a hash field cannot hold null).
      endReason: fields.endReason ? fields.endReason : null,
      createdAt: Number(fields.createdAt),
    };
    if (fields.maxPlayers !== undefined) summary.maxPlayers = Number(fields.maxPlayers);
    if (fields.difficulty !== undefined) summary.difficulty = fields.difficulty === '' ? null : (fields.difficulty as StoredGame['difficulty']);
    return summary;
  }

  async publishResults(game: StoredGame): Promise<void> {
    checkId('game id', game.gameId);
    if (!(DIFFICULTIES as readonly string[]).includes(game.difficulty)) throw new TypeError(`unknown difficulty ${JSON.stringify(game.difficulty)}`);
    const entries: string[] = [];
    if (game.outcome === 'finished') {
      // Positions as ResultsStore.saveGame gives them: best first, a stable sort, so equal scores keep their order.
      const ordered = [...game.players].sort((a, b) => b.score - a.score);
      ordered.forEach((p, position) => entries.push(String(-p.score), leaderboardMember(game.finishedAt, position, game.gameId, p.name)));
    }
    await this.eval(
      scripts.PUBLISH_RESULTS,
      [this.keys.results(game.gameId), this.keys.leaderboard(game.difficulty)],
      [JSON.stringify(game), String(this.timing.resultsTtlMs), String(this.timing.leaderboardCap), ...entries],
    );
  }

  async reconcile(liveGameIds: readonly string[]): Promise<number> {
    for (const gameId of liveGameIds) checkId('game id', gameId);
    // No await before the script is sent: a game created after the caller's snapshot claims its passcode after it.
    const failed = await this.eval(scripts.RECONCILE, [this.keys.nodeGames(this.nodeId)], [this.keys.prefix, this.nodeId, ...liveGameIds]);
    return typeof failed === 'number' ? failed : 0;
  }

  async results(gameId: string): Promise<StoredGame | undefined> {
    if (!ID_PATTERN.test(gameId)) return undefined;
    const json = await this.call('GET', [this.keys.results(gameId)]);
    // Written by another node, or by anyone with Redis access: a copy that does not read as results is none.
    return typeof json === 'string' ? parseStoredGame(json, gameId) : undefined;
  }

  /** As ResultsStore.leaderboard over every node's published results: score desc, earlier first, then position. */
  async leaderboard(difficulty: StoredGame['difficulty'], limit: number): Promise<LeaderboardEntry[]> {
    if (!(DIFFICULTIES as readonly string[]).includes(difficulty)) throw new TypeError(`unknown difficulty ${JSON.stringify(difficulty)}`);
    const count = Math.min(Math.floor(limit), this.timing.leaderboardCap);
    if (!(count > 0)) return [];
    const flat = asStrings(await this.eval(scripts.LEADERBOARD, [this.keys.leaderboard(difficulty)], [String(count)]));
    const rows: Omit<LeaderboardEntry, 'rank'>[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const row = parseLeaderboardMember(flat[i] as string, 0 - Number(flat[i + 1]));
      if (row) rows.push(row);
    }
    return withRanks(rows);
  }

  // --- the link, the beat and the check -------------------------------------------------------------------------

  private linkUp(): void {
    this.announceDue = true;
    this.log.info('cluster.redis_up');
    // Register at once rather than at the next tick: new games wait for it.
    if (this.self) this.scheduleBeat(0);
  }

  private linkDown(reason: string): void {
    this.hadOutage = true;
    this.liveness.reset();
    if (!this.stopped) this.log.warn('cluster.redis_down', { reason });
  }

  private scheduleBeat(delayMs: number): void {
    clearTimeout(this.beatTimer);
    if (this.halted) return;
    this.beatTimer = setTimeout(() => void this.beat(), delayMs);
  }

  private scheduleCheck(delayMs: number): void {
    clearTimeout(this.checkTimer);
    if (this.halted) return;
    this.checkTimer = setTimeout(() => void this.check(), delayMs);
  }

  private async beat(): Promise<void> {
    if (this.beating || !this.self) return;
    this.beating = true;
    try {
      if (!this.link.up) return;
      const info: NodeInfo = { ...this.self(), nodeId: this.nodeId };
      const reply = await this.eval(
        scripts.BEAT,
        [this.keys.heartbeat(this.nodeId), this.keys.nodes(), this.keys.nodeLost(this.nodeId)],
        [JSON.stringify(info), String(this.timing.heartbeatTtlMs), this.nodeId],
      );
      const [added, lost] = Array.isArray(reply) ? reply : [];
      const lostIds = asStrings(lost);
      if (lostIds.length > 0) {
        this.log.error('cluster.games_lost', { count: lostIds.length, message: 'the cluster declared games of this node lost while it was cut off' });
        this.notify(this.lostListeners, lostIds);
      }
      // Not a member any more although it was one: Redis lost its data, or the cluster reaped this node.
      if (this.announceDue || added === 1) {
        this.announceDue = false;
        this.notify(this.reconnectListeners, undefined);
      }
      this.registered?.();
    } catch (error) {
      if (!(error instanceof ClusterUnavailableError)) this.log.error('cluster.beat_failed', { message: errorMessage(error) });
    } finally {
      this.beating = false;
      this.scheduleBeat(this.timing.heartbeatMs);
    }
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      if (!this.link.up) return;
      const missing = asStrings(await this.eval(scripts.MISSING, [this.keys.nodes()], [this.keys.prefix, this.nodeId]));
      const upSince = this.link.upSince;
      const lost = this.liveness.observe(missing, performance.now(), upSince, this.hadOutage ? upSince : Number.NEGATIVE_INFINITY);
      for (const nodeId of lost) await this.reap(nodeId);
    } catch (error) {
      if (!(error instanceof ClusterUnavailableError)) this.log.error('cluster.check_failed', { message: errorMessage(error) });
    } finally {
      this.checking = false;
      this.scheduleCheck(this.timing.checkMs);
    }
  }

  private async reap(nodeId: string): Promise<void> {
    if (!ID_PATTERN.test(nodeId)) return;
    const result = await this.eval(
      scripts.REAP,
      [this.keys.heartbeat(nodeId), this.keys.nodes(), this.keys.reapClaim(nodeId), this.keys.nodeGames(nodeId), this.keys.nodeLost(nodeId)],
      [this.keys.prefix, nodeId, this.nodeId, String(this.timing.reapClaimMs), String(this.timing.lostNoticeTtlMs)],
    );
    if (typeof result === 'number' && result >= 0) this.log.warn('cluster.node_lost', { message: `node ${nodeId} lost its heartbeat; its games are failed (node_lost)`, count: result });
  }

  private notify<T>(listeners: readonly ((value: T) => void)[], value: T): void {
    for (const listener of listeners) {
      try {
        listener(value);
      } catch (error) {
        this.log.error('cluster.listener_failed', { message: errorMessage(error) });
      }
    }
  }

  private call(command: string, args: readonly string[]): Promise<unknown> {
    if (this.stopped) return Promise.reject(new ClusterUnavailableError('the cluster directory is stopped'));
    return this.link.call(command, args);
  }

  private eval(script: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.call('EVAL', [script, String(keys.length), ...keys, ...args]);
  }
}

function checkId(what: string, id: string): void {
  if (!ID_PATTERN.test(id)) throw new TypeError(`${what} ${JSON.stringify(id)} must match ${ID_PATTERN}`);
}

function asStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A heartbeat as another node (or anyone with Redis access) wrote it; undefined unless it reads as one. */
export function parseNodeInfo(json: unknown): NodeInfo | undefined {
  if (typeof json !== 'string') return undefined;
  try {
    const n = JSON.parse(json) as Partial<NodeInfo>;
    if (typeof n.nodeId !== 'string' || typeof n.apiUrl !== 'string' || !isHttpOrigin(n.apiUrl)) return undefined;
    return { nodeId: n.nodeId, apiUrl: n.apiUrl, live: Number(n.live) || 0, maxGames: Number(n.maxGames) || 0, draining: n.draining === true };
  } catch {
    return undefined;
  }
}

/** Sorts within one score as the SQL does: finishedAt ascending, then position (fixed width, so by text). */
function leaderboardMember(finishedAt: number, position: number, gameId: string, name: string): string {
  return `${String(finishedAt).padStart(15, '0')}:${String(position).padStart(6, '0')}:${gameId}:${name}`;
}

function parseLeaderboardMember(member: string, score: number): Omit<LeaderboardEntry, 'rank'> | undefined {
  const match = /^(\d{15}):\d{6}:([A-Za-z0-9_.-]+):(.*)$/s.exec(member);
  if (!match) return undefined;
  return { name: match[3] as string, score, gameId: match[2] as string, finishedAt: Number(match[1]) };
}

/** Requests are forwarded to a node's apiUrl: nothing but a plain http(s) origin, as --node-url is checked. */
function isHttpOrigin(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '' && url.pathname === '/' && url.search === '' && url.hash === '';
}

/** A results copy as another node wrote it; undefined unless it has the shape the routes read. */
export function parseStoredGame(json: string, gameId: string): StoredGame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const g = value as Record<string, unknown>;
  const playersOk =
    Array.isArray(g.players) &&
    g.players.every((p: unknown) => {
      const q = p as Record<string, unknown> | null;
      return typeof q === 'object' && q !== null && typeof q.name === 'string' && Number.isFinite(q.score) && Number.isInteger(q.rank) && typeof q.left === 'boolean';
    });
  if (
    g.gameId !== gameId ||
    typeof g.name !== 'string' ||
    !(DIFFICULTIES as readonly unknown[]).includes(g.difficulty) ||
    !Number.isInteger(g.maxPlayers) ||
    !Number.isFinite(g.finishedAt) ||
    (g.outcome !== 'finished' && g.outcome !== 'abandoned') ||
    !playersOk
  ) {
    return undefined;
  }
  return g as unknown as StoredGame;
}
