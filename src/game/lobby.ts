/**
 * Lobby rules, kept apart from sockets and timers so they can be tested alone: who is in, who is host, whether
 * the door is open, and when an idle lobby gives up. Time is passed in (seconds, any monotonic clock).
 */
export const DIFFICULTIES = ['easy', 'normal', 'hard'] as const;
export type Difficulty = (typeof DIFFICULTIES)[number];

export interface LobbyPlayer {
  readonly clientIndex: number;
  readonly name: string;
  /** When the player connected; the longest-connected player inherits the host role. */
  readonly joinedAt: number;
}

export type LobbyPhase = 'open' | 'starting' | 'begun';

export type StartRefusal = 'not-host' | 'not-open' | 'bad-difficulty';

export class Lobby {
  private readonly players = new Map<number, LobbyPlayer>();
  private hostIndex: number | undefined;
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

  get host(): LobbyPlayer | undefined {
    return this.hostIndex === undefined ? undefined : this.players.get(this.hostIndex);
  }

  get size(): number {
    return this.players.size;
  }

  /** Players in the order they joined. */
  list(): LobbyPlayer[] {
    // Stable sort: players who joined in the same instant keep their arrival order.
    return [...this.players.values()].sort((a, b) => a.joinedAt - b.joinedAt);
  }

  get(clientIndex: number): LobbyPlayer | undefined {
    return this.players.get(clientIndex);
  }

  /** Whether a new player may come in: only before the game begins, and only while there is room. */
  canAdmit(): boolean {
    return this.phaseValue === 'open' && this.players.size < this.maxPlayers;
  }

  /** Adds a player; the first one becomes host. Returns false if the door is shut. */
  join(clientIndex: number, name: string, now: number): boolean {
    if (!this.canAdmit() || this.players.has(clientIndex)) return false;
    this.players.set(clientIndex, { clientIndex, name, joinedAt: now });
    if (this.hostIndex === undefined) this.hostIndex = clientIndex;
    this.lastActivity = now;
    return true;
  }

  /**
   * Removes a player. If it was the host, the longest-connected remaining player takes over; the new host is
   * returned so everyone can be told.
   */
  leave(clientIndex: number, now: number): { newHost: LobbyPlayer | undefined } {
    if (!this.players.delete(clientIndex)) return { newHost: undefined };
    this.lastActivity = now;
    if (this.hostIndex !== clientIndex) return { newHost: undefined };
    const next = this.list()[0];
    this.hostIndex = next?.clientIndex;
    return { newHost: next };
  }

  /** Something happened in the lobby (a chat line, a join): it is not idle. */
  touch(now: number): void {
    this.lastActivity = now;
  }

  /** True when an open lobby has idled past its timeout and should close. */
  idleExpired(now: number): boolean {
    return this.phaseValue !== 'begun' && now - this.lastActivity >= this.idleTimeoutSeconds;
  }

  secondsUntilIdleClose(now: number): number {
    return Math.max(0, this.idleTimeoutSeconds - (now - this.lastActivity));
  }

  /** The host asks to start; the lobby waits ('starting') for the matchmaker's acknowledgement. */
  requestStart(clientIndex: number, difficulty: string, now: number): StartRefusal | undefined {
    if (this.phaseValue !== 'open') return 'not-open';
    if (clientIndex !== this.hostIndex) return 'not-host';
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
