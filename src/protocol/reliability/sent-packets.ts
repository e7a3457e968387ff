/**
 * What we remember about each packet we sent, in a ring indexed by sequence: when it left, how big it was,
 * whether it was acked, and which reliable (channel, message, slice) triples it carried.
 *
 * The ring is struct-of-arrays over preallocated typed arrays: recording a packet allocates nothing. A packet
 * whose slot is reused before it was acked is simply forgotten; the resend timer covers its messages.
 */
export const SENT_RING = 256;
/** Reliable blocks remembered per packet; a packet is closed to reliable blocks beyond this. */
export const MAX_RECORDS_PER_PACKET = 64;

const ACKED = 1;
/** Carried at least one message, so the peer will ack it promptly: only these count for loss and RTT. */
const ELICITING = 2;
const SETTLED = 4;

export type SettleHandler = (lost: boolean) => void;
export type AckRecordHandler = (channel: number, id: number, slice: number) => void;

export class SentPacketLog {
  private readonly tags = new Int32Array(SENT_RING).fill(-1);
  private readonly times = new Float64Array(SENT_RING);
  private readonly sizes = new Uint16Array(SENT_RING);
  private readonly flags = new Uint8Array(SENT_RING);
  private readonly counts = new Uint8Array(SENT_RING);
  /** `channel << 16 | message id` per record. */
  private readonly keys = new Uint32Array(SENT_RING * MAX_RECORDS_PER_PACKET);
  private readonly slices = new Uint16Array(SENT_RING * MAX_RECORDS_PER_PACKET);
  /** Oldest sequence whose loss outcome is still open. */
  private settleCursor: number;

  constructor(
    firstSequence: number,
    private readonly onSettled: SettleHandler,
  ) {
    this.settleCursor = firstSequence;
  }

  /** Clears the slot for `sequence`, settling the packet that used it if it never was. */
  prepare(sequence: number): void {
    const slot = sequence % SENT_RING;
    if (this.tags[slot] !== -1) this.settle(slot);
    this.tags[slot] = -1;
    this.counts[slot] = 0;
    this.flags[slot] = 0;
  }

  canRecord(sequence: number): boolean {
    return this.counts[sequence % SENT_RING]! < MAX_RECORDS_PER_PACKET;
  }

  record(sequence: number, channel: number, id: number, slice: number): void {
    const slot = sequence % SENT_RING;
    const index = slot * MAX_RECORDS_PER_PACKET + this.counts[slot]!;
    this.keys[index] = ((channel << 16) | id) >>> 0;
    this.slices[index] = slice;
    this.counts[slot]!++;
  }

  commit(sequence: number, now: number, size: number, eliciting: boolean): void {
    const slot = sequence % SENT_RING;
    this.tags[slot] = sequence;
    this.times[slot] = now;
    this.sizes[slot] = size;
    this.flags[slot] = eliciting ? ELICITING : SETTLED;
  }

  /**
   * Marks `sequence` acked if we sent it and it was not acked yet, handing each reliable record to `onRecord`.
   * Returns its size in bytes, or -1 when there was nothing new to ack.
   */
  ack(sequence: number, onRecord: AckRecordHandler): number {
    const slot = sequence % SENT_RING;
    if (this.tags[slot] !== sequence || (this.flags[slot]! & ACKED) !== 0) return -1;
    this.flags[slot]! |= ACKED;
    const base = slot * MAX_RECORDS_PER_PACKET;
    for (let i = 0; i < this.counts[slot]!; i++) {
      const key = this.keys[base + i]!;
      onRecord(key >>> 16, key & 0xffff, this.slices[base + i]!);
    }
    return this.sizes[slot]!;
  }

  /** Send time of an eliciting packet (the only kind whose ack delay says something about RTT), else -1. */
  elicitingSendTime(sequence: number): number {
    const slot = sequence % SENT_RING;
    return this.tags[slot] === sequence && (this.flags[slot]! & ELICITING) !== 0 ? this.times[slot]! : -1;
  }

  /**
   * Settles, oldest first, every packet that was acked or has waited longer than `lossTimeout` for its ack.
   * `nextSequence` is the sequence the next packet will get.
   */
  settleUpTo(nextSequence: number, now: number, lossTimeout: number): void {
    while (this.settleCursor !== nextSequence) {
      const slot = this.settleCursor % SENT_RING;
      const tag = this.tags[slot]!;
      const open = tag === this.settleCursor && (this.flags[slot]! & SETTLED) === 0;
      if (open && (this.flags[slot]! & ACKED) === 0 && now - this.times[slot]! < lossTimeout) return;
      if (open) this.settle(slot);
      this.settleCursor = (this.settleCursor + 1) & 0xffff;
    }
  }

  private settle(slot: number): void {
    const flags = this.flags[slot]!;
    if ((flags & SETTLED) !== 0) return;
    this.flags[slot] = flags | SETTLED;
    this.onSettled((flags & ACKED) === 0);
  }
}
