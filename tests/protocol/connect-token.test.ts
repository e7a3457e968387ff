import { describe, expect, test } from 'bun:test';
import { ByteWriter } from '../../src/protocol/bytes.ts';
import {
  CONNECT_TOKEN_BYTES,
  CONNECTION_REQUEST_BYTES,
  PacketReader,
  PacketType,
  PacketWriter,
  SERVER_ALLOWED_PACKETS,
  encryptConnectTokenPrivate,
  isRejection,
  NEVER_EXPIRES,
  openChallengeToken,
  openConnectTokenPrivate,
  parseAddress,
  readConnectToken,
  readConnectTokenPrivate,
  sealChallengeToken,
  writeConnectTokenPrivate,
  type ConnectToken,
} from '../../src/protocol/netcode/index.ts';
import { counting, makeToken, NOW, PRIVATE_KEY, PROTOCOL_ID } from './fixtures.ts';

function reason(value: unknown): string | null {
  return isRejection(value) ? value.reason : null;
}

function publicToken(bytes: Uint8Array): ConnectToken {
  const token = readConnectToken(bytes);
  if (isRejection(token)) throw new Error(token.reason);
  return token;
}

describe('generateConnectToken', () => {
  test('round-trips through the public reader and the private opener', () => {
    const addresses = [parseAddress('127.0.0.1:40000'), parseAddress('[::1]:40001')];
    const { bytes, token } = makeToken({ serverAddresses: addresses, clientId: 7n });
    expect(bytes.length).toBe(CONNECT_TOKEN_BYTES);
    const read = publicToken(bytes);
    expect(read).toEqual(token);
    expect(read.createTimestamp).toBe(BigInt(NOW));
    expect(read.expireTimestamp).toBe(BigInt(NOW + 30));
    const inner = openConnectTokenPrivate(read, PROTOCOL_ID, PRIVATE_KEY);
    if (isRejection(inner)) throw new Error(inner.reason);
    expect(inner.clientId).toBe(7n);
    expect(inner.serverAddresses).toEqual(addresses);
    expect(inner.clientToServerKey).toEqual(read.clientToServerKey);
    expect(inner.serverToClientKey).toEqual(read.serverToClientKey);
    expect(new TextDecoder().decode(inner.userData.subarray(0, 3))).toBe('ann');
    expect(inner.userData.subarray(3).every((b) => b === 0)).toBe(true);
  });

  test('fresh random keys and nonce by default', () => {
    const a = makeToken().token;
    const b = makeToken().token;
    expect(a.nonce).not.toEqual(b.nonce);
    expect(a.clientToServerKey).not.toEqual(a.serverToClientKey);
    expect(a.clientToServerKey).not.toEqual(b.clientToServerKey);
  });

  test('negative lifetime never expires; fractional now is floored', () => {
    const { token } = makeToken({ expireSeconds: -1, nowSeconds: NOW + 0.9, timeoutSeconds: -1 });
    expect(token.expireTimestamp).toBe(NEVER_EXPIRES);
    expect(token.createTimestamp).toBe(BigInt(NOW));
    expect(publicToken(makeToken({ timeoutSeconds: -1 }).bytes).timeoutSeconds).toBe(-1);
  });

  test('u64 timestamps past 2^53 are exact end to end: public bytes, AAD of the private part, connection request', () => {
    const create = (1n << 60n) + 12_345n;
    const lifetime = (1n << 54n) + 1n; // a lifetime no JS number holds exactly
    const { bytes, token } = makeToken({ nowSeconds: create, expireSeconds: lifetime });
    const expire = create + lifetime;
    // Neither timestamp survives a trip through a JS number.
    expect(BigInt(Number(create))).not.toBe(create);
    expect(BigInt(Number(expire))).not.toBe(expire);
    expect([token.createTimestamp, token.expireTimestamp]).toEqual([create, expire]);
    // The wire bytes themselves (create at 21, expire at 29), not only what our reader makes of them.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect([view.getBigUint64(21, true), view.getBigUint64(29, true)]).toEqual([create, expire]);
    const read = publicToken(bytes);
    expect(read).toEqual(token);
    // The expire timestamp is in the private part's AAD: one second off and it no longer opens.
    expect(reason(openConnectTokenPrivate(read, PROTOCOL_ID, PRIVATE_KEY))).toBeNull();
    expect(reason(openConnectTokenPrivate({ ...read, expireTimestamp: expire - 1n }, PROTOCOL_ID, PRIVATE_KEY))).toBe('auth-failed');
    // A server whose clock is a bigint a second before expiry admits the request; at expiry it refuses it.
    const request = new Uint8Array(CONNECTION_REQUEST_BYTES);
    new PacketWriter(PROTOCOL_ID).writeConnectionRequest(request, read);
    const readAt = (currentTimestamp: bigint) =>
      new PacketReader().read(request, { protocolId: PROTOCOL_ID, currentTimestamp, allowed: SERVER_ALLOWED_PACKETS, key: null, privateKey: PRIVATE_KEY, replay: null });
    const admitted = readAt(expire - 1n);
    if (isRejection(admitted)) throw new Error(`request refused before expiry: ${admitted.reason}`);
    expect(admitted.type === PacketType.ConnectionRequest && admitted.expireTimestamp).toBe(expire);
    expect(reason(readAt(expire))).toBe('expired');
  });

  test('number and bigint inputs agree, and a bigint lifetime < 0 never expires', () => {
    const random = (n: number) => counting(n, 0x33);
    expect(makeToken({ nowSeconds: BigInt(NOW), expireSeconds: 30n, random }).bytes).toEqual(makeToken({ random }).bytes);
    expect(makeToken({ nowSeconds: 1n << 62n, expireSeconds: -1n }).token.expireTimestamp).toBe(NEVER_EXPIRES);
    // The largest expire timestamp a lifetime can reach is u64 max itself.
    expect(makeToken({ nowSeconds: NEVER_EXPIRES - 5n, expireSeconds: 5n }).token.expireTimestamp).toBe(NEVER_EXPIRES);
  });

  test.each([
    ['no addresses', { serverAddresses: [] }],
    ['33 addresses', { serverAddresses: Array.from({ length: 33 }, () => parseAddress('1.2.3.4:5')) }],
    ['257 bytes of user data', { userData: new Uint8Array(257) }],
    ['a 31-byte private key', { privateKey: new Uint8Array(31) }],
    ['a non-int32 timeout', { timeoutSeconds: 2 ** 31 }],
    ['a fractional timeout', { timeoutSeconds: 1.5 }],
    ['a fractional lifetime', { expireSeconds: 0.5 }],
    ['a NaN clock', { nowSeconds: Number.NaN }],
    ['a clock past 2^53 as a number (its low bits are already lost)', { nowSeconds: 2 ** 60 }],
    ['a lifetime past 2^53 as a number', { expireSeconds: 2 ** 54 }],
    ['a negative bigint clock', { nowSeconds: -1n }],
    ['a bigint clock past u64', { nowSeconds: 1n << 64n }],
    ['an expire timestamp that overflows a u64', { nowSeconds: (1n << 64n) - 10n, expireSeconds: 10n }],
    ['a short random draw', { random: (n: number) => new Uint8Array(n - 1) }],
  ])('throws a RangeError for %s', (_name, overrides) => {
    expect(() => makeToken(overrides)).toThrow(RangeError);
  });
});

