/**
 * Receive half of a reliable-ordered channel: a window of `maxInFlightMessages` ids from the next one to
 * deliver. Messages that arrive early wait in the window (whole, or as an assembly of slices) and are
 * delivered exactly once, in id order.
 *
 * Memory is bounded by `maxBufferedBytes` twice over: once for what waits in the window, once for what was
 * delivered and not read. The message the application is waiting for next is exempt from the first cap,
 * so a window full of early messages can never block the one that would drain it.
 */
import type { ResolvedChannel } from './config.ts';
import { DeliveryQueue } from './delivery-queue.ts';
import { isBehind, nextSequence, sequenceDistance } from './sequence.ts';
import { Assembly, isValidSlice } from './slicing.ts';
import type { LinkStats } from './stats.ts';
import type { MessageBlock } from './wire.ts';

type Held = Uint8Array | Assembly | null;

export class ReliableReceiver {
  private readonly window: Held[];
  private nextExpected: number;
  private heldBytes = 0;
  readonly delivered = new DeliveryQueue();

  constructor(
    private readonly config: ResolvedChannel,
    private readonly sliceBytes: number,
    firstId: number,
    private readonly stats: LinkStats,
  ) {
    this.window = new Array<Held>(config.maxInFlightMessages).fill(null);
    this.nextExpected = firstId;
  }

  validate(block: MessageBlock): boolean {
    const ahead = sequenceDistance(this.nextExpected, block.id);
    if (isBehind(ahead)) return true; // delivered long ago: a harmless resend
    if (ahead >= this.config.maxInFlightMessages) return false; // our sender never runs this far ahead
    const held = this.held(block.id);
    if (!block.sliced) return block.length <= this.config.maxMessageBytes && !(held instanceof Assembly);
    if (!isValidSlice(block, this.sliceBytes, this.config.maxMessageBytes)) return false;
    return !(held instanceof Assembly) || held.sliceCount === block.sliceCount;
  }

  accept(block: MessageBlock, packet: Uint8Array): boolean {
    const ahead = sequenceDistance(this.nextExpected, block.id);
    if (isBehind(ahead)) return true;
    const slot = block.id % this.window.length;
    const held = this.window[slot] ?? null;
    if (held instanceof Uint8Array) return true; // already have it
    const isNext = ahead === 0;

    if (!block.sliced) {
      // Two blocks of one packet can disagree about a message; validation saw neither applied. Keep the first.
      if (held instanceof Assembly) return true;
      if (!this.admit(isNext, block.length)) return this.refuse();
      this.hold(slot, packet.slice(block.start, block.start + block.length));
    } else {
      let assembly = held;
      if (assembly === null) {
        const reserve = this.reserveFor(block.sliceCount);
        if (!this.admit(isNext, reserve)) return this.refuse();
        assembly = new Assembly(block.sliceCount, this.sliceBytes);
        this.window[slot] = assembly;
        this.heldBytes += reserve;
      }
      if (assembly.sliceCount !== block.sliceCount) return true;
      assembly.add(block, packet);
      if (!assembly.complete) return true;
      this.heldBytes -= this.reserveFor(assembly.sliceCount);
      this.hold(slot, assembly.message());
    }
    this.deliverInOrder();
    return true;
  }

  receive(): Uint8Array | undefined {
    return this.delivered.shift();
  }

  private held(id: number): Held {
    return this.window[id % this.window.length] ?? null;
  }

  /**
   * What an assembly counts against the cap: its message's upper bound, not its buffer, so that a message of
   * exactly `maxMessageBytes` still fits a cap of exactly that (the buffer's last slice is partly unused).
   */
  private reserveFor(sliceCount: number): number {
    return Math.min(sliceCount * this.sliceBytes, this.config.maxMessageBytes);
  }

  private hold(slot: number, message: Uint8Array): void {
    this.window[slot] = message;
    this.heldBytes += message.length;
  }

  private admit(isNext: boolean, bytes: number): boolean {
    const cap = this.config.maxBufferedBytes;
    // Unread deliveries push back on the peer: we stop acking until the application catches up.
    if (this.delivered.bytes + bytes > cap) return false;
    return isNext || this.heldBytes + bytes <= cap;
  }

  private refuse(): false {
    this.stats.reliableRefused++;
    return false;
  }

  private deliverInOrder(): void {
    for (;;) {
      const slot = this.nextExpected % this.window.length;
      const message = this.window[slot];
      if (!(message instanceof Uint8Array)) return;
      this.window[slot] = null;
      this.heldBytes -= message.length;
      this.delivered.push(message);
      this.nextExpected = nextSequence(this.nextExpected);
    }
  }
}
