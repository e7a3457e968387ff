/**
 * The seven netcode packets: writing into caller buffers and reading with the reference's checks, in the
 * reference's order.
 *
 * Encrypted packets are `prefix ++ sequence (1..8 bytes, LE, shortest) ++ AEAD(body) ++ MAC`, sealed with
 * ChaCha20-Poly1305-IETF, nonce `[0,0,0,0] ++ u64le(sequence)`, AAD `version info ++ protocol id ++ prefix`.
 * The connection request is not encrypted; its private connect token is.
 *
 * Hot path (keep-alive, payload): writer and reader own their nonce and AAD scratch, payloads are sealed
 * straight into the output and opened in place, so nothing is allocated beyond the AEAD's subarray views,
 * the read result and its sequence bigint.
 */
import { defaultAead, type Aead } from '../crypto/index.ts';
import { ByteReader, ByteWriter } from '../bytes.ts';
import type { ConnectTokenPrivate, SealedPrivateToken } from './connect-token.ts';
import { openConnectTokenPrivate } from './connect-token.ts';
import {
  type AllowedPackets,
  CHALLENGE_BODY_BYTES,
  CHALLENGE_TOKEN_BYTES,
  CONNECT_TOKEN_NONCE_BYTES,
  CONNECT_TOKEN_PRIVATE_BYTES,
  CONNECTION_REQUEST_BYTES,
  KEEP_ALIVE_BODY_BYTES,
  MAC_BYTES,
  MAX_PAYLOAD_BYTES,
  MIN_ENCRYPTED_PACKET_BYTES,
  PACKET_AAD_BYTES,
  PACKET_TYPE_COUNT,
  PacketType,
  VERSION_INFO,
  VERSION_INFO_BYTES,
} from './constants.ts';
import { isRejection, Rejected, type Rejection } from './rejection.ts';
import type { ReplayProtection } from './replay.ts';
import { PacketNonce } from './sequence.ts';

export interface ConnectionRequestPacket {
  readonly type: typeof PacketType.ConnectionRequest;
  /** Always 0: requests carry no sequence. */
  readonly sequence: bigint;
  readonly expireTimestamp: bigint;
  /** 24 bytes, copied. */
  readonly nonce: Uint8Array;
  /** The 1024 sealed bytes, copied; the last 16 (its MAC) identify the token for reuse checks. */
  readonly encryptedPrivate: Uint8Array;
  /** The decrypted and validated private part. */
  readonly token: ConnectTokenPrivate;
}

export interface ConnectionDeniedPacket {
  readonly type: typeof PacketType.ConnectionDenied;
  readonly sequence: bigint;
}

export interface ConnectionChallengePacket {
  readonly type: typeof PacketType.ConnectionChallenge;
  readonly sequence: bigint;
  readonly challengeTokenSequence: bigint;
  /** 300 bytes, a view into the read buffer. */
  readonly challengeTokenData: Uint8Array;
}

export interface ConnectionResponsePacket {
  readonly type: typeof PacketType.ConnectionResponse;
  readonly sequence: bigint;
  readonly challengeTokenSequence: bigint;
  /** 300 bytes, a view into the read buffer. */
  readonly challengeTokenData: Uint8Array;
}

export interface ConnectionKeepAlivePacket {
  readonly type: typeof PacketType.ConnectionKeepAlive;
  readonly sequence: bigint;
  readonly clientIndex: number;
  readonly maxClients: number;
}

export interface ConnectionPayloadPacket {
  readonly type: typeof PacketType.ConnectionPayload;
  readonly sequence: bigint;
  /** 1..1200 bytes, decrypted in place: a view into the read buffer. */
  readonly payload: Uint8Array;
}

export interface ConnectionDisconnectPacket {
  readonly type: typeof PacketType.ConnectionDisconnect;
  readonly sequence: bigint;
}

export type Packet =
  | ConnectionRequestPacket
  | ConnectionDeniedPacket
  | ConnectionChallengePacket
  | ConnectionResponsePacket
  | ConnectionKeepAlivePacket
  | ConnectionPayloadPacket
  | ConnectionDisconnectPacket;

