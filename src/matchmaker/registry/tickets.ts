/**
 * Ticket minting and the per-game bound on successful joins (DESIGN.md section 12): a new seat (join, invite,
 * watch) spends one of the game's `ticketsPerGame` a minute, a seat's fresh tickets (rejoin) their own budget, and
 * a game never keeps more than `maxSeatsPerGame` seats, so a passcode holder can neither make the server mint
 * tokens without end nor grow a game's bookkeeping (seats, client ids, keys) without bound. Checked before a
 * client id is drawn, so a refusal costs no memory.
 */
import { GameError } from '../errors.ts';
import { TokenBuckets } from '../rate-limit.ts';
import type { Seat } from '../seats.ts';
import { mintConnectToken } from '../tokens.ts';
import type { GameRecord } from './game-record.ts';
import { DEFAULT_TICKETS_PER_GAME, maxSeatsPerGame, REJOINS_PER_SEAT_PER_MINUTE, type RegistrySettings, type Ticket } from './types.ts';

export class TicketDesk {
  /** New seats (join, invite, watch) per game per minute: `ticketsPerGame`, also the burst. */
  private readonly newSeats: TokenBuckets;
  /** Fresh tickets for one seat (rejoin) per minute, so one reload loop cannot mint tokens without end either. */
  private readonly seatRenewals: TokenBuckets;

  constructor(
    private readonly settings: RegistrySettings,
    /** Wall clock, unix ms (token timestamps). */
    private readonly now: () => number,
    /** Monotonic ms (budgets). */
    clock: () => number,
  ) {
    this.newSeats = new TokenBuckets({ capacity: settings.ticketsPerGame ?? DEFAULT_TICKETS_PER_GAME, windowMs: 60_000, now: clock });
    this.seatRenewals = new TokenBuckets({ capacity: REJOINS_PER_SEAT_PER_MINUTE, windowMs: 60_000, now: clock });
  }

  /** Spends a new seat of the game's budget. Throws `game_full` (seats kept), `too_many_tickets`. */
  spendNewSeat(record: GameRecord): void {
    const limit = maxSeatsPerGame(this.settings);
    if (record.clientIds.issued >= limit) {
      throw new GameError('game_full', `that game has handed out as many seats as it keeps (${limit}); start a new game`);
    }
    this.spend(this.newSeats, record.id, 'new tickets for this game');
  }

  /** Spends a fresh ticket of one seat's budget. Throws `too_many_tickets`. */
  spendRenewal(record: GameRecord, seat: Seat): void {
    this.spend(this.seatRenewals, `${record.id} ${seat.clientId}`, 'fresh tickets for this seat');
  }

  private spend(buckets: TokenBuckets, key: string, what: string): void {
    const waitMs = buckets.blockedForMs(key);
    if (waitMs > 0) {
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      throw new GameError('too_many_tickets', `too many ${what}; try again in ${seconds} s`, { 'Retry-After': String(seconds) });
    }
    buckets.take(key);
  }

  /** A connect token for one seat of a game this node hosts (it needs the game's private key). */
  ticket(record: GameRecord, seat: Seat): Ticket {
    const minted = mintConnectToken({
      privateKey: record.local.privateKey,
      publicHost: this.settings.publicHost,
      port: record.port,
      clientId: seat.clientId,
      name: seat.name,
      kind: seat.kind,
      expirySeconds: this.settings.tokenExpirySeconds,
      nowMs: this.now(),
    });
    return {
      gameId: record.id,
      port: record.port,
      serverAddress: minted.serverAddress,
      connectToken: minted.connectToken,
      expiresAt: new Date(minted.expiresAtMs).toISOString(),
      name: seat.name,
      role: seat.kind,
    };
  }
}