describe('readConnectToken validation', () => {
  const good = () => makeToken().bytes.slice();
  // Offsets from the public layout: 0 version, 29 expire, 21 create, 1089 address count, 1093 first address.
  const ADDRESS_COUNT = 13 + 8 + 8 + 8 + 24 + 1024 + 4;

  test('wrong length', () => {
    expect(reason(readConnectToken(new Uint8Array(2047)))).toBe('bad-size');
    expect(reason(readConnectToken(new Uint8Array(2049)))).toBe('bad-size');
  });

  test('bad version info (the NUL counts)', () => {
    const bytes = good();
    bytes[12] = 0x20;
    expect(reason(readConnectToken(bytes))).toBe('bad-version');
  });

  test('create after expire', () => {
    const bytes = good();
    new ByteWriter(bytes, 21).u64(BigInt(NOW + 31));
    expect(reason(readConnectToken(bytes))).toBe('bad-timestamps');
  });

  test.each([0, 33, 0xffffffff])('address count %i', (count) => {
    const bytes = good();
    new ByteWriter(bytes, ADDRESS_COUNT).u32(count);
    expect(reason(readConnectToken(bytes))).toBe('bad-address-count');
  });

  test.each([0, 3])('address type %i', (type) => {
    const bytes = good();
    bytes[ADDRESS_COUNT + 4] = type;
    expect(reason(readConnectToken(bytes))).toBe('bad-address-type');
  });
});