/** What a reader needs to know about the packet's sender and about now. Reuse one and mutate it per packet. */
export interface PacketReadContext {
  protocolId: bigint;
  /** Unix seconds; a request whose token expire timestamp is at or before this is refused. */
  currentTimestamp: number | bigint;
  /** SERVER_ALLOWED_PACKETS or CLIENT_ALLOWED_PACKETS (or a narrower set, e.g. while connecting). */
  allowed: AllowedPackets;
  /** Receive key for encrypted packets from this peer; without one only requests can be read. */
  key?: Uint8Array | null;
  /** The game's private key, to open connection requests (server only). */
  privateKey?: Uint8Array | null;
  /** This peer's replay window; applied to keep-alive, payload and disconnect packets. */
  replay?: ReplayProtection | null;
}

/** The 22-byte packet AAD with the protocol id filled in; only the prefix byte changes per packet. */
class PacketAad {
  readonly bytes = new Uint8Array(PACKET_AAD_BYTES);
  private protocolId = -1n;

  constructor() {
    this.bytes.set(VERSION_INFO);
  }

  set(protocolId: bigint, prefix: number): Uint8Array {
    if (protocolId !== this.protocolId) {
      new ByteWriter(this.bytes, VERSION_INFO_BYTES).u64(protocolId);
      this.protocolId = protocolId;
    }
    this.bytes[PACKET_AAD_BYTES - 1] = prefix;
    return this.bytes;
  }
}

/** A fresh copy of the AAD for a packet (for tools and tests; the writer and reader keep their own). */
export function packetAad(protocolId: bigint, prefix: number): Uint8Array {
  return new PacketAad().set(protocolId, prefix).slice();
}

/**
 * Writes packets for one protocol id. Each method writes into `out` from offset 0 and returns the length;
 * it throws a RangeError on programming errors (short buffer, payload size, bad key length).
 */
export class PacketWriter {
  private readonly nonce = new PacketNonce();
  private readonly aad = new PacketAad();

  constructor(
    readonly protocolId: bigint,
    private readonly aead: Aead = defaultAead,
  ) {}

  /** The unencrypted 1078-byte request, from the client's public connect token. */
  writeConnectionRequest(out: Uint8Array, token: SealedPrivateToken): number {
    if (token.nonce.length !== CONNECT_TOKEN_NONCE_BYTES || token.encryptedPrivate.length !== CONNECT_TOKEN_PRIVATE_BYTES) {
      throw new RangeError('connect token nonce or private data has the wrong size');
    }
    checkRoom(out, CONNECTION_REQUEST_BYTES);
    const writer = new ByteWriter(out).u8(PacketType.ConnectionRequest).bytes(VERSION_INFO).u64(this.protocolId);
    writer.u64(token.expireTimestamp).bytes(token.nonce).bytes(token.encryptedPrivate);
    return writer.offset;
  }

  writeConnectionDenied(out: Uint8Array, sequence: bigint, key: Uint8Array): number {
    const body = this.begin(out, PacketType.ConnectionDenied, sequence, 0);
    return this.seal(out, body, 0, key, null);
  }

  writeConnectionChallenge(out: Uint8Array, sequence: bigint, key: Uint8Array, challengeTokenSequence: bigint, challengeTokenData: Uint8Array): number {
    return this.writeChallengeBody(out, PacketType.ConnectionChallenge, sequence, key, challengeTokenSequence, challengeTokenData);
  }

  writeConnectionResponse(out: Uint8Array, sequence: bigint, key: Uint8Array, challengeTokenSequence: bigint, challengeTokenData: Uint8Array): number {
    return this.writeChallengeBody(out, PacketType.ConnectionResponse, sequence, key, challengeTokenSequence, challengeTokenData);
  }

  writeKeepAlive(out: Uint8Array, sequence: bigint, key: Uint8Array, clientIndex: number, maxClients: number): number {
    const body = this.begin(out, PacketType.ConnectionKeepAlive, sequence, KEEP_ALIVE_BODY_BYTES);
    new ByteWriter(out, body).u32(clientIndex).u32(maxClients);
    return this.seal(out, body, KEEP_ALIVE_BODY_BYTES, key, null);
  }

