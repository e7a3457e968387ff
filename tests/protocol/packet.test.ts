import { describe, expect, test } from 'bun:test';
import { defaultAead } from '../../src/protocol/crypto/index.ts';
import { ByteWriter } from '../../src/protocol/bytes.ts';
import {
  CLIENT_ALLOWED_PACKETS,
  CONNECTION_REQUEST_BYTES,
  encryptConnectTokenPrivate,
  isRejection,
  packetAad,
  PacketReader,
  type PacketReadContext,
  PacketType,
  PacketWriter,
  parseAddress,
  prefixByte,
  ReplayProtection,
  sequenceByteCount,
  SERVER_ALLOWED_PACKETS,
  writeConnectTokenPrivate,
  writePacketNonce,
  writeSequence,
  type Packet,
} from '../../src/protocol/netcode/index.ts';
import { counting, makeToken, NOW, PRIVATE_KEY, PROTOCOL_ID } from './fixtures.ts';
import { toHex } from './vectors.ts';

const KEY = counting(32, 0x40);
const writer = new PacketWriter(PROTOCOL_ID);
const reader = new PacketReader();

function serverContext(overrides: Partial<PacketReadContext> = {}): PacketReadContext {
  return { protocolId: PROTOCOL_ID, currentTimestamp: NOW, allowed: SERVER_ALLOWED_PACKETS, key: KEY, privateKey: PRIVATE_KEY, replay: new ReplayProtection(), ...overrides };
}

function clientContext(overrides: Partial<PacketReadContext> = {}): PacketReadContext {
  return serverContext({ allowed: CLIENT_ALLOWED_PACKETS, privateKey: null, ...overrides });
}

function reasonOf(result: Packet | { reason: string }): string | null {
  return isRejection(result) ? result.reason : null;
}

function accepted(result: ReturnType<PacketReader['read']>): Packet {
  if (isRejection(result)) throw new Error(`rejected: ${result.reason}`);
  return result;
}

/** An authentic packet with any type nibble and body, bypassing the writer's own checks. */
function sealRaw(type: number, sequence: bigint, body: Uint8Array, key = KEY, sequenceBytes = sequenceByteCount(sequence)): Uint8Array {
  const prefix = prefixByte(type, sequenceBytes);
  const out = new Uint8Array(1 + sequenceBytes + body.length + 16);
  out[0] = prefix;
  writeSequence(out, 1, sequence);
  const nonce = new Uint8Array(12);
  writePacketNonce(nonce, sequence);
  defaultAead.seal(key, nonce, packetAad(PROTOCOL_ID, prefix), body, out.subarray(1 + sequenceBytes));
  return out;
}

function payloadPacket(sequence: bigint, payload = counting(100)): Uint8Array {
  const out = new Uint8Array(1300);
  return out.slice(0, writer.writePayload(out, sequence, KEY, payload));
}

function request(expireSeconds = 30, privateKey = PRIVATE_KEY): Uint8Array {
  const out = new Uint8Array(CONNECTION_REQUEST_BYTES);
  writer.writeConnectionRequest(out, makeToken({ expireSeconds, privateKey }).token);
  return out;
}