describe('private part', () => {
  const { token } = makeToken();

  test('opens only with the same key, protocol id, expire timestamp and nonce', () => {
    const open = (p: bigint, e: bigint, n: Uint8Array, k: Uint8Array) =>
      reason(openConnectTokenPrivate({ encryptedPrivate: token.encryptedPrivate, expireTimestamp: e, nonce: n }, p, k));
    expect(open(PROTOCOL_ID, token.expireTimestamp, token.nonce, PRIVATE_KEY)).toBeNull();
    expect(open(PROTOCOL_ID + 1n, token.expireTimestamp, token.nonce, PRIVATE_KEY)).toBe('auth-failed');
    expect(open(PROTOCOL_ID, token.expireTimestamp + 1n, token.nonce, PRIVATE_KEY)).toBe('auth-failed');
    expect(open(PROTOCOL_ID, token.expireTimestamp, counting(24), PRIVATE_KEY)).toBe('auth-failed');
    expect(open(PROTOCOL_ID, token.expireTimestamp, token.nonce, counting(32))).toBe('auth-failed');
    expect(reason(openConnectTokenPrivate({ ...token, encryptedPrivate: token.encryptedPrivate.subarray(1) }, PROTOCOL_ID, PRIVATE_KEY))).toBe('auth-failed');
  });

  test('authentic but invalid contents are refused after decryption', () => {
    const plaintext = writeConnectTokenPrivate({
      clientId: 1n,
      timeoutSeconds: 5,
      serverAddresses: [parseAddress('1.2.3.4:5')],
      clientToServerKey: counting(32),
      serverToClientKey: counting(32),
      userData: new Uint8Array(256),
    });
    const countOffset = 8 + 4;
    const broken = plaintext.slice();
    new ByteWriter(broken, countOffset).u32(0);
    expect(reason(readConnectTokenPrivate(broken))).toBe('bad-address-count');
    encryptConnectTokenPrivate(broken, PROTOCOL_ID, 99n, counting(24), PRIVATE_KEY);
    expect(reason(openConnectTokenPrivate({ encryptedPrivate: broken, expireTimestamp: 99n, nonce: counting(24) }, PROTOCOL_ID, PRIVATE_KEY))).toBe('bad-address-count');

    const badType = plaintext.slice();
    badType[countOffset + 4] = 9;
    expect(reason(readConnectTokenPrivate(badType))).toBe('bad-address-type');
    expect(reason(readConnectTokenPrivate(plaintext.subarray(0, 1000)))).toBe('bad-size');
  });
});

describe('challenge token', () => {
  const key = counting(32, 0xc0);
  const userData = counting(256);

  test('opens only with its key and sequence', () => {
    const sealed = sealChallengeToken({ clientId: 9n, userData }, 77n, key);
    expect(openChallengeToken(sealed, 77n, key)).toEqual({ clientId: 9n, userData });
    expect(openChallengeToken(sealed, 78n, key)).toBeNull();
    expect(openChallengeToken(sealed, 77n, counting(32))).toBeNull();
    expect(openChallengeToken(sealed.subarray(0, 299), 77n, key)).toBeNull();
    const tampered = sealed.slice();
    tampered[0] = (tampered[0] as number) ^ 1;
    expect(openChallengeToken(tampered, 77n, key)).toBeNull();
  });
});
