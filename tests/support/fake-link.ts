import type { GameLink } from '../../src/game/peer-link.ts';

/**
 * A lossless stand-in for the reliability layer, for game-rule tests: each message becomes
 * `[channel u8][length u16 LE][bytes]` in its own payload. Anything that does not parse counts as invalid.
 */
export class FakeLink implements GameLink {
  private readonly outgoing: { channel: number; message: Uint8Array }[] = [];
  private readonly inbox = new Map<number, Uint8Array[]>();
  readonly stats = { rttSeconds: 0.012, invalidPackets: 0 };

  send(channel: number, message: Uint8Array): void {
    this.outgoing.push({ channel, message: message.slice() });
  }

  flush(_now: number, sink: (payload: Uint8Array) => void): number {
    const batch = this.outgoing.splice(0);
    for (const { channel, message } of batch) {
      const packet = new Uint8Array(3 + message.length);
      packet[0] = channel;
      packet[1] = message.length & 0xff;
      packet[2] = message.length >> 8;
      packet.set(message, 3);
      sink(packet);
    }
    return batch.length;
  }

  receivePacket(payload: Uint8Array): boolean {
    const length = (payload[1] ?? 0) | ((payload[2] ?? 0) << 8);
    if (payload.length < 3 || payload.length !== 3 + length) {
      this.stats.invalidPackets++;
      return false;
    }
    const channel = payload[0] as number;
    const list = this.inbox.get(channel) ?? [];
    list.push(payload.slice(3));
    this.inbox.set(channel, list);
    return true;
  }

  drain(channel: number): Uint8Array[] {
    const list = this.inbox.get(channel) ?? [];
    this.inbox.delete(channel);
    return list;
  }
}
