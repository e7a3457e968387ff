/**
 * Input packets (client → server, unreliable, every client tick). Each carries the client's last few ticks of
 * controls, newest first, so a lost packet is covered by the next one, plus the newest snapshot tick the client
 * decoded (the server's delta baseline).
 *
 *   u8  version (1)
 *   u8  count of inputs, 1..8
 *   u32 newest input tick (the client's own tick counter), little-endian
 *   u32 acknowledged snapshot tick, little-endian; 0xffffffff = none yet
 *   ceil(count / 2) bytes of 4-bit controls: newest tick in the low nibble of the first byte, then one tick
 *       older per nibble
 */
import { CONTROL_BITS, type Controls, NO_CONTROLS } from '../sim/controls.ts';

const VERSION = 1;
const HEADER_BYTES = 10;
const NO_ACK = 0xffffffff;
export const MAX_INPUTS_PER_PACKET = 8;
/** Inputs a client repeats by default: covers three lost packets in a row. */
export const INPUT_REDUNDANCY = 4;

export interface InputPacket {
  /** The tick of `inputs[0]`; `inputs[i]` is for `newestTick - i`. */
  newestTick: number;
  /** Newest first. */
  inputs: Controls[];
  ackSnapshotTick: number | undefined;
}

export type InputDecodeError = 'truncated' | 'bad-version' | 'bad-count' | 'bad-length' | 'bad-tick' | 'bad-controls';

export function encodeInput(packet: InputPacket): Uint8Array {
  const count = packet.inputs.length;
  if (count < 1 || count > MAX_INPUTS_PER_PACKET || packet.newestTick < count - 1) throw new RangeError('input packet out of range');
  const out = new Uint8Array(HEADER_BYTES + Math.ceil(count / 2));
  const view = new DataView(out.buffer);
  view.setUint8(0, VERSION);
  view.setUint8(1, count);
  view.setUint32(2, packet.newestTick, true);
  view.setUint32(6, packet.ackSnapshotTick ?? NO_ACK, true);
  packet.inputs.forEach((controls, i) => {
    out[HEADER_BYTES + (i >> 1)]! |= (controls & 0xf) << ((i & 1) * CONTROL_BITS);
  });
  return out;
}

export function decodeInput(bytes: Uint8Array): InputPacket | InputDecodeError {
  if (bytes.length < HEADER_BYTES) return 'truncated';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(0) !== VERSION) return 'bad-version';
  const count = view.getUint8(1);
  if (count < 1 || count > MAX_INPUTS_PER_PACKET) return 'bad-count';
  if (bytes.length !== HEADER_BYTES + Math.ceil(count / 2)) return 'bad-length';
  const newestTick = view.getUint32(2, true);
  if (newestTick < count - 1) return 'bad-tick';
  const ack = view.getUint32(6, true);
  const inputs: Controls[] = [];
  for (let i = 0; i < count; i++) inputs.push((bytes[HEADER_BYTES + (i >> 1)]! >> ((i & 1) * CONTROL_BITS)) & 0xf);
  // An odd count leaves a spare nibble, which must be zero so that every packet has one encoding.
  if (count % 2 === 1 && bytes[bytes.length - 1]! >> CONTROL_BITS !== 0) return 'bad-controls';
  return { newestTick, inputs, ackSnapshotTick: ack === NO_ACK ? undefined : ack };
}

/** Client side: remembers its recent controls and builds each tick's packet. */
export class InputHistory {
  private tick = -1;
  private readonly recent: Controls[] = [];

  constructor(private readonly redundancy = INPUT_REDUNDANCY) {}

  /** Records this client tick's controls and returns the packet to send. */
  next(controls: Controls, ackSnapshotTick: number | undefined): Uint8Array {
    this.tick++;
    this.recent.unshift(controls);
    if (this.recent.length > this.redundancy) this.recent.length = this.redundancy;
    return encodeInput({ newestTick: this.tick, inputs: [...this.recent], ackSnapshotTick });
  }
}

/**
 * Server side, one per player: one input per client tick, consumed one per server tick in tick order. Repeats
 * and ticks already consumed are ignored. When nothing new has arrived the last controls are held (a lost or
 * late packet should not make a thrusting ship coast); when the client runs ahead, the oldest waiting inputs
 * are dropped so the delay stays bounded.
 */
export class InputBuffer {
  private readonly pending = new Map<number, Controls>();
  private consumed = -1;
  private held: Controls = NO_CONTROLS;

  constructor(
    /** Inputs allowed to wait; beyond it the oldest go. */
    private readonly maxWaiting = 4,
    /** A tick further ahead than this means the client restarted or jumped: start over from it. */
    private readonly window = 64,
  ) {}

  receive(packet: InputPacket): void {
    if (packet.newestTick > this.consumed + this.window) {
      this.pending.clear();
      this.consumed = packet.newestTick - packet.inputs.length;
    }
    packet.inputs.forEach((controls, i) => {
      const tick = packet.newestTick - i;
      if (tick > this.consumed && !this.pending.has(tick)) this.pending.set(tick, controls);
    });
  }

  /** The controls for this server tick. */
  next(): Controls {
    while (this.pending.size > this.maxWaiting) {
      const dropped = this.oldest();
      this.pending.delete(dropped);
      this.consumed = dropped;
    }
    if (this.pending.size === 0) return this.held;
    const tick = this.oldest();
    this.held = this.pending.get(tick) ?? NO_CONTROLS;
    this.pending.delete(tick);
    this.consumed = tick;
    return this.held;
  }

  get waiting(): number {
    return this.pending.size;
  }

  private oldest(): number {
    let min = Infinity;
    for (const tick of this.pending.keys()) min = Math.min(min, tick);
    return min;
  }
}