  /** Seals `payload` (1..1200 bytes) straight into `out`; `payload` must not overlap `out`. */
  writePayload(out: Uint8Array, sequence: bigint, key: Uint8Array, payload: Uint8Array): number {
    const length = payload.length;
    if (length < 1 || length > MAX_PAYLOAD_BYTES) throw new RangeError(`payload must be 1..${MAX_PAYLOAD_BYTES} bytes, got ${length}`);
    const body = this.begin(out, PacketType.ConnectionPayload, sequence, length);
    return this.seal(out, body, length, key, payload);
  }

  writeDisconnect(out: Uint8Array, sequence: bigint, key: Uint8Array): number {
    const body = this.begin(out, PacketType.ConnectionDisconnect, sequence, 0);
    return this.seal(out, body, 0, key, null);
  }

  private writeChallengeBody(out: Uint8Array, type: PacketType, sequence: bigint, key: Uint8Array, tokenSequence: bigint, tokenData: Uint8Array): number {
    if (tokenData.length !== CHALLENGE_TOKEN_BYTES) throw new RangeError(`challenge token data must be ${CHALLENGE_TOKEN_BYTES} bytes`);
    const body = this.begin(out, type, sequence, CHALLENGE_BODY_BYTES);
    new ByteWriter(out, body).u64(tokenSequence).bytes(tokenData);
    return this.seal(out, body, CHALLENGE_BODY_BYTES, key, null);
  }

  /** Writes prefix and sequence, primes nonce and AAD; returns the body offset. */
  private begin(out: Uint8Array, type: PacketType, sequence: bigint, bodyBytes: number): number {
    const sequenceBytes = this.nonce.set(sequence);
    checkRoom(out, 1 + sequenceBytes + bodyBytes + MAC_BYTES);
    const prefix = (sequenceBytes << 4) | type;
    out[0] = prefix;
    this.nonce.copySequenceTo(out, 1, sequenceBytes);
    this.aad.set(this.protocolId, prefix);
    return 1 + sequenceBytes;
  }

  /** Seals the body (from `source`, or in place) and returns the packet length. */
  private seal(out: Uint8Array, body: number, bodyBytes: number, key: Uint8Array, source: Uint8Array | null): number {
    const end = body + bodyBytes;
    const data = source ?? out.subarray(body, end);
    this.aead.seal(key, this.nonce.bytes, this.aad.bytes, data, out.subarray(body, end + MAC_BYTES));
    return end + MAC_BYTES;
  }
}

/**
 * Reads packets. `read` never throws on hostile input: it returns a packet or a preallocated Rejection.
 *
 * Encrypted packets are decrypted IN PLACE: after a read the buffer no longer holds the ciphertext, and
 * payload / challenge data in the result are views into it, valid until the buffer is reused.
 */
export class PacketReader {
  private readonly nonce = new PacketNonce();
  private readonly aad = new PacketAad();

  constructor(private readonly aead: Aead = defaultAead) {}

  read(buffer: Uint8Array, context: PacketReadContext): Packet | Rejection {
    const length = buffer.length;
    if (length < 1) return Rejected['bad-size'];
    const prefix = buffer[0] as number;
    if (prefix === PacketType.ConnectionRequest) return this.readRequest(buffer, context);

    const key = context.key;
    if (!key) return Rejected['no-key'];
    if (length < MIN_ENCRYPTED_PACKET_BYTES) return Rejected['bad-size'];
    const type = prefix & 0x0f;
    // A zero type nibble under a non-zero prefix is no request and no encrypted type either.
    if (type >= PACKET_TYPE_COUNT || type === PacketType.ConnectionRequest) return Rejected['bad-type'];
    if ((context.allowed & (1 << type)) === 0) return Rejected['not-allowed'];
    const sequenceBytes = prefix >> 4;
    if (sequenceBytes < 1 || sequenceBytes > 8) return Rejected['bad-sequence-bytes'];
    const body = 1 + sequenceBytes;
    if (length < body + MAC_BYTES) return Rejected['bad-size'];

    const nonce = this.nonce;
    nonce.load(buffer, 1, sequenceBytes);
    const replay = type >= PacketType.ConnectionKeepAlive ? context.replay : null;
    if (replay && replay.alreadyReceivedParts(nonce.hi, nonce.lo)) return Rejected['replayed'];

    const bodyBytes = length - body - MAC_BYTES;
    const aad = this.aad.set(context.protocolId, prefix);
    if (!this.aead.open(key, nonce.bytes, aad, buffer.subarray(body, length), buffer.subarray(body, body + bodyBytes))) {
      return Rejected['auth-failed'];
    }
    if (!bodySizeOk(type, bodyBytes)) return Rejected['bad-body-size'];
    // Only packets that pass every check enter the window.
    if (replay) replay.advanceParts(nonce.hi, nonce.lo);
    return this.decode(type as PacketType, buffer, body, bodyBytes, nonce.sequence);
  }

