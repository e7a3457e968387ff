/**
 * Connect tokens: what the matchmaker hands a player so that one game server will let them in.
 *
 * The private part (1024 bytes: client id, timeout, server addresses, both packet keys, user data, zero pad)
 * is sealed with the game's private key using XChaCha20-Poly1305 (24-byte nonce) over its first 1008 bytes,
 * with AAD version info ++ protocol id ++ expire timestamp; the MAC takes the last 16. The public token
 * (2048 bytes) wraps it with what the client itself needs: the addresses and keys in clear.
 */
import { defaultAead, type Aead } from '../crypto/index.ts';
import { ByteReader, ByteWriter, constantTimeEqual } from '../bytes.ts';
import { type Address, readAddress, writeAddress } from './address.ts';
import {
  CONNECT_TOKEN_AAD_BYTES,
  CONNECT_TOKEN_BYTES,
  CONNECT_TOKEN_NONCE_BYTES,
  CONNECT_TOKEN_PRIVATE_BYTES,
  CONNECT_TOKEN_PRIVATE_SEALED_BYTES,
  KEY_BYTES,
  MAX_SERVERS_PER_CONNECT,
  NEVER_EXPIRES,
  USER_DATA_BYTES,
  VERSION_INFO,
  VERSION_INFO_BYTES,
} from './constants.ts';
import { isRejection, Rejected, type Rejection } from './rejection.ts';

export interface ConnectTokenPrivate {
  readonly clientId: bigint;
  /** int32; negative disables the timeout. */
  readonly timeoutSeconds: number;
  readonly serverAddresses: readonly Address[];
  readonly clientToServerKey: Uint8Array;
  readonly serverToClientKey: Uint8Array;
  /** Exactly 256 bytes. */
  readonly userData: Uint8Array;
}

export interface ConnectToken {
  readonly protocolId: bigint;
  readonly createTimestamp: bigint;
  /** 0xffffffffffffffff (NEVER_EXPIRES) for a token that never expires. */
  readonly expireTimestamp: bigint;
  /** 24 bytes. */
  readonly nonce: Uint8Array;
  /** 1024 bytes: sealed private part, MAC last. */
  readonly encryptedPrivate: Uint8Array;
  readonly timeoutSeconds: number;
  readonly serverAddresses: readonly Address[];
  readonly clientToServerKey: Uint8Array;
  readonly serverToClientKey: Uint8Array;
}

/** Writes the 1024-byte private plaintext (MAC area zeroed). */
export function writeConnectTokenPrivate(token: ConnectTokenPrivate, out = new Uint8Array(CONNECT_TOKEN_PRIVATE_BYTES)): Uint8Array {
  if (out.length !== CONNECT_TOKEN_PRIVATE_BYTES) throw new RangeError(`private token buffer must be ${CONNECT_TOKEN_PRIVATE_BYTES} bytes`);
  checkFixed(token.userData, USER_DATA_BYTES, 'user data');
  const writer = new ByteWriter(out);
  writePrivateFields(writer, token.clientId, token.timeoutSeconds, token);
  writer.bytes(token.userData).zeroTo(CONNECT_TOKEN_PRIVATE_BYTES);
  return out;
}

/** The private part's fields up to its user data, which the caller writes (or leaves zero). */
function writePrivateFields(writer: ByteWriter, clientId: bigint, timeoutSeconds: number, token: AddressesAndKeys): void {
  writer.u64(clientId).i32(checkTimeout(timeoutSeconds));
  writeAddressesAndKeys(writer, token);
}

/** Parses a decrypted private part (at least its 1008 sealed bytes). */
export function readConnectTokenPrivate(plaintext: Uint8Array): ConnectTokenPrivate | Rejection {
  if (plaintext.length < CONNECT_TOKEN_PRIVATE_SEALED_BYTES) return Rejected['bad-size'];
  const reader = new ByteReader(plaintext);
  const clientId = reader.u64();
  const timeoutSeconds = reader.i32();
  const rest = readAddressesAndKeys(reader);
  if (isRejection(rest)) return rest;
  return { clientId, timeoutSeconds, ...rest, userData: reader.bytes(USER_DATA_BYTES) };
}

