/**
 * Create, join and read games: the registry plus the policies that are about clients rather than games (the
 * join rate limits, the join metrics, the create token).
 */
import type { Logger } from '../../log.ts';
import { GameError } from '../errors.ts';
import type { JoinOutcome, Metrics } from '../metrics.ts';
import type { JoinLimiter } from '../rate-limit.ts';
import type { CreatedGame, GameRegistry, GameStatus, PlayerTicket } from '../registry.ts';
import { secretMatches } from '../secrets.ts';

const JOIN_OUTCOME: Partial<Record<GameError['code'], JoinOutcome>> = {
  wrong_passcode: 'wrong_passcode',
  game_started: 'started',
  game_full: 'full',
  invalid_name: 'invalid_name',
};

export interface GameResultsView {
  gameId: string;
  name: string;
  difficulty: 'easy' | 'normal' | 'hard';
  maxPlayers: number;
  finishedAt: string;
  players: { rank: number; name: string; score: number }[];
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

  create(request: { name: string; maxPlayers?: number }): Promise<CreatedGame> {
    return this.registry.create(request);
  }

  /** Join by passcode, refused with 429 while the address (or everyone) has used up its failed attempts. */
  join(address: string, request: { passcode: string; name: string }): PlayerTicket {
    const wait = this.limiter.retryAfterSeconds(address);
    if (wait > 0) {
      this.metrics.join('rate_limited');
      this.log.warn('join.rate_limited', { address, count: wait });
      throw new GameError('rate_limited', `too many failed join attempts; try again in ${wait} s`, { 'Retry-After': String(wait) });
    }
    try {
      const ticket = this.registry.join(request);
      this.metrics.join('ok');
      this.log.info('join.ok', { gameId: ticket.gameId, address });
      return ticket;
    } catch (error) {
      if (!(error instanceof GameError)) throw error;
      // Only a wrong passcode is a guess; a right passcode for a started or full game teaches a guesser nothing new.
      if (error.code === 'wrong_passcode') this.limiter.recordFailure(address);
      this.metrics.join(JOIN_OUTCOME[error.code] ?? 'unavailable');
      this.log.info('join.refused', { address, code: error.code });
      throw error;
    }
  }

  status(gameId: string): GameStatus {
    return this.registry.status(gameId);
  }

  results(gameId: string): GameResultsView {
    const stored = this.registry.results(gameId);
    return { ...stored, finishedAt: new Date(stored.finishedAt).toISOString() };
  }
}
