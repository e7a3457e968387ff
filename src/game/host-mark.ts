/**
 * Who is host (DESIGN.md section 2, docs/SEATS.md). The creator's seat is host as soon as it connects, even if a
 * friend got in first; if the creator has not connected a few seconds after the first player did, the longest-
 * connected player is host. A host who drops keeps the mark for a reload's worth of time, then it passes to the
 * longest-connected connected player; a host whose seat is released passes it at once. Pure: the session hands
 * in its seats and the time.
 */
export interface HostCandidate {
  readonly clientId: bigint;
  readonly connected: boolean;
  /** When the current connection began (connected), or when the seat dropped (not connected). */
  readonly since: number;
  /** Admission order: breaks ties between players who connected in the same instant. */
  readonly order: number;
}

export interface HostMarkOptions {
  /** The creator's client id, if the matchmaker named one. */
  creatorId?: bigint;
  /** How long the first player waits for the creator before someone else is host. */
  creatorWaitSeconds?: number;
  /** How long a dropped host keeps the mark. */
  keepSeconds?: number;
}

export class HostMark {
  private hostId: bigint | undefined;
  private firstAdmittedAt: number | undefined;
  private creatorArrived = false;
  /** The first host is not news; every later change (and a new host after the mark was lost) is. */
  private everHadHost = false;
  private readonly creatorWait: number;
  private readonly keep: number;

  constructor(private readonly options: HostMarkOptions = {}) {
    this.creatorWait = options.creatorWaitSeconds ?? 3;
    this.keep = options.keepSeconds ?? 10;
  }

  get host(): bigint | undefined {
    return this.hostId;
  }

  /**
   * Re-evaluates the mark against the seats (every seat still held, connected or not). Returns true when the
   * mark moved to a seat after some seat already had it: what everyone is told about.
   */
  update(now: number, seats: readonly HostCandidate[]): boolean {
    const before = this.hostId;
    if (seats.length > 0) this.firstAdmittedAt ??= now;
    const creator = this.options.creatorId;
    if (!this.creatorArrived && creator !== undefined && seats.some((s) => s.clientId === creator && s.connected)) {
      // Only the creator's first arrival claims the mark; after that they are a player like the others.
      this.creatorArrived = true;
      this.hostId = creator;
    }
    const current = seats.find((s) => s.clientId === this.hostId);
    if (!current) this.hostId = undefined;
    else if (!current.connected && now - current.since >= this.keep) this.hostId = longestConnected(seats)?.clientId ?? this.hostId;

    if (this.hostId === undefined) {
      const waitingForCreator =
        creator !== undefined && !this.creatorArrived && this.firstAdmittedAt !== undefined && now < this.firstAdmittedAt + this.creatorWait;
      if (!waitingForCreator) this.hostId = longestConnected(seats)?.clientId;
    }
    const announce = this.hostId !== undefined && this.hostId !== before && this.everHadHost;
    if (this.hostId !== undefined) this.everHadHost = true;
    return announce;
  }
}

function longestConnected(seats: readonly HostCandidate[]): HostCandidate | undefined {
  let best: HostCandidate | undefined;
  for (const seat of seats) {
    if (!seat.connected) continue;
    if (!best || seat.since < best.since || (seat.since === best.since && seat.order < best.order)) best = seat;
  }
  return best;
}
