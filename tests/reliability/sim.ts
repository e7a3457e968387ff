/**
 * A deterministic lossy link between two PeerLinks: seeded loss, latency with jitter (which reorders) and
 * duplication, stepped in fixed ticks. Everything both links see depends only on the seed.
 */
import { PeerLink, type LinkOptions } from '../../src/protocol/reliability/index.ts';
import { seededRandom } from '../support/prng.ts';

export interface Conditions {
  loss: number;
  /** One-way base latency, seconds. */
  latency: number;
  /** Extra uniform random delay 0..jitter, seconds; enough of it reorders packets. */
  jitter: number;
  duplicate: number;
}

interface InFlight {
  at: number;
  order: number;
  to: PeerLink;
  bytes: Uint8Array;
}

export const HARSH: Conditions = { loss: 0.2, latency: 0.05, jitter: 0.02, duplicate: 0.05 };

export class SimulatedNetwork {
  readonly random: () => number;
  now = 0;
  private queue: InFlight[] = [];
  private order = 0;
  packetsDropped = 0;
  packetsCarried = 0;
  largestPacket = 0;

  constructor(
    seed: number,
    readonly conditions: Conditions,
    readonly a: PeerLink,
    readonly b: PeerLink,
  ) {
    this.random = seededRandom(seed);
  }

  static pair(seed: number, conditions: Conditions, options: LinkOptions, optionsB: LinkOptions = options): SimulatedNetwork {
    return new SimulatedNetwork(seed, conditions, new PeerLink(options), new PeerLink(optionsB));
  }

  /** Advances one tick: delivers what has arrived, lets `beforeFlush` act, then both sides flush. */
  step(dt: number, beforeFlush?: () => void): void {
    this.now += dt;
    const due = this.queue.filter((p) => p.at <= this.now).sort((x, y) => x.at - y.at || x.order - y.order);
    this.queue = this.queue.filter((p) => p.at > this.now);
    for (const packet of due) packet.to.receivePacket(packet.bytes, this.now);
    beforeFlush?.();
    this.a.flush(this.now, (payload) => this.carry(payload, this.b));
    this.b.flush(this.now, (payload) => this.carry(payload, this.a));
  }

  /** Steps until `done` holds; false if `maxSeconds` of simulated time pass first. */
  runUntil(dt: number, maxSeconds: number, done: () => boolean, beforeFlush?: () => void): boolean {
    const end = this.now + maxSeconds;
    while (this.now < end) {
      this.step(dt, beforeFlush);
      if (done()) return true;
    }
    return false;
  }

  private carry(payload: Uint8Array, to: PeerLink): void {
    this.largestPacket = Math.max(this.largestPacket, payload.length);
    const { loss, latency, jitter, duplicate } = this.conditions;
    const copies = this.random() < duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      if (this.random() < loss) {
        this.packetsDropped++;
        continue;
      }
      this.packetsCarried++;
      // The sink's bytes are reused by the link: the wire keeps its own copy.
      this.queue.push({ at: this.now + latency + this.random() * jitter, order: this.order++, to, bytes: payload.slice() });
    }
  }
}

/** A message whose bytes say which it is, so order and integrity are checked by content. */
export function numberedMessage(index: number, length: number): Uint8Array {
  const out = new Uint8Array(Math.max(length, 4));
  new DataView(out.buffer).setUint32(0, index, true);
  for (let i = 4; i < out.length; i++) out[i] = (index * 31 + i * 7) & 0xff;
  return out;
}

export function messageIndex(message: Uint8Array): number {
  return new DataView(message.buffer, message.byteOffset, message.byteLength).getUint32(0, true);
}

export function isIntact(message: Uint8Array): boolean {
  const index = messageIndex(message);
  for (let i = 4; i < message.length; i++) if (message[i] !== ((index * 31 + i * 7) & 0xff)) return false;
  return true;
}
