/**
 * Which of the peer's packets we have received, for duplicate detection and for the ack fields we send back.
 *
 * A packet can be "seen" without being "ackable": when we had to refuse one of its reliable messages (our
 * receive buffer was full) we must not ack it, or the peer would forget that message; but we still must not
 * process it twice, or its unreliable messages would be delivered twice.
 *
 * One header acks 33 packets. A peer that sent more in one burst would see the rest go unacked (and resend
 * them for nothing), so we track which message-carrying packets no header has reported yet, and point the
 * ack field of further packets at the newest of those.
 */
import { ACK_BITS, ACK_DELAY_UNIT_SECONDS, MAX_ACK_DELAY_UNITS, type PacketHeader } from './wire.ts';
import { isBehind, nextSequence, sequenceDistance, sequenceGreaterThan } from './sequence.ts';

export const RECEIVED_RING = 256;

export type Arrival = 'new' | 'duplicate' | 'stale';

export class ReceivedPacketLog {
  private readonly tags = new Int32Array(RECEIVED_RING).fill(-1);
  private readonly ackable = new Uint8Array(RECEIVED_RING);
  /** When each packet arrived (the caller's clock, seconds): the ack delay a header reports is counted from it. */
  private readonly arrivals = new Float64Array(RECEIVED_RING);
  /** When the oldest ack still owed became owed (meaningful while `owesAck`). */
  private owedSinceValue = 0;
  /** Ackable, carried messages, and not covered by any header we sent yet. */
  private readonly unreported = new Uint8Array(RECEIVED_RING);
  private unreportedCount = 0;
  private hasAny = false;
  private latest = 0;
  private hasAckable = false;
  private latestAckable = 0;

  /** Whether the peer is owed an ack: a message-carrying packet that no header of ours has acked yet. */
  get owesAck(): boolean {
    return this.unreportedCount > 0;
  }

  /** Since when an ack has been owed (the arrival of the packet that made one owed); only while `owesAck`. */
  get owedSince(): number {
    return this.owedSinceValue;
  }

  /** Read-only: what receiving `sequence` would be. Packets older than the ring can no longer be told apart. */
  classify(sequence: number): Arrival {
    if (!this.hasAny) return 'new';
    const behind = sequenceDistance(sequence, this.latest);
    if (behind === 0) return 'duplicate';
    if (isBehind(behind)) return 'new'; // ahead of latest
    if (behind >= RECEIVED_RING) return 'stale';
    return this.tags[sequence % RECEIVED_RING] === sequence ? 'duplicate' : 'new';
  }

  /** Records a packet that `classify` called new, arrived at `now` (seconds). */
  record(sequence: number, ackable: boolean, carriesMessages: boolean, now: number): void {
    if (!this.hasAny || sequenceGreaterThan(sequence, this.latest)) {
      // Clear the slots we skip over, or a tag from 65536 sequences ago could pass for a duplicate.
      if (this.hasAny) {
        const skipped = Math.min(sequenceDistance(this.latest, sequence), RECEIVED_RING);
        for (let i = 1, s = nextSequence(this.latest); i < skipped; i++, s = nextSequence(s)) this.clear(s % RECEIVED_RING);
      }
      this.latest = sequence;
      this.hasAny = true;
    }
    const slot = sequence % RECEIVED_RING;
    this.clear(slot);
    this.tags[slot] = sequence;
    this.ackable[slot] = ackable ? 1 : 0;
    this.arrivals[slot] = now;
    if (ackable && carriesMessages) {
      if (this.unreportedCount === 0) this.owedSinceValue = now;
      this.unreported[slot] = 1;
      this.unreportedCount++;
    }
    if (ackable && (!this.hasAckable || sequenceGreaterThan(sequence, this.latestAckable))) {
      this.latestAckable = sequence;
      this.hasAckable = true;
    }
  }

  /**
   * Fills the ack fields of an outgoing header: the newest ackable packet and the 32 before it, unless that
   * would report nothing new while older packets wait; then the newest waiting one and the 32 before it.
   */
  writeAcks(header: PacketHeader, now: number): void {
    header.hasAck = this.hasAckable;
    header.ack = 0;
    header.ackBits = 0;
    header.ackDelay = 0;
    if (!this.hasAckable) return;
    const ack = this.ackBase();
    header.ack = ack;
    const held = (now - this.arrivals[ack % RECEIVED_RING]!) / ACK_DELAY_UNIT_SECONDS;
    header.ackDelay = held > 0 ? Math.min(MAX_ACK_DELAY_UNITS, Math.round(held)) : 0;
    this.report(ack);
    let bits = 0;
    for (let i = 1; i <= ACK_BITS; i++) {
      const s = (ack - i) & 0xffff;
      const slot = s % RECEIVED_RING;
      if (this.tags[slot] === s && this.ackable[slot] === 1) {
        bits |= 1 << (i - 1);
        this.report(s);
      }
    }
    header.ackBits = bits >>> 0;
  }

  private ackBase(): number {
    const latest = this.latestAckable;
    if (this.unreportedCount === 0) return latest;
    for (let back = 0; back < RECEIVED_RING; back++) {
      const s = (latest - back) & 0xffff;
      if (this.tags[s % RECEIVED_RING] === s && this.unreported[s % RECEIVED_RING] === 1) return back <= ACK_BITS ? latest : s;
    }
    return latest;
  }

  private report(sequence: number): void {
    const slot = sequence % RECEIVED_RING;
    if (this.unreported[slot] === 0) return;
    this.unreported[slot] = 0;
    this.unreportedCount--;
  }

  private clear(slot: number): void {
    if (this.tags[slot] !== -1) this.report(this.tags[slot]!);
    this.tags[slot] = -1;
  }
}