describe('round trips', () => {
  test('every type writes and reads back', () => {
    const out = new Uint8Array(1300);
    const challenge = counting(300, 7);
    const cases: [number, (seq: bigint) => number, (p: Packet) => void][] = [
      [PacketType.ConnectionDenied, (s) => writer.writeConnectionDenied(out, s, KEY), () => {}],
      [
        PacketType.ConnectionChallenge,
        (s) => writer.writeConnectionChallenge(out, s, KEY, 99n, challenge),
        (p) => p.type === PacketType.ConnectionChallenge && expect([p.challengeTokenSequence, p.challengeTokenData]).toEqual([99n, challenge]),
      ],
      [
        PacketType.ConnectionResponse,
        (s) => writer.writeConnectionResponse(out, s, KEY, 98n, challenge),
        (p) => p.type === PacketType.ConnectionResponse && expect([p.challengeTokenSequence, p.challengeTokenData]).toEqual([98n, challenge]),
      ],
      [
        PacketType.ConnectionKeepAlive,
        (s) => writer.writeKeepAlive(out, s, KEY, 3, 8),
        (p) => p.type === PacketType.ConnectionKeepAlive && expect([p.clientIndex, p.maxClients]).toEqual([3, 8]),
      ],
      [
        PacketType.ConnectionPayload,
        (s) => writer.writePayload(out, s, KEY, counting(1200)),
        (p) => p.type === PacketType.ConnectionPayload && expect(p.payload).toEqual(counting(1200)),
      ],
      [PacketType.ConnectionDisconnect, (s) => writer.writeDisconnect(out, s, KEY), () => {}],
    ];
    for (const [type, write, check] of cases) {
      for (const sequence of [0n, 1000n, (1n << 63n) + 5n]) {
        const length = write(sequence);
        const context = type === PacketType.ConnectionChallenge || type === PacketType.ConnectionDenied ? clientContext() : serverContext();
        const packet = accepted(reader.read(out.slice(0, length), context));
        expect(packet.type).toBe(type as Packet['type']);
        expect(packet.sequence).toBe(sequence);
        check(packet);
      }
    }
  });

  test('the payload is decrypted in place and returned as a view', () => {
    const buffer = payloadPacket(5n, counting(10, 1));
    const packet = accepted(reader.read(buffer, serverContext()));
    if (packet.type !== PacketType.ConnectionPayload) throw new Error('not a payload');
    expect(packet.payload.buffer).toBe(buffer.buffer);
    expect(packet.payload.byteOffset).toBe(2);
    expect(packet.payload).toEqual(counting(10, 1));
  });

  test('a request reads back its decrypted token', () => {
    const { token } = makeToken();
    const out = new Uint8Array(CONNECTION_REQUEST_BYTES);
    expect(writer.writeConnectionRequest(out, token)).toBe(CONNECTION_REQUEST_BYTES);
    const packet = accepted(reader.read(out, serverContext({ key: null, replay: null })));
    if (packet.type !== PacketType.ConnectionRequest) throw new Error('not a request');
    expect(packet.token.clientId).toBe(42n);
    expect(packet.token.clientToServerKey).toEqual(token.clientToServerKey);
    expect(packet.encryptedPrivate).toEqual(token.encryptedPrivate);
    expect(packet.expireTimestamp).toBe(token.expireTimestamp);
    // The request is not decrypted in place: the caller's bytes are untouched.
    expect(toHex(out.subarray(1 + 13 + 8 + 8 + 24))).toBe(toHex(token.encryptedPrivate));
  });

  test('the writer allocates nothing visible: same output buffer, packets back to back', () => {
    const out = new Uint8Array(1300);
    const a = writer.writePayload(out, 1n, KEY, counting(100));
    const first = out.slice(0, a);
    writer.writePayload(out, 2n, KEY, counting(100));
    expect(out.slice(0, a)).not.toEqual(first);
    expect(accepted(reader.read(first, serverContext())).sequence).toBe(1n);
  });
});

describe('writer errors', () => {
  const out = new Uint8Array(1300);
  test('payload sizes outside 1..1200', () => {
    expect(() => writer.writePayload(out, 0n, KEY, new Uint8Array(0))).toThrow(RangeError);
    expect(() => writer.writePayload(out, 0n, KEY, new Uint8Array(1201))).toThrow(RangeError);
  });
  test('output too small', () => {
    expect(() => writer.writePayload(new Uint8Array(100), 0n, KEY, new Uint8Array(100))).toThrow(RangeError);
    expect(() => writer.writeConnectionRequest(new Uint8Array(1077), makeToken().token)).toThrow(RangeError);
  });
  test('challenge data not 300 bytes, sequence out of range', () => {
    expect(() => writer.writeConnectionChallenge(out, 0n, KEY, 0n, new Uint8Array(299))).toThrow(RangeError);
    expect(() => writer.writeDisconnect(out, -1n, KEY)).toThrow(RangeError);
    expect(() => writer.writeDisconnect(out, 1n << 64n, KEY)).toThrow(RangeError);
  });
});

