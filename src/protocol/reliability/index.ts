/** Reliability channels over netcode payloads. See docs/RELIABILITY.md. */
export { PeerLink, type PacketSink } from './peer-link.ts';
export type { ChannelKind, ChannelOptions, LinkOptions } from './config.ts';
export type { LinkStats } from './stats.ts';
export {
  InvalidConfigError,
  MessageTooLargeError,
  type QueueLimit,
  ReliabilityError,
  type ReliabilityErrorCode,
  SendQueueFullError,
  UnknownChannelError,
} from './errors.ts';
export { sequenceGreaterThan, sequenceLessThan } from './sequence.ts';
export { HEADER_BYTES, MAX_PACKET_BYTES, MAX_CHANNELS } from './wire.ts';
