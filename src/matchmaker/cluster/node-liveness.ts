/**
 * When a node whose heartbeat key is missing counts as lost. A missing key alone proves little: Redis may have
 * been frozen (SIGSTOP, a long fork) and expired every TTL at once when it woke, or been restarted empty, or our
 * own link may have been down while theirs was not. So a node is lost only when its key was missing on two checks
 * at least `confirmMs` apart, our link was up the whole time, and, if our link came back from an outage, it has
 * been back for `settleMs` (the time a node cut off by the same outage needs to reconnect and beat again). Plain
 * logic over timestamps, no I/O.
 */
export interface LivenessTiming {
  confirmMs: number;
  settleMs: number;
}

export class NodeLiveness {
  /** Node id → when its heartbeat was first seen missing in the current streak (performance.now() ms). */
  private readonly firstMissing = new Map<string, number>();

  constructor(private readonly timing: LivenessTiming) {}

  /**
   * One check's result: the members whose heartbeat key is missing now, at `now`, with our link up since
   * `linkUpSince`; the settling time counts from `settleFrom` (the caller passes -Infinity for its first
   * connection, when there was no outage to come back from). Returns the nodes now known lost (each is forgotten
   * here; its reaping is the caller's).
   */
  observe(missing: readonly string[], now: number, linkUpSince: number, settleFrom: number = linkUpSince): string[] {
    const seen = new Set(missing);
    for (const id of this.firstMissing.keys()) if (!seen.has(id)) this.firstMissing.delete(id);
    const lost: string[] = [];
    for (const id of seen) {
      const first = this.firstMissing.get(id);
      // A streak that began before our link last came up proves nothing: start it again.
      if (first === undefined || first < linkUpSince) {
        this.firstMissing.set(id, now);
        continue;
      }
      if (now - first >= this.timing.confirmMs && now - settleFrom >= this.timing.settleMs) {
        this.firstMissing.delete(id);
        lost.push(id);
      }
    }
    return lost;
  }

  /** Forgets every streak (our link went down: what we saw before says nothing about after). */
  reset(): void {
    this.firstMissing.clear();
  }
}
