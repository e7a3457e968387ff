/**
 * Link and channel options, their defaults, and the checks that reject a configuration which could not work
 * (both peers must use the same channel list and slice size).
 */
import { InvalidConfigError } from './errors.ts';
import { type BlockLayout, HEADER_BYTES, MAX_CHANNELS, MAX_PACKET_BYTES, blockOverhead } from './wire.ts';

export type ChannelKind = 'reliable-ordered' | 'unreliable' | 'unreliable-sequenced';

export interface ChannelOptions {
  kind: ChannelKind;
  /**
   * Largest message accepted by `send` and from the peer. Reliable default 64 KiB (sliced above one packet);
   * unreliable kinds are capped at what fits in one packet (about 1.18 KB), which is also their default.
   */
  maxMessageBytes?: number;
  /**
   * Per-direction memory cap of this channel: bytes queued to send (reliable: until acked), and bytes held
   * while receiving (out-of-order messages and partial slices, plus delivered messages not yet read).
   * Default 256 KiB; at least `maxMessageBytes`.
   */
  maxBufferedBytes?: number;
  /**
   * Reliable only: messages in flight (sent, not yet acked), which is also the receive window. A power of two
   * up to 16384; default 1024. Both peers alike.
   */
  maxInFlightMessages?: number;
}

export interface LinkOptions {
  /** Channels in priority order: when a flush's byte budget runs out, later channels wait. Both peers alike. */
  channels: readonly ChannelOptions[];
  /** Largest packet we produce and accept. Default (and maximum) 1200, the netcode payload limit. */
  maxPacketBytes?: number;
  /** Slice size of large reliable messages. Default 1024. Both peers must agree. */
  sliceBytes?: number;
  /** RTT assumed before the first measurement. Default 0.1 s. */
  initialRttSeconds?: number;
  /** Resend timer = max(rtt × resendRttFactor, minResendSeconds). Defaults 1.5 and 0.03 s. */
  resendRttFactor?: number;
  minResendSeconds?: number;
  /**
   * How long an owed ack may wait for a packet that carries messages before a flush sends it alone (an ack-only
   * packet). Default 0: at the first flush. Both peers should agree: each adds it to its resend and loss timers,
   * since the other may hold its acks this long.
   */
  maxAckDelaySeconds?: number;
  /** Bytes one `flush` may emit, like renet's bytes per tick. Default 60,000. */
  maxBytesPerFlush?: number;
  /** Window of the bytes/s stats. Default 1 s. */
  rateWindowSeconds?: number;
  /** First packet sequence. Default 0; tests start near 65535 to cross the wrap. */
  firstSequence?: number;
  /** First reliable message id on every channel, both directions. Default 0; both peers must agree. */
  firstMessageId?: number;
}

export interface ResolvedChannel {
  readonly id: number;
  readonly kind: ChannelKind;
  readonly layout: BlockLayout;
  readonly maxMessageBytes: number;
  readonly maxBufferedBytes: number;
  readonly maxInFlightMessages: number;
}

export interface ResolvedOptions {
  readonly channels: readonly ResolvedChannel[];
  readonly maxPacketBytes: number;
  readonly sliceBytes: number;
  /** Largest reliable message sent in one block; longer ones are sliced. */
  readonly maxWholeBytes: number;
  readonly initialRttSeconds: number;
  readonly resendRttFactor: number;
  readonly minResendSeconds: number;
  readonly maxAckDelaySeconds: number;
  readonly maxBytesPerFlush: number;
  readonly rateWindowSeconds: number;
  readonly firstSequence: number;
  readonly firstMessageId: number;
}

const DEFAULT_RELIABLE_MAX_MESSAGE = 64 * 1024;
const DEFAULT_MAX_BUFFERED = 256 * 1024;
const DEFAULT_IN_FLIGHT = 1024;
/** Message ids are u16: a window of half the space or more could not tell old from new. */
const MAX_IN_FLIGHT = 0x4000;

