/**
 * Create, join and read games: the registry plus the policies that are about clients rather than games (the
 * guess budget, the join metrics, the create token).
 *
 * The guess budget: a passcode, a rejoin key and a watch key are all things one could try to guess, so a wrong
 * one of each spends from the same per-address and global budget. While it is spent, every passcode from that
 * address (right or wrong) gets 429: with 32⁶ passcodes, telling a right one from a wrong one would be the oracle
 * the budget exists to deny. A right rejoin or watch key is still served: at 2¹⁴⁴ keys that oracle is worthless,
 * and a botnet that spends the budget must not keep a dropped player out of their own seat; a wrong key gets 429.
 * A malformed passcode or key, or a right one for a game that cannot take the request, is not a guess: it could
 * never have matched, or teaches nothing new.
 */
import type { Logger } from '../../log.ts';
import { GameError } from '../errors.ts';
import type { JoinOutcome, Metrics, SeatOutcome } from '../metrics.ts';
import { hasPasscodeLength, PASSCODE_LENGTH } from '../passcodes.ts';
import type { JoinLimiter } from '../rate-limit.ts';
import type { CreatedGame, GameRegistry, GameStatus, SeatTicket, WatchTicket } from '../registry.ts';
import type { RoundOutcome, StoredGame } from '../results-store.ts';
import { secretMatches } from '../secrets.ts';

const JOIN_OUTCOME: Partial<Record<GameError['code'], JoinOutcome>> = {
  wrong_passcode: 'wrong_passcode',
  invalid_passcode: 'invalid_passcode',
  game_started: 'started',
  game_full: 'full',
  invalid_name: 'invalid_name',
  too_many_tickets: 'too_many_tickets',
};

/** The codes that mean "nothing has that passcode or key": a wrong guess. */
const GUESS_MISSES: ReadonlySet<GameError['code']> = new Set(['wrong_passcode', 'unknown_seat', 'unknown_game']);

export interface GameResultsView {
  gameId: string;
  name: string;
  difficulty: 'easy' | 'normal' | 'hard';
  maxPlayers: number;
  finishedAt: string;
  outcome: RoundOutcome;
  players: { rank: number; name: string; score: number; left: boolean }[];
}

type Route = 'join' | 'rejoin' | 'watch' | 'again';

/** A stored round as the results route answers it. */
export function resultsView(stored: StoredGame): GameResultsView {
  return { ...stored, finishedAt: new Date(stored.finishedAt).toISOString() };
}

export class GamesService {
  private readonly createToken: Uint8Array | undefined;

  constructor(
    private readonly registry: GameRegistry,
    private readonly limiter: JoinLimiter,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    createToken: string | undefined,
  ) {
    this.createToken = createToken === undefined ? undefined : new TextEncoder().encode(createToken);
  }

  /** Throws `unauthorized` unless no create token is configured or the bearer token is it. */
  authorizeCreate(bearer: string | undefined): void {
    if (this.createToken === undefined) return;
    if (!secretMatches(bearer, this.createToken, 'utf8')) {
      throw new GameError('unauthorized', 'creating games on this server needs its create token (Authorization: Bearer …)', {
        'WWW-Authenticate': 'Bearer realm="huddle"',
      });
    }
  }

  /** Whether a passcode from this address would be refused (429) now: its guess budget, or everyone's, is spent. */
  guessBlocked(address: string): boolean {
    return !this.limiter.decide(address).allowed;
  }

  create(request: { name: string; maxPlayers?: number }): Promise<CreatedGame> {
    return this.registry.create(request);
  }

  /**
   * Join by passcode, refused with 429 while the address (or everyone) has used up its failed attempts; or by
   * invite key, which no guess budget holds back (docs/SEATS.md "Keys"): 2^144 keys leave nothing to guess, so a
   * botnet that spent every passcode budget cannot keep out a friend holding the link. An unknown invite is
   * counted in /metrics, never against a budget an honest player shares; its log line (`invite.refused`) is
   * sampled like every client-caused line.
   */
  join(address: string, request: { passcode: string; name: string } | { invite: string; name: string }): SeatTicket {
    if ('invite' in request) return this.joinByInvite(address, request);
    // A length hint before the budget: it is not a guess, and the player should hear about the typo even when limited.
    if (!hasPasscodeLength(request.passcode)) {
      this.metrics.join('invalid_passcode');
      throw new GameError('invalid_passcode', `A passcode has ${PASSCODE_LENGTH} characters`);
    }
    return this.guarded('join', address, () => this.registry.join(request));
  }

