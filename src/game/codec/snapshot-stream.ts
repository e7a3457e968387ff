/**
 * Who holds which baseline. The server records each view it sends in one ring per game (a view is the same for
 * every client, so one ring serves all); per client it keeps only the newest tick that client acknowledged, and
 * encodes against that view while the ring still has it — else in full. The client keeps a ring of the views it
 * decoded, so a delta against any of its recent acks still applies, and echoes its newest tick as the ack.
 */
import type { WorldView } from '../sim/view.ts';
import { decodeSnapshot, encodeSnapshot, type SnapshotDecode } from './snapshot.ts';

/** Kept by tick: 48 ticks at 30 Hz is 1.6 s (32 snapshots at 20 Hz), far past any RTT a game survives. */
export const SNAPSHOT_RING = 48;

class ViewRing {
  private readonly slots: (WorldView | undefined)[];

  constructor(readonly capacity: number) {
    this.slots = new Array<WorldView | undefined>(capacity).fill(undefined);
  }

  put(view: WorldView): void {
    this.slots[view.tick % this.capacity] = view;
  }

  get(tick: number): WorldView | undefined {
    const view = this.slots[tick % this.capacity];
    return view?.tick === tick ? view : undefined;
  }
}

/** Server side, one per game. */
export class SnapshotHistory {
  private readonly ring: ViewRing;
  private newest = -1;

  constructor(capacity = SNAPSHOT_RING) {
    this.ring = new ViewRing(capacity);
  }

  /** Call once per snapshot tick, before encoding that view for the clients. */
  record(view: WorldView): void {
    this.ring.put(view);
    this.newest = Math.max(this.newest, view.tick);
  }

  get(tick: number): WorldView | undefined {
    return this.ring.get(tick);
  }

  /** Whether `tick` was recorded (so a client could have received it). */
  sent(tick: number): boolean {
    return tick <= this.newest && this.ring.get(tick) !== undefined;
  }
}

/** Server side, one per client. */
export class SnapshotSender {
  private acked: number | undefined;

  constructor(private readonly history: SnapshotHistory) {}

  /** The client's echo of the newest snapshot it decoded; old, repeated or never-sent ticks are ignored. */
  acknowledge(tick: number): void {
    if (!Number.isInteger(tick) || !this.history.sent(tick)) return;
    if (this.acked === undefined || tick > this.acked) this.acked = tick;
  }

  get ackedTick(): number | undefined {
    return this.acked;
  }

  /** The view (already recorded in the history) as a delta against the client's ack, or in full. */
  encode(view: WorldView): Uint8Array {
    const baseline = this.acked === undefined ? undefined : this.history.get(this.acked);
    return encodeSnapshot(view, baseline);
  }
}

/** Client side. */
export class SnapshotReceiver {
  private readonly ring: ViewRing;
  private newest: WorldView | undefined;

  constructor(capacity = SNAPSHOT_RING) {
    this.ring = new ViewRing(capacity);
  }

  /** Decodes against the baseline the snapshot names; a late (older) snapshot is kept but does not become newest. */
  receive(bytes: Uint8Array): SnapshotDecode {
    const result = decodeSnapshot(bytes, (tick) => this.ring.get(tick));
    if (!result.ok) return result;
    this.ring.put(result.view);
    if (!this.newest || result.view.tick > this.newest.tick) this.newest = result.view;
    return result;
  }

  /** The newest view decoded. */
  get latest(): WorldView | undefined {
    return this.newest;
  }

  /** What to echo in the input packet: the newest snapshot tick decoded. */
  get ackTick(): number | undefined {
    return this.newest?.tick;
  }
}