/** The 29-byte AAD of the private part. */
export function connectTokenAad(protocolId: bigint, expireTimestamp: bigint, out = new Uint8Array(CONNECT_TOKEN_AAD_BYTES)): Uint8Array {
  new ByteWriter(out).bytes(VERSION_INFO).u64(protocolId).u64(expireTimestamp);
  return out;
}

/** The AAD every seal and open here writes and passes on at once (the AEAD copies it): none allocated per token. */
const aadScratch = new Uint8Array(CONNECT_TOKEN_AAD_BYTES);

/** Seals a 1024-byte private plaintext in place. */
export function encryptConnectTokenPrivate(
  buffer: Uint8Array,
  protocolId: bigint,
  expireTimestamp: bigint,
  nonce: Uint8Array,
  privateKey: Uint8Array,
  aead: Aead = defaultAead,
): void {
  checkFixed(buffer, CONNECT_TOKEN_PRIVATE_BYTES, 'private token');
  checkFixed(nonce, CONNECT_TOKEN_NONCE_BYTES, 'connect token nonce');
  const aad = connectTokenAad(protocolId, expireTimestamp, aadScratch);
  aead.seal(privateKey, nonce, aad, buffer.subarray(0, CONNECT_TOKEN_PRIVATE_SEALED_BYTES), buffer);
}

/**
 * Opens a 1024-byte sealed private part into `out` (1008 bytes; may be the sealed buffer itself).
 * Returns false if it is not authentic for this protocol id, expire timestamp, nonce and key.
 */
export function decryptConnectTokenPrivate(
  sealed: Uint8Array,
  protocolId: bigint,
  expireTimestamp: bigint,
  nonce: Uint8Array,
  privateKey: Uint8Array,
  aead: Aead = defaultAead,
  out: Uint8Array = new Uint8Array(CONNECT_TOKEN_PRIVATE_SEALED_BYTES),
): boolean {
  if (sealed.length !== CONNECT_TOKEN_PRIVATE_BYTES || nonce.length !== CONNECT_TOKEN_NONCE_BYTES) return false;
  if (out.length < CONNECT_TOKEN_PRIVATE_SEALED_BYTES) return false;
  const aad = connectTokenAad(protocolId, expireTimestamp, aadScratch);
  return aead.open(privateKey, nonce, aad, sealed, out.subarray(0, CONNECT_TOKEN_PRIVATE_SEALED_BYTES));
}

/** The sealed private part with what opens it: carried by both the public token and the connection request. */
export type SealedPrivateToken = Pick<ConnectToken, 'expireTimestamp' | 'nonce' | 'encryptedPrivate'>;

/** Decrypts and parses: what the server does with the private part of a connection request. */
export function openConnectTokenPrivate(sealed: SealedPrivateToken, protocolId: bigint, privateKey: Uint8Array, aead: Aead = defaultAead): ConnectTokenPrivate | Rejection {
  const plaintext = new Uint8Array(CONNECT_TOKEN_PRIVATE_SEALED_BYTES);
  const { encryptedPrivate, expireTimestamp, nonce } = sealed;
  if (!decryptConnectTokenPrivate(encryptedPrivate, protocolId, expireTimestamp, nonce, privateKey, aead, plaintext)) return Rejected['auth-failed'];
  return readConnectTokenPrivate(plaintext);
}

/** Writes the 2048-byte public token. */
export function writeConnectToken(token: ConnectToken, out = new Uint8Array(CONNECT_TOKEN_BYTES)): Uint8Array {
  return writePublicToken(token, out, false);
}

/** Where the sealed private part sits in the public token: after version, protocol id, two timestamps and nonce. */
const PRIVATE_OFFSET = VERSION_INFO_BYTES + 8 + 8 + 8 + CONNECT_TOKEN_NONCE_BYTES;

/** The public token's fields into `out`; with `privateInPlace` the sealed private part is already at PRIVATE_OFFSET. */
function writePublicToken(token: ConnectToken, out: Uint8Array, privateInPlace: boolean): Uint8Array {
  if (out.length !== CONNECT_TOKEN_BYTES) throw new RangeError(`connect token buffer must be ${CONNECT_TOKEN_BYTES} bytes`);
  checkFixed(token.nonce, CONNECT_TOKEN_NONCE_BYTES, 'connect token nonce');
  checkFixed(token.encryptedPrivate, CONNECT_TOKEN_PRIVATE_BYTES, 'encrypted private token');
  const writer = new ByteWriter(out)
    .bytes(VERSION_INFO)
    .u64(token.protocolId)
    .u64(token.createTimestamp)
    .u64(token.expireTimestamp)
    .bytes(token.nonce);
  if (privateInPlace) writer.offset += CONNECT_TOKEN_PRIVATE_BYTES;
  else writer.bytes(token.encryptedPrivate);
  writer.i32(checkTimeout(token.timeoutSeconds));
  writeAddressesAndKeys(writer, token);
  writer.zeroTo(CONNECT_TOKEN_BYTES);
  return out;
}

