/** Hand-built packets for hostile-input tests, written independently of the link's own encoder. */

export const u16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
export const u32 = (v: number): number[] => [...u16(v & 0xffff), ...u16(v >>> 16)];

export interface HeaderFields {
  flags?: number;
  sequence: number;
  ack?: number;
  bits?: number;
  /** Ack delay, in 100 µs units. */
  delay?: number;
}

export function header({ flags, sequence, ack, bits, delay }: HeaderFields): number[] {
  const hasAck = ack !== undefined;
  return [flags ?? (hasAck ? 0x82 : 0x02), ...u16(sequence), ...u16(ack ?? 0), ...u32(bits ?? 0), ...u16(delay ?? 0)];
}

export function packet(fields: HeaderFields, ...blocks: number[][]): Uint8Array {
  return Uint8Array.from([...header(fields), ...blocks.flat()]);
}

export function bytes(length: number, fill = 0xab): number[] {
  return new Array<number>(length).fill(fill);
}

export const reliable = (channel: number, id: number, payload: number[]): number[] => [channel, ...u16(id), ...u16(payload.length), ...payload];
export const slice = (channel: number, id: number, index: number, count: number, payload: number[]): number[] => [
  channel | 0x40,
  ...u16(id),
  ...u16(index),
  ...u16(count),
  ...u16(payload.length),
  ...payload,
];
export const unreliable = (channel: number, payload: number[]): number[] => [channel, ...u16(payload.length), ...payload];
export const sequenced = (channel: number, sequence: number, payload: number[]): number[] => [channel, ...u16(sequence), ...u16(payload.length), ...payload];

/** Reads the ack fields of a packet the link produced. */
export function readAcks(packet: Uint8Array): { hasAck: boolean; sequence: number; ack: number; bits: number; delay: number } {
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  return {
    hasAck: (packet[0]! & 0x80) !== 0,
    sequence: view.getUint16(1, true),
    ack: view.getUint16(3, true),
    bits: view.getUint32(5, true),
    delay: view.getUint16(9, true),
  };
}