  private joinByInvite(address: string, request: { invite: string; name: string }): SeatTicket {
    let ticket: SeatTicket;
    try {
      ticket = this.registry.joinByInvite(request);
    } catch (error) {
      if (error instanceof GameError) {
        this.metrics.seatRequest('invite', error.code === 'unknown_invite' ? 'unknown_key' : error.code === 'game_over' ? 'game_over' : 'refused');
        this.log.info('invite.refused', { address, code: error.code });
      }
      throw error;
    }
    this.metrics.seatRequest('invite', 'ok');
    this.log.info('invite.ok', { gameId: ticket.gameId, address });
    return ticket;
  }

  /** A fresh ticket for the caller's own seat. */
  rejoin(address: string, rejoinKey: string): SeatTicket {
    return this.guarded('rejoin', address, () => this.registry.rejoin(rejoinKey));
  }

  /** A spectator ticket. */
  watch(address: string, request: { watchKey: string; name: string }): WatchTicket {
    return this.guarded('watch', address, () => this.registry.watch(request));
  }

  /** The host's next game for the same group. */
  again(address: string, rejoinKey: string): Promise<SeatTicket> {
    return this.guarded('again', address, () => this.registry.again(rejoinKey));
  }

  status(gameId: string): GameStatus {
    return this.registry.status(gameId);
  }

  results(gameId: string): GameResultsView {
    return resultsView(this.registry.results(gameId));
  }

  /** The stored round itself (the cluster front answers it, or the directory's copy, through resultsView). */
  stored(gameId: string): StoredGame {
    return this.registry.results(gameId);
  }

  /**
   * Runs a request that presents a passcode or key under the guess budget. Never logs what was presented: the
   * log line has the route, the address and the outcome only.
   */
  private guarded<T extends { gameId: string }>(route: Route, address: string, run: () => T): T;
  private guarded<T extends { gameId: string }>(route: Route, address: string, run: () => Promise<T>): Promise<T>;
  private guarded<T extends { gameId: string }>(route: Route, address: string, run: () => T | Promise<T>): T | Promise<T> {
    const decision = this.limiter.decide(address);
    const wait = decision.allowed ? 0 : decision.retryAfterSeconds;
    const limited = (): never => {
      this.count(route, 'rate_limited', 'rate_limited');
      if (!decision.allowed) this.metrics.guessRefused(decision.scope);
      // Rate-limited per event name by the logger (src/log.ts): a flood writes a few lines and a count.
      this.log.warn(`${route}.rate_limited`, { address, count: wait, reason: decision.allowed ? null : decision.scope });
      throw new GameError('rate_limited', `too many failed attempts; try again in ${wait} s`, { 'Retry-After': String(wait) });
    };
    if (wait > 0 && route === 'join') return limited();
    const refused = (error: unknown): never => {
      if (error instanceof GameError && wait > 0 && GUESS_MISSES.has(error.code)) return limited();
      if (error instanceof GameError) {
        if (GUESS_MISSES.has(error.code)) this.limiter.recordFailure(address);
        const seatOutcome: SeatOutcome = GUESS_MISSES.has(error.code)
          ? 'unknown_key'
          : error.code === 'game_over' || error.code === 'too_many_tickets'
            ? error.code
            : 'refused';
        this.count(route, JOIN_OUTCOME[error.code] ?? 'unavailable', seatOutcome);
        this.log.info(`${route}.refused`, { address, code: error.code });
      }
      throw error;
    };
    const accepted = (ticket: T): T => {
      this.count(route, 'ok', 'ok');
      this.log.info(`${route}.ok`, { gameId: ticket.gameId, address });
      return ticket;
    };
    let result: T | Promise<T>;
    try {
      result = run();
    } catch (error) {
      return refused(error);
    }
    return result instanceof Promise ? result.then(accepted, refused) : accepted(result);
  }

  private count(route: Route, join: JoinOutcome, seat: SeatOutcome): void {
    if (route === 'join') this.metrics.join(join);
    else this.metrics.seatRequest(route, seat);
  }
}