/** Parses and validates a public token as a client receives it (the private part stays sealed). */
export function readConnectToken(bytes: Uint8Array): ConnectToken | Rejection {
  if (bytes.length !== CONNECT_TOKEN_BYTES) return Rejected['bad-size'];
  const reader = new ByteReader(bytes);
  if (!constantTimeEqual(reader.viewBytes(VERSION_INFO_BYTES), VERSION_INFO)) return Rejected['bad-version'];
  const protocolId = reader.u64();
  const createTimestamp = reader.u64();
  const expireTimestamp = reader.u64();
  if (createTimestamp > expireTimestamp) return Rejected['bad-timestamps'];
  const nonce = reader.bytes(CONNECT_TOKEN_NONCE_BYTES);
  const encryptedPrivate = reader.bytes(CONNECT_TOKEN_PRIVATE_BYTES);
  const timeoutSeconds = reader.i32();
  const rest = readAddressesAndKeys(reader);
  if (isRejection(rest)) return rest;
  return { protocolId, createTimestamp, expireTimestamp, nonce, encryptedPrivate, timeoutSeconds, ...rest };
}

export interface GenerateConnectTokenOptions {
  protocolId: bigint;
  privateKey: Uint8Array;
  clientId: bigint;
  /** 1..32 */
  serverAddresses: Address[];
  /** <= 256 bytes, zero padded */
  userData?: Uint8Array;
  /**
   * Lifetime in whole seconds; < 0 means never (expire = 0xffffffffffffffff, as the reference). A number must be
   * a safe integer; a bigint reaches any u64 expire timestamp exactly.
   */
  expireSeconds: number | bigint;
  /** int32; -1 = no timeout */
  timeoutSeconds: number;
  /**
   * Unix seconds, the create timestamp; the pure code never reads a clock. A number is floored (Date.now() / 1000
   * may be passed as is) and must stay within 2^53; a bigint is any u64, taken exactly.
   */
  nowSeconds: number | bigint;
  /**
   * Defaults to crypto.getRandomValues. Called, as the reference draws them, for the client-to-server key
   * (32), the server-to-client key (32), then the nonce (24).
   */
  random?: (length: number) => Uint8Array;
  aead?: Aead;
}

/**
 * Mints a connect token. Bad options are programming errors and throw a RangeError; the result is the
 * 2048 bytes to hand to the client and the same token as values (its `encryptedPrivate` a view of those bytes).
 */
export function generateConnectToken(o: GenerateConnectTokenOptions): { bytes: Uint8Array; token: ConnectToken } {
  const random = o.random ?? defaultRandom;
  checkFixed(o.privateKey, KEY_BYTES, 'private key');
  const createTimestamp = createTimestampOf(o.nowSeconds);
  const lifetime = lifetimeOf(o.expireSeconds);
  const expireTimestamp = lifetime < 0n ? NEVER_EXPIRES : createTimestamp + lifetime;
  if (expireTimestamp > U64_MAX) throw new RangeError(`create timestamp ${createTimestamp} + lifetime ${lifetime} overflows a u64`);
  const userData = o.userData;
  if (userData && userData.length > USER_DATA_BYTES) throw new RangeError(`user data is ${userData.length} bytes, at most ${USER_DATA_BYTES}`);
  const clientToServerKey = checkFixed(random(KEY_BYTES), KEY_BYTES, 'random key');
  const serverToClientKey = checkFixed(random(KEY_BYTES), KEY_BYTES, 'random key');
  const nonce = checkFixed(random(CONNECT_TOKEN_NONCE_BYTES), CONNECT_TOKEN_NONCE_BYTES, 'random nonce');
  // The private part is written and sealed where the public token carries it: no buffer of its own, no copy. The
  // token is fresh, so its zero padding (and the user data's) is already there. Objects are built once, without
  // spreads: this is what the matchmaker does per join, and the protocol bench's "tokens" figure.
  const bytes = new Uint8Array(CONNECT_TOKEN_BYTES);
  const encryptedPrivate = bytes.subarray(PRIVATE_OFFSET, PRIVATE_OFFSET + CONNECT_TOKEN_PRIVATE_BYTES);
  const token: ConnectToken = {
    protocolId: o.protocolId,
    createTimestamp,
    expireTimestamp,
    nonce,
    encryptedPrivate,
    timeoutSeconds: o.timeoutSeconds,
    serverAddresses: o.serverAddresses.slice(),
    clientToServerKey,
    serverToClientKey,
  };
  const privateWriter = new ByteWriter(bytes, PRIVATE_OFFSET);
  writePrivateFields(privateWriter, o.clientId, token.timeoutSeconds, token);
  if (userData) privateWriter.bytes(userData);
  const aad = connectTokenAad(o.protocolId, expireTimestamp, aadScratch);
  const plaintext = bytes.subarray(PRIVATE_OFFSET, PRIVATE_OFFSET + CONNECT_TOKEN_PRIVATE_SEALED_BYTES);
  (o.aead ?? defaultAead).seal(o.privateKey, nonce, aad, plaintext, encryptedPrivate);
  return { bytes: writePublicToken(token, bytes, true), token };
}