describe('request read order', () => {
  test('empty buffer', () => {
    expect(reasonOf(reader.read(new Uint8Array(0), serverContext()))).toBe('bad-size');
  });

  test('1. not allowed for this reader, before the size check', () => {
    expect(reasonOf(reader.read(new Uint8Array(5), clientContext()))).toBe('not-allowed');
  });

  test('2. exactly 1078 bytes, before anything is parsed', () => {
    expect(reasonOf(reader.read(new Uint8Array(1077), serverContext()))).toBe('bad-size');
    expect(reasonOf(reader.read(new Uint8Array(1079), serverContext()))).toBe('bad-size');
  });

  test('3. a private key is needed', () => {
    expect(reasonOf(reader.read(request(), serverContext({ privateKey: null })))).toBe('no-key');
  });

  test('4. version info, before the protocol id', () => {
    const bytes = request();
    bytes[13] = 1; // the version's NUL
    expect(reasonOf(reader.read(bytes, serverContext({ protocolId: 1n })))).toBe('bad-version');
  });

  test('5. protocol id, before the expiry', () => {
    expect(reasonOf(reader.read(request(), serverContext({ protocolId: PROTOCOL_ID + 1n, currentTimestamp: NOW + 100 })))).toBe('wrong-protocol');
  });

  test('6. expire timestamp must be after now (equal is expired), before decryption', () => {
    expect(reasonOf(reader.read(request(30), serverContext({ currentTimestamp: NOW + 30, privateKey: counting(32) })))).toBe('expired');
    expect(reasonOf(reader.read(request(30), serverContext({ currentTimestamp: BigInt(NOW + 29) })))).toBeNull();
    expect(reasonOf(reader.read(request(-1), serverContext({ currentTimestamp: 2 ** 40 })))).toBeNull();
  });

  test('7. the private token must decrypt with our key', () => {
    expect(reasonOf(reader.read(request(30, counting(32)), serverContext()))).toBe('auth-failed');
    const bytes = request();
    bytes[100] = (bytes[100] as number) ^ 1;
    expect(reasonOf(reader.read(bytes, serverContext()))).toBe('auth-failed');
  });

  test('8. then parse: an authentic token with bad contents is refused', () => {
    const plaintext = writeConnectTokenPrivate({
      clientId: 1n,
      timeoutSeconds: 5,
      serverAddresses: [parseAddress('1.2.3.4:5')],
      clientToServerKey: KEY,
      serverToClientKey: KEY,
      userData: new Uint8Array(256),
    });
    new ByteWriter(plaintext, 12).u32(33);
    const expire = BigInt(NOW + 30);
    const nonce = counting(24);
    encryptConnectTokenPrivate(plaintext, PROTOCOL_ID, expire, nonce, PRIVATE_KEY);
    const out = new Uint8Array(CONNECTION_REQUEST_BYTES);
    writer.writeConnectionRequest(out, { expireTimestamp: expire, nonce, encryptedPrivate: plaintext });
    expect(reasonOf(reader.read(out, serverContext()))).toBe('bad-address-count');
  });
});

