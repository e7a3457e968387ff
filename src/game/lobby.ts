/**
 * Lobby rules, kept apart from sockets and timers so they can be tested alone: whether the door is open, the
 * start handshake with the matchmaker, and when an idle lobby gives up. Who sits where is the session's seats;
 * who is host is `HostMark`. Time is passed in (seconds, any monotonic clock).
 */
export const DIFFICULTIES = ['easy', 'normal', 'hard'] as const;
export type Difficulty = (typeof DIFFICULTIES)[number];

export type LobbyPhase = 'open' | 'starting' | 'begun';

export type StartRefusal = 'not-host' | 'not-open' | 'bad-difficulty';

export class Lobby {
  private phaseValue: LobbyPhase = 'open';
  private lastActivity: number;

  constructor(
    readonly maxPlayers: number,
    readonly idleTimeoutSeconds: number,
    now: number,
  ) {
    this.lastActivity = now;
  }

  get phase(): LobbyPhase {
    return this.phaseValue;
  }

  /** Whether a new player may take a seat: only before the game begins, and only while seats are free. */
  canSeat(seatsTaken: number): boolean {
    return this.phaseValue === 'open' && seatsTaken < this.maxPlayers;
  }

  /** Something happened in the lobby (a chat line, a join): it is not idle. */
  touch(now: number): void {
    this.lastActivity = now;
  }

  /** True when a lobby that has not begun has idled past its timeout and should close. */
  idleExpired(now: number): boolean {
    return this.phaseValue !== 'begun' && now - this.lastActivity >= this.idleTimeoutSeconds;
  }

  secondsUntilIdleClose(now: number): number {
    return Math.max(0, this.idleTimeoutSeconds - (now - this.lastActivity));
  }

  /** Someone asks to start; the lobby waits ('starting') for the matchmaker's acknowledgement. */
  requestStart(isHost: boolean, difficulty: string, now: number): StartRefusal | undefined {
    if (this.phaseValue !== 'open') return 'not-open';
    if (!isHost) return 'not-host';
    if (!isDifficulty(difficulty)) return 'bad-difficulty';
    this.phaseValue = 'starting';
    this.lastActivity = now;
    return undefined;
  }

  /** The matchmaker refused or did not answer: back to an open lobby. */
  startFailed(now: number): void {
    if (this.phaseValue === 'starting') this.phaseValue = 'open';
    this.lastActivity = now;
  }

  /** The matchmaker acknowledged: the door shuts for good. */
  begin(): void {
    this.phaseValue = 'begun';
  }
}

export function isDifficulty(value: string): value is Difficulty {
  return (DIFFICULTIES as readonly string[]).includes(value);
}