const U64_MAX = 0xffff_ffff_ffff_ffffn;

/**
 * The u64 create timestamp, exact: a number beyond 2^53 has already lost its low bits, so it is refused rather
 * than written as some nearby value (pass a bigint).
 */
function createTimestampOf(now: number | bigint): bigint {
  if (typeof now === 'bigint') {
    if (now < 0n || now > U64_MAX) throw new RangeError(`nowSeconds must be a u64 unix time, got ${now}`);
    return now;
  }
  const seconds = Math.floor(now);
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new RangeError(`nowSeconds must be a unix time within 2^53 (else a bigint), got ${now}`);
  return BigInt(seconds);
}

/** The lifetime in seconds, exact; negative means the token never expires. */
function lifetimeOf(seconds: number | bigint): bigint {
  if (typeof seconds === 'bigint') return seconds;
  if (!Number.isSafeInteger(seconds)) throw new RangeError(`expireSeconds must be a safe integer (else a bigint), got ${seconds}`);
  return BigInt(seconds);
}

type AddressesAndKeys = Pick<ConnectTokenPrivate, 'serverAddresses' | 'clientToServerKey' | 'serverToClientKey'>;

/** The run both token parts share: address count, addresses, then the two packet keys. */
function writeAddressesAndKeys(writer: ByteWriter, token: AddressesAndKeys): void {
  const addresses = token.serverAddresses;
  if (addresses.length < 1 || addresses.length > MAX_SERVERS_PER_CONNECT) {
    throw new RangeError(`a connect token holds 1..${MAX_SERVERS_PER_CONNECT} server addresses, got ${addresses.length}`);
  }
  writer.u32(addresses.length);
  for (const address of addresses) writeAddress(writer, address);
  writer.bytes(checkFixed(token.clientToServerKey, KEY_BYTES, 'client-to-server key'));
  writer.bytes(checkFixed(token.serverToClientKey, KEY_BYTES, 'server-to-client key'));
}

function readAddressesAndKeys(reader: ByteReader): AddressesAndKeys | Rejection {
  const count = reader.u32();
  if (count < 1 || count > MAX_SERVERS_PER_CONNECT) return Rejected['bad-address-count'];
  const serverAddresses: Address[] = [];
  for (let i = 0; i < count; i++) {
    const address = readAddress(reader);
    if (!address) return Rejected['bad-address-type'];
    serverAddresses.push(address);
  }
  return { serverAddresses, clientToServerKey: reader.bytes(KEY_BYTES), serverToClientKey: reader.bytes(KEY_BYTES) };
}

function checkTimeout(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < -0x8000_0000 || seconds > 0x7fff_ffff) {
    throw new RangeError(`timeoutSeconds must be an int32, got ${seconds}`);
  }
  return seconds;
}

function checkFixed(bytes: Uint8Array, length: number, what: string): Uint8Array {
  if (bytes.length !== length) throw new RangeError(`${what} must be ${length} bytes, got ${bytes.length}`);
  return bytes;
}

function defaultRandom(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}