describe('encrypted packet read order', () => {
  test('1. a receive key is needed, before any size check', () => {
    expect(reasonOf(reader.read(Uint8Array.of(0x15), serverContext({ key: null })))).toBe('no-key');
  });

  test('2. at least 18 bytes, before the type check', () => {
    const bytes = new Uint8Array(17);
    bytes[0] = 0x17;
    expect(reasonOf(reader.read(bytes, serverContext()))).toBe('bad-size');
  });

  test('3. type nibble 7..15 is invalid, before the allowed check', () => {
    for (const type of [7, 8, 15]) {
      const bytes = new Uint8Array(40);
      bytes[0] = 0x90 | type;
      expect(reasonOf(reader.read(bytes, serverContext({ allowed: 0 })))).toBe('bad-type');
    }
  });

  test('   a zero type nibble under a non-zero prefix is no packet', () => {
    const bytes = new Uint8Array(40);
    bytes[0] = 0x10;
    expect(reasonOf(reader.read(bytes, serverContext()))).toBe('bad-type');
  });

  test('4. types filtered by role, before the sequence-bytes check', () => {
    const challenge = new Uint8Array(40);
    challenge[0] = 0x92;
    expect(reasonOf(reader.read(challenge, serverContext()))).toBe('not-allowed');
    const response = new Uint8Array(40);
    response[0] = 0x93;
    expect(reasonOf(reader.read(response, clientContext()))).toBe('not-allowed');
    const denied = new Uint8Array(40);
    denied[0] = 0x91;
    expect(reasonOf(reader.read(denied, serverContext()))).toBe('not-allowed');
  });

  test('5. sequence bytes 1..8', () => {
    for (const prefix of [0x05, 0x95, 0xf5]) {
      const bytes = payloadPacket(1n);
      bytes[0] = prefix;
      expect(reasonOf(reader.read(bytes, serverContext()))).toBe('bad-sequence-bytes');
    }
  });

  test('6. room for the sequence bytes and the MAC', () => {
    const bytes = new Uint8Array(24);
    bytes[0] = 0x85;
    expect(reasonOf(reader.read(bytes, serverContext()))).toBe('bad-size');
    bytes[0] = 0x75; // 1 + 7 + 16 = 24: long enough, so it reaches (and fails) decryption
    expect(reasonOf(reader.read(bytes, serverContext()))).toBe('auth-failed');
  });

  test('7. replay is checked before decrypting', () => {
    const replay = new ReplayProtection();
    expect(reasonOf(reader.read(payloadPacket(9n), serverContext({ replay })))).toBeNull();
    const forged = payloadPacket(9n);
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
    expect(reasonOf(reader.read(forged, serverContext({ replay })))).toBe('replayed');
  });

  test('8. a packet that fails to decrypt does not advance the window', () => {
    const replay = new ReplayProtection();
    const forged = payloadPacket(6n);
    forged[3] = (forged[3] as number) ^ 1;
    expect(reasonOf(reader.read(forged, serverContext({ replay })))).toBe('auth-failed');
    expect(reasonOf(reader.read(payloadPacket(6n), serverContext({ replay })))).toBeNull();
  });

  test('9. decrypted sizes per type, checked after decryption; a wrong size does not advance the window', () => {
    const replay = new ReplayProtection();
    const context = () => serverContext({ replay });
    expect(reasonOf(reader.read(sealRaw(PacketType.ConnectionKeepAlive, 1n, new Uint8Array(9)), context()))).toBe('bad-body-size');
    expect(reasonOf(reader.read(sealRaw(PacketType.ConnectionKeepAlive, 1n, new Uint8Array(8)), context()))).toBeNull();
    expect(reasonOf(reader.read(sealRaw(PacketType.ConnectionKeepAlive, 2n, new Uint8Array(7)), context()))).toBe('bad-body-size');
    expect(reasonOf(reader.read(sealRaw(PacketType.ConnectionPayload, 3n, new Uint8Array(0)), context()))).toBe('bad-body-size');
    expect(reasonOf(reader.read(sealRaw(PacketType.ConnectionPayload, 3n, new Uint8Array(1201)), context()))).toBe('bad-body-size');
    expect(reasonOf(reader.read(sealRaw(PacketType.ConnectionPayload, 3n, new Uint8Array(1)), context()))).toBeNull();
    expect(reasonOf(reader.read(sealRaw(PacketType.ConnectionDisconnect, 4n, new Uint8Array(1)), context()))).toBe('bad-body-size');
    expect(reasonOf(reader.read(sealRaw(PacketType.ConnectionResponse, 5n, new Uint8Array(307)), context()))).toBe('bad-body-size');
    expect(reasonOf(reader.read(sealRaw(PacketType.ConnectionChallenge, 5n, new Uint8Array(309)), clientContext()))).toBe('bad-body-size');
    expect(reasonOf(reader.read(sealRaw(PacketType.ConnectionDenied, 5n, new Uint8Array(1)), clientContext()))).toBe('bad-body-size');
  });

  test('an over-long sequence encoding is still read (the reference accepts it)', () => {
    expect(accepted(reader.read(sealRaw(PacketType.ConnectionKeepAlive, 7n, new Uint8Array(8), KEY, 8), serverContext())).sequence).toBe(7n);
  });

  test('replay protection covers keep-alive, payload and disconnect only', () => {
    const replay = new ReplayProtection();
    for (const [type, body, context] of [
      [PacketType.ConnectionDenied, 0, clientContext],
      [PacketType.ConnectionChallenge, 308, clientContext],
      [PacketType.ConnectionResponse, 308, serverContext],
    ] as const) {
      const packet = sealRaw(type, 1n, new Uint8Array(body));
      expect(reasonOf(reader.read(packet.slice(), context({ replay })))).toBeNull();
      expect(reasonOf(reader.read(packet.slice(), context({ replay })))).toBeNull();
    }
    for (const [type, body] of [
      [PacketType.ConnectionKeepAlive, 8],
      [PacketType.ConnectionPayload, 1],
      [PacketType.ConnectionDisconnect, 0],
    ] as const) {
      const window = new ReplayProtection();
      const packet = sealRaw(type, 1n, new Uint8Array(body));
      expect(reasonOf(reader.read(packet.slice(), serverContext({ replay: window })))).toBeNull();
      expect(reasonOf(reader.read(packet.slice(), serverContext({ replay: window })))).toBe('replayed');
    }
  });

  test('no replay window: duplicates pass (the caller chose not to track)', () => {
    const packet = payloadPacket(3n);
    expect(reasonOf(reader.read(packet.slice(), serverContext({ replay: null })))).toBeNull();
    expect(reasonOf(reader.read(packet.slice(), serverContext({ replay: null })))).toBeNull();
  });

  test('wrong key or protocol id fails authentication', () => {
    expect(reasonOf(reader.read(payloadPacket(1n), serverContext({ key: counting(32) })))).toBe('auth-failed');
    expect(reasonOf(reader.read(payloadPacket(1n), serverContext({ protocolId: 5n })))).toBe('auth-failed');
    // The reader's cached AAD follows the context's protocol id back again.
    expect(reasonOf(reader.read(payloadPacket(1n), serverContext()))).toBeNull();
  });

  test('never throws on random garbage', () => {
    let state = 12345;
    const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 3000; i++) {
      const bytes = new Uint8Array(next() % 1300);
      for (let j = 0; j < bytes.length; j++) bytes[j] = next() >>> 24;
      const context = i % 2 ? serverContext() : clientContext();
      expect(isRejection(reader.read(bytes, context))).toBe(true);
    }
  });
});