  private readRequest(buffer: Uint8Array, context: PacketReadContext): ConnectionRequestPacket | Rejection {
    if ((context.allowed & (1 << PacketType.ConnectionRequest)) === 0) return Rejected['not-allowed'];
    if (buffer.length !== CONNECTION_REQUEST_BYTES) return Rejected['bad-size'];
    const privateKey = context.privateKey;
    if (!privateKey) return Rejected['no-key'];
    const reader = new ByteReader(buffer, 1);
    const version = reader.viewBytes(VERSION_INFO_BYTES);
    for (let i = 0; i < VERSION_INFO_BYTES; i++) if (version[i] !== VERSION_INFO[i]) return Rejected['bad-version'];
    if (reader.u64() !== context.protocolId) return Rejected['wrong-protocol'];
    const expireTimestamp = reader.u64();
    if (expireTimestamp <= context.currentTimestamp) return Rejected['expired'];
    const nonce = reader.bytes(CONNECT_TOKEN_NONCE_BYTES);
    const encryptedPrivate = reader.bytes(CONNECT_TOKEN_PRIVATE_BYTES);
    const token = openConnectTokenPrivate({ expireTimestamp, nonce, encryptedPrivate }, context.protocolId, privateKey, this.aead);
    if (isRejection(token)) return token;
    return { type: PacketType.ConnectionRequest, sequence: 0n, expireTimestamp, nonce, encryptedPrivate, token };
  }

  private decode(type: PacketType, buffer: Uint8Array, body: number, bodyBytes: number, sequence: bigint): Packet {
    switch (type) {
      case PacketType.ConnectionPayload:
        return { type: PacketType.ConnectionPayload, sequence, payload: buffer.subarray(body, body + bodyBytes) };
      case PacketType.ConnectionKeepAlive: {
        const reader = new ByteReader(buffer, body);
        return { type: PacketType.ConnectionKeepAlive, sequence, clientIndex: reader.u32(), maxClients: reader.u32() };
      }
      case PacketType.ConnectionChallenge:
      case PacketType.ConnectionResponse: {
        const reader = new ByteReader(buffer, body);
        const challengeTokenSequence = reader.u64();
        const challengeTokenData = reader.viewBytes(CHALLENGE_TOKEN_BYTES);
        return { type, sequence, challengeTokenSequence, challengeTokenData };
      }
      case PacketType.ConnectionDenied:
        return { type: PacketType.ConnectionDenied, sequence };
      default:
        return { type: PacketType.ConnectionDisconnect, sequence };
    }
  }
}

/** Decrypted body sizes per type: checked after decryption, since they are the plaintext's sizes. */
function bodySizeOk(type: number, bodyBytes: number): boolean {
  switch (type) {
    case PacketType.ConnectionPayload:
      return bodyBytes >= 1 && bodyBytes <= MAX_PAYLOAD_BYTES;
    case PacketType.ConnectionKeepAlive:
      return bodyBytes === KEEP_ALIVE_BODY_BYTES;
    case PacketType.ConnectionChallenge:
    case PacketType.ConnectionResponse:
      return bodyBytes === CHALLENGE_BODY_BYTES;
    default:
      return bodyBytes === 0;
  }
}

function checkRoom(out: Uint8Array, needed: number): void {
  if (out.length < needed) throw new RangeError(`output buffer holds ${out.length} bytes, the packet needs ${needed}`);
}