function layoutOf(kind: ChannelKind): BlockLayout {
  if (kind === 'reliable-ordered') return 'reliable';
  if (kind === 'unreliable') return 'unreliable';
  if (kind === 'unreliable-sequenced') return 'sequenced';
  throw new InvalidConfigError(`unknown channel kind ${JSON.stringify(kind)}`);
}

function integer(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new InvalidConfigError(`${name} must be an integer in ${min}..${max}, got ${v}`);
  return v;
}

function nonNegative(name: string, value: number | undefined, fallback: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0 || v > max) throw new InvalidConfigError(`${name} must be a number in 0..${max}, got ${v}`);
  return v;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new InvalidConfigError(`${name} must be a positive number, got ${v}`);
  return v;
}

export function resolveOptions(options: LinkOptions): ResolvedOptions {
  const count = options.channels.length;
  if (count < 1 || count > MAX_CHANNELS) throw new InvalidConfigError(`a link needs 1..${MAX_CHANNELS} channels, got ${count}`);
  const maxPacketBytes = integer('maxPacketBytes', options.maxPacketBytes, MAX_PACKET_BYTES, 64, MAX_PACKET_BYTES);
  const sliceRoom = maxPacketBytes - HEADER_BYTES - blockOverhead('reliable', true);
  const sliceBytes = integer('sliceBytes', options.sliceBytes, Math.min(1024, sliceRoom), 16, sliceRoom);
  const maxWholeBytes = maxPacketBytes - HEADER_BYTES - blockOverhead('reliable', false);

  const channels = options.channels.map((channel, id): ResolvedChannel => {
    const layout = layoutOf(channel.kind);
    const name = `channel ${id}`;
    const fitsOnePacket = maxPacketBytes - HEADER_BYTES - blockOverhead(layout, false);
    const messageCap = layout === 'reliable' ? 0xffff * sliceBytes : fitsOnePacket;
    const maxMessageBytes = integer(
      `${name} maxMessageBytes`,
      channel.maxMessageBytes,
      Math.min(layout === 'reliable' ? DEFAULT_RELIABLE_MAX_MESSAGE : fitsOnePacket, messageCap),
      1,
      messageCap,
    );
    const maxBufferedBytes = integer(
      `${name} maxBufferedBytes`,
      channel.maxBufferedBytes,
      Math.max(DEFAULT_MAX_BUFFERED, maxMessageBytes),
      maxMessageBytes,
      Number.MAX_SAFE_INTEGER,
    );
    const maxInFlightMessages = integer(`${name} maxInFlightMessages`, channel.maxInFlightMessages, DEFAULT_IN_FLIGHT, 1, MAX_IN_FLIGHT);
    // Windows are indexed by `id % size`; only a divisor of 65536 keeps that unique across the id wrap.
    if ((maxInFlightMessages & (maxInFlightMessages - 1)) !== 0) {
      throw new InvalidConfigError(`${name} maxInFlightMessages must be a power of two, got ${maxInFlightMessages}`);
    }
    return { id, kind: channel.kind, layout, maxMessageBytes, maxBufferedBytes, maxInFlightMessages };
  });

  return {
    channels,
    maxPacketBytes,
    sliceBytes,
    maxWholeBytes,
    initialRttSeconds: positive('initialRttSeconds', options.initialRttSeconds, 0.1),
    resendRttFactor: positive('resendRttFactor', options.resendRttFactor, 1.5),
    minResendSeconds: positive('minResendSeconds', options.minResendSeconds, 0.03),
    maxAckDelaySeconds: nonNegative('maxAckDelaySeconds', options.maxAckDelaySeconds, 0, 1),
    maxBytesPerFlush: integer('maxBytesPerFlush', options.maxBytesPerFlush, 60_000, maxPacketBytes, Number.MAX_SAFE_INTEGER),
    rateWindowSeconds: positive('rateWindowSeconds', options.rateWindowSeconds, 1),
    firstSequence: integer('firstSequence', options.firstSequence, 0, 0, 0xffff),
    firstMessageId: integer('firstMessageId', options.firstMessageId, 0, 0, 0xffff),
  };
}
