/** Sizes and codes of netcode 1.02, as the reference defines them. */

/** "NETCODE 1.02" with its NUL terminator: the NUL is part of the wire format and of every AAD. */
export const VERSION_INFO: Uint8Array = new TextEncoder().encode('NETCODE 1.02\0');
export const VERSION_INFO_BYTES = 13;

export const KEY_BYTES = 32;
export const MAC_BYTES = 16;
export const CONNECT_TOKEN_NONCE_BYTES = 24;
export const PACKET_NONCE_BYTES = 12;
export const USER_DATA_BYTES = 256;
export const MAX_SERVERS_PER_CONNECT = 32;

export const CONNECT_TOKEN_BYTES = 2048;
export const CONNECT_TOKEN_PRIVATE_BYTES = 1024;
/** The sealed part of the private token; its MAC fills the last 16 bytes of the 1024. */
export const CONNECT_TOKEN_PRIVATE_SEALED_BYTES = CONNECT_TOKEN_PRIVATE_BYTES - MAC_BYTES;
export const CHALLENGE_TOKEN_BYTES = 300;
export const CHALLENGE_TOKEN_SEALED_BYTES = CHALLENGE_TOKEN_BYTES - MAC_BYTES;

/** AAD of an encrypted packet: version info, protocol id, prefix byte. */
export const PACKET_AAD_BYTES = VERSION_INFO_BYTES + 8 + 1;
/** AAD of the private connect token: version info, protocol id, expire timestamp. */
export const CONNECT_TOKEN_AAD_BYTES = VERSION_INFO_BYTES + 8 + 8;

export const MAX_PAYLOAD_BYTES = 1200;
/** prefix, version, protocol id, expire timestamp, nonce, encrypted private token. */
export const CONNECTION_REQUEST_BYTES = 1 + VERSION_INFO_BYTES + 8 + 8 + CONNECT_TOKEN_NONCE_BYTES + CONNECT_TOKEN_PRIVATE_BYTES;
/** Challenge and response bodies: challenge token sequence then the encrypted challenge token. */
export const CHALLENGE_BODY_BYTES = 8 + CHALLENGE_TOKEN_BYTES;
export const KEEP_ALIVE_BODY_BYTES = 8;
/** The smallest encrypted packet: prefix, one sequence byte, MAC. */
export const MIN_ENCRYPTED_PACKET_BYTES = 1 + 1 + MAC_BYTES;
/** The largest valid packet: a full payload with an 8-byte sequence (the request is smaller). */
export const MAX_PACKET_BYTES = 1 + 8 + MAX_PAYLOAD_BYTES + MAC_BYTES;

export const REPLAY_BUFFER_SIZE = 256;

export const PacketType = {
  ConnectionRequest: 0,
  ConnectionDenied: 1,
  ConnectionChallenge: 2,
  ConnectionResponse: 3,
  ConnectionKeepAlive: 4,
  ConnectionPayload: 5,
  ConnectionDisconnect: 6,
} as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];
export const PACKET_TYPE_COUNT = 7;

/** Packet types as a bit set (bit n = type n), so "is this type allowed" is one AND. */
export type AllowedPackets = number;
export const SERVER_ALLOWED_PACKETS: AllowedPackets =
  (1 << PacketType.ConnectionRequest) |
  (1 << PacketType.ConnectionResponse) |
  (1 << PacketType.ConnectionKeepAlive) |
  (1 << PacketType.ConnectionPayload) |
  (1 << PacketType.ConnectionDisconnect);
export const CLIENT_ALLOWED_PACKETS: AllowedPackets =
  (1 << PacketType.ConnectionDenied) |
  (1 << PacketType.ConnectionChallenge) |
  (1 << PacketType.ConnectionKeepAlive) |
  (1 << PacketType.ConnectionPayload) |
  (1 << PacketType.ConnectionDisconnect);

/** The reference writes this expire timestamp for tokens that never expire. */
export const NEVER_EXPIRES = 0xffff_ffff_ffff_ffffn;
/** First value of the server's own (denied/challenge) packet sequence, kept apart from per-client ones. */
export const SERVER_GLOBAL_SEQUENCE_START = 1n << 63n;
