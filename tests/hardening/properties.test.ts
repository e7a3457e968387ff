/**
 * Protocol property tests (issue 5): generated inputs instead of hand-picked ones, for the properties an attacker
 * would have to break.
 *
 * - every packet type, connect tokens and challenge tokens survive write → read unchanged, across the whole
 *   range of their fields (u64 sequences and protocol ids including the edges, 1..32 IPv4/IPv6 addresses, …);
 * - any single-bit flip anywhere in a packet is refused, and a refused packet leaves the replay window as it was;
 * - the replay window accepts exactly what the documented semantics say (a naive set-based model), so it never
 *   accepts a sequence twice, also near 2^64 and across large jumps;
 * - the reliability layer never delivers a reliable message twice or out of order under loss, duplication and
 *   reordering.
 *
 * Runs are bounded (numRuns per property) so the file takes a few seconds. A failure prints fast-check's seed and
 * path; `HUDDLE_FC_SEED=<seed>` replays it.
 */
import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import {
  type Address,
  CHALLENGE_TOKEN_BYTES,
  CONNECT_TOKEN_BYTES,
  CONNECT_TOKEN_PRIVATE_BYTES,
  CONNECTION_REQUEST_BYTES,
  generateConnectToken,
  isRejection,
  MAX_PAYLOAD_BYTES,
  NEVER_EXPIRES,
  openChallengeToken,
  openConnectTokenPrivate,
  type Packet,
  type PacketReadContext,
  PacketReader,
  PacketType,
  PacketWriter,
  readConnectToken,
  readConnectTokenPrivate,
  ReplayProtection,
  sealChallengeToken,
  USER_DATA_BYTES,
  writeConnectTokenPrivate,
} from '../../src/protocol/netcode/index.ts';
import { HUDDLE_PROTOCOL_ID } from '../../src/protocol/constants.ts';
import { PeerLink } from '../../src/protocol/reliability/index.ts';
import { isIntact, messageIndex, numberedMessage, SimulatedNetwork } from '../reliability/sim.ts';
import { ALL_PACKETS, arbKey, arbU64, referenceReplayWindow, U64_MAX } from './support/protocol-arbitraries.ts';

const seed = process.env.HUDDLE_FC_SEED ? Number(process.env.HUDDLE_FC_SEED) : undefined;
const params = (numRuns: number): fc.Parameters<unknown> => ({ numRuns, ...(seed !== undefined ? { seed } : {}) });

const reader = new PacketReader();

// ---- packets ----

type EncryptedSpec =
  | { type: typeof PacketType.ConnectionDenied }
  | { type: typeof PacketType.ConnectionChallenge | typeof PacketType.ConnectionResponse; tokenSequence: bigint; tokenData: Uint8Array }
  | { type: typeof PacketType.ConnectionKeepAlive; clientIndex: number; maxClients: number }
  | { type: typeof PacketType.ConnectionPayload; payload: Uint8Array }
  | { type: typeof PacketType.ConnectionDisconnect };

const arbU32 = fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.constantFrom(0, 1, 255, 256, 0x7fff_ffff, 0xffff_ffff));
const arbPayload = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: MAX_PAYLOAD_BYTES, size: 'max' }),
  fc.constantFrom(1, 2, MAX_PAYLOAD_BYTES - 1, MAX_PAYLOAD_BYTES).map((n) => crypto.getRandomValues(new Uint8Array(n))),
);
const arbEncryptedSpec: fc.Arbitrary<EncryptedSpec> = fc.oneof(
  fc.constant({ type: PacketType.ConnectionDenied }),
  fc.record({
    type: fc.constantFrom(PacketType.ConnectionChallenge, PacketType.ConnectionResponse),
    tokenSequence: arbU64,
    tokenData: fc.uint8Array({ minLength: CHALLENGE_TOKEN_BYTES, maxLength: CHALLENGE_TOKEN_BYTES }),
  }),
  fc.record({ type: fc.constant(PacketType.ConnectionKeepAlive), clientIndex: arbU32, maxClients: arbU32 }),
  fc.record({ type: fc.constant(PacketType.ConnectionPayload), payload: arbPayload }),
  fc.constant({ type: PacketType.ConnectionDisconnect }),
);
const arbPacket = fc.record({ protocolId: arbU64, key: arbKey, sequence: arbU64, spec: arbEncryptedSpec });

function writeEncrypted(protocolId: bigint, key: Uint8Array, sequence: bigint, spec: EncryptedSpec): Uint8Array {
  const writer = new PacketWriter(protocolId);
  const out = new Uint8Array(1 + 8 + MAX_PAYLOAD_BYTES + 16);
  let length: number;
  switch (spec.type) {
    case PacketType.ConnectionDenied:
      length = writer.writeConnectionDenied(out, sequence, key);
      break;
    case PacketType.ConnectionChallenge:
      length = writer.writeConnectionChallenge(out, sequence, key, spec.tokenSequence, spec.tokenData);
      break;
    case PacketType.ConnectionResponse:
      length = writer.writeConnectionResponse(out, sequence, key, spec.tokenSequence, spec.tokenData);
      break;
    case PacketType.ConnectionKeepAlive:
      length = writer.writeKeepAlive(out, sequence, key, spec.clientIndex, spec.maxClients);
      break;
    case PacketType.ConnectionPayload:
      length = writer.writePayload(out, sequence, key, spec.payload);
      break;
    case PacketType.ConnectionDisconnect:
      length = writer.writeDisconnect(out, sequence, key);
      break;
  }
  return out.slice(0, length);
}

/** The values a read packet carries, copied out of the (decrypted in place) buffer, for comparison. */
function valuesOf(packet: Packet): Record<string, unknown> {
  switch (packet.type) {
    case PacketType.ConnectionChallenge:
    case PacketType.ConnectionResponse:
      return { type: packet.type, sequence: packet.sequence, tokenSequence: packet.challengeTokenSequence, tokenData: packet.challengeTokenData.slice() };
    case PacketType.ConnectionKeepAlive:
      return { type: packet.type, sequence: packet.sequence, clientIndex: packet.clientIndex, maxClients: packet.maxClients };
    case PacketType.ConnectionPayload:
      return { type: packet.type, sequence: packet.sequence, payload: packet.payload.slice() };
    default:
      return { type: packet.type, sequence: packet.sequence };
  }
}

function context(protocolId: bigint, key: Uint8Array, replay: ReplayProtection | null, overrides: Partial<PacketReadContext> = {}): PacketReadContext {
  // Every type allowed: the round trip is about the bytes, the role filter has its own unit tests.
  return { protocolId, currentTimestamp: 0, allowed: ALL_PACKETS, key, privateKey: null, replay, ...overrides };
}

/** The replay window's whole state (its private fields included), to prove a refused packet changed nothing. */
function windowState(replay: ReplayProtection): string {
  return JSON.stringify(Object.entries(replay).map(([name, value]) => [name, ArrayBuffer.isView(value) ? Array.from(value as Uint8Array) : value]));
}

// ---- tokens ----

const arbAddress: fc.Arbitrary<Address> = fc.oneof(
  fc.record({ family: fc.constant('ipv4' as const), octets: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), port: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ family: fc.constant('ipv6' as const), groups: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), port: fc.integer({ min: 0, max: 0xffff }) }),
);
const arbTokenOptions = fc.record({
  protocolId: arbU64,
  privateKey: arbKey,
  clientId: arbU64,
  serverAddresses: fc.array(arbAddress, { minLength: 1, maxLength: 32, size: 'max' }),
  userData: fc.uint8Array({ minLength: 0, maxLength: USER_DATA_BYTES, size: 'max' }),
  // Negative: never expires (0xffff…); up to a year otherwise.
  expireSeconds: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 365 * 86400 })),
  timeoutSeconds: fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(-1, 0, 1, 2 ** 31 - 1)),
  nowSeconds: fc.integer({ min: 0, max: 2 ** 40 }),
});

function padded(userData: Uint8Array): Uint8Array {
  const out = new Uint8Array(USER_DATA_BYTES);
  out.set(userData);
  return out;
}

describe('write → read round trips', () => {
  test('every encrypted packet type, any key, protocol id, u64 sequence, payload 1..1200, client index / max clients', () => {
    fc.assert(
      fc.property(arbPacket, ({ protocolId, key, sequence, spec }) => {
        const bytes = writeEncrypted(protocolId, key, sequence, spec);
        const replay = new ReplayProtection();
        const read = reader.read(bytes, context(protocolId, key, replay));
        if (isRejection(read)) throw new Error(`refused its own packet: ${read.reason}`);
        const expected: Record<string, unknown> = { type: spec.type, sequence };
        if ('tokenSequence' in spec) Object.assign(expected, { tokenSequence: spec.tokenSequence, tokenData: spec.tokenData });
        if ('clientIndex' in spec) Object.assign(expected, { clientIndex: spec.clientIndex, maxClients: spec.maxClients });
        if ('payload' in spec) expected.payload = spec.payload;
        expect(valuesOf(read)).toEqual(expected);
        // Replay-protected types entered the window; the others did not touch it.
        if (spec.type >= PacketType.ConnectionKeepAlive) expect(replay.alreadyReceived(sequence)).toBe(true);
      }),
      params(1000),
    );
  });

  test('connection request: any protocol id, private key, token; read back with the same private part', () => {
    fc.assert(
      fc.property(arbTokenOptions, (options) => {
        const { token } = generateConnectToken(options);
        const out = new Uint8Array(CONNECTION_REQUEST_BYTES);
        expect(new PacketWriter(options.protocolId).writeConnectionRequest(out, token)).toBe(CONNECTION_REQUEST_BYTES);
        const read = reader.read(out, context(options.protocolId, null as unknown as Uint8Array, null, { privateKey: options.privateKey, currentTimestamp: options.nowSeconds }));
        if (isRejection(read)) {
          // Only a token that expires the second it is made may be refused, and only as expired.
          expect({ reason: read.reason, expireSeconds: options.expireSeconds }).toEqual({ reason: 'expired', expireSeconds: 0 });
          return;
        }
        if (read.type !== PacketType.ConnectionRequest) throw new Error(`read a request as type ${read.type}`);
        expect(read.expireTimestamp).toBe(token.expireTimestamp);
        expect(read.nonce).toEqual(token.nonce);
        expect(read.encryptedPrivate).toEqual(token.encryptedPrivate);
        expect(read.token).toEqual({
          clientId: options.clientId,
          timeoutSeconds: options.timeoutSeconds,
          serverAddresses: options.serverAddresses,
          clientToServerKey: token.clientToServerKey,
          serverToClientKey: token.serverToClientKey,
          userData: padded(options.userData),
        });
      }),
      params(300),
    );
  });

  test('connect token (public 2048 bytes and private 1024): 1..32 IPv4/IPv6 addresses, user data, timeouts, expiry', () => {
    fc.assert(
      fc.property(arbTokenOptions, (options) => {
        const { bytes, token } = generateConnectToken(options);
        const read = readConnectToken(bytes);
        if (isRejection(read)) throw new Error(`refused its own token: ${read.reason}`);
        expect(read).toEqual(token);
        expect(read.protocolId).toBe(options.protocolId);
        expect(read.serverAddresses).toEqual(options.serverAddresses);
        expect(read.timeoutSeconds).toBe(options.timeoutSeconds);
        expect(read.expireTimestamp).toBe(options.expireSeconds < 0 ? NEVER_EXPIRES : BigInt(options.nowSeconds + options.expireSeconds));
        const opened = openConnectTokenPrivate(read, options.protocolId, options.privateKey);
        if (isRejection(opened)) throw new Error(`private part refused: ${opened.reason}`);
        const expected = { clientId: options.clientId, timeoutSeconds: options.timeoutSeconds, serverAddresses: options.serverAddresses, clientToServerKey: token.clientToServerKey, serverToClientKey: token.serverToClientKey, userData: padded(options.userData) };
        expect(opened).toEqual(expected);
        // The private plaintext layout on its own, too.
        expect(readConnectTokenPrivate(writeConnectTokenPrivate(expected))).toEqual(expected);
      }),
      params(150),
    );
  });

  test('challenge token: any client id, user data, sequence and key; opens only with that sequence and key', () => {
    fc.assert(
      fc.property(arbU64, fc.uint8Array({ minLength: USER_DATA_BYTES, maxLength: USER_DATA_BYTES }), arbU64, arbKey, (clientId, userData, sequence, key) => {
        const sealed = sealChallengeToken({ clientId, userData }, sequence, key);
        expect(sealed.length).toBe(CHALLENGE_TOKEN_BYTES);
        expect(openChallengeToken(sealed, sequence, key)).toEqual({ clientId, userData });
        expect(openChallengeToken(sealed, sequence ^ 1n, key)).toBeNull();
        const otherKey = key.slice();
        otherKey[0]! ^= 0x80;
        expect(openChallengeToken(sealed, sequence, otherKey)).toBeNull();
      }),
      params(300),
    );
  });
});

describe('hostile bytes', () => {
  test('the packet reader and the token readers never throw, whatever the bytes and the keys', () => {
    // Bytes that look like packets often enough to get past the early checks: a real prefix, a real request size.
    const arbBytes = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 1500, size: 'max' }),
      fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ minLength: 0, maxLength: 1300, size: 'max' })).map(([prefix, rest]) => Uint8Array.of(prefix, ...rest)),
      fc.uint8Array({ minLength: CONNECTION_REQUEST_BYTES, maxLength: CONNECTION_REQUEST_BYTES }).map((b) => ((b[0] = 0), b)),
    );
    fc.assert(
      fc.property(arbBytes, arbKey, fc.boolean(), (bytes, key, withReplay) => {
        const result = reader.read(bytes.slice(), context(HUDDLE_PROTOCOL_ID, key, withReplay ? new ReplayProtection() : null, { privateKey: key, currentTimestamp: 0 }));
        expect(isRejection(result)).toBe(true);
        // The public token parser: any 2048 bytes (and any other length) parse or are refused, never throw.
        const token = new Uint8Array(CONNECT_TOKEN_BYTES);
        token.set(bytes.subarray(0, CONNECT_TOKEN_BYTES));
        readConnectToken(token);
        readConnectToken(bytes);
        const plaintext = new Uint8Array(CONNECT_TOKEN_PRIVATE_BYTES);
        plaintext.set(bytes.subarray(0, CONNECT_TOKEN_PRIVATE_BYTES));
        readConnectTokenPrivate(plaintext);
      }),
      params(1500),
    );
  });
});

describe('single-bit flips', () => {
  test('any one flipped bit of an encrypted packet is refused and leaves the replay window unchanged', () => {
    const arbSeen = fc.array(arbU64, { maxLength: 40, size: 'max' });
    fc.assert(
      fc.property(arbPacket, arbSeen, fc.nat(), ({ protocolId, key, sequence, spec }, seen, bitPick) => {
        const original = writeEncrypted(protocolId, key, sequence, spec);
        // A window with history: earlier accepted sequences, whatever they are.
        const replay = new ReplayProtection();
        for (const s of seen) if (!replay.alreadyReceived(s)) replay.advance(s);
        const before = windowState(replay);
        const wasFresh = !replay.alreadyReceived(sequence);
        const bit = bitPick % (original.length * 8);
        const flipped = original.slice();
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        const read = reader.read(flipped, context(protocolId, key, replay));
        if (!isRejection(read)) throw new Error(`accepted a packet with bit ${bit} of ${original.length * 8} flipped`);
        expect(windowState(replay)).toBe(before);
        // And the untouched packet still gets in: the flip consumed nothing.
        if (wasFresh) expect(isRejection(reader.read(original.slice(), context(protocolId, key, replay)))).toBe(false);
      }),
      params(1500),
    );
  });

  test('any one flipped bit of a connection request (its sealed token, header or prefix) is refused', () => {
    fc.assert(
      fc.property(arbTokenOptions, fc.nat(), (options, bitPick) => {
        const { token } = generateConnectToken({ ...options, expireSeconds: options.expireSeconds === 0 ? 1 : options.expireSeconds });
        const out = new Uint8Array(CONNECTION_REQUEST_BYTES);
        new PacketWriter(options.protocolId).writeConnectionRequest(out, token);
        const bit = bitPick % (CONNECTION_REQUEST_BYTES * 8);
        out[bit >> 3]! ^= 1 << (bit & 7);
        // The reader has a key for encrypted packets too, so a flipped prefix byte is tried as one and still fails.
        const read = reader.read(out, context(options.protocolId, options.privateKey, new ReplayProtection(), { privateKey: options.privateKey, currentTimestamp: options.nowSeconds }));
        expect(isRejection(read)).toBe(true);
      }),
      params(150),
    );
  });
});

/** A sequence of sequences: fresh values (edges, near 2^64, small steps, big jumps) and repeats of earlier ones. */
const arbSequenceRun = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('fresh' as const), value: arbU64 }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('step' as const), value: fc.bigInt({ min: -300n, max: 300n }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('near-top' as const), value: fc.bigInt({ min: 0n, max: 600n }) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('repeat' as const), value: fc.nat() }) },
    ),
    { minLength: 1, maxLength: 300, size: 'max' },
  )
  .map((ops) => {
    const out: bigint[] = [];
    let last = 0n;
    for (const op of ops) {
      let s: bigint;
      if (op.kind === 'fresh') s = op.value;
      else if (op.kind === 'near-top') s = U64_MAX - op.value;
      else if (op.kind === 'repeat') s = out.length > 0 ? out[Number(op.value) % out.length]! : 0n;
      else s = last + op.value;
      s = s < 0n ? 0n : s > U64_MAX ? U64_MAX : s;
      out.push(s);
      last = s;
    }
    return out;
  });

describe('replay window', () => {
  test('accepts exactly what the set-based model accepts (never a sequence twice), across u64 incl. near 2^64', () => {
    fc.assert(
      fc.property(arbSequenceRun, (sequences) => {
        const window = new ReplayProtection();
        const model = referenceReplayWindow();
        for (const s of sequences) {
          const accept = !window.alreadyReceived(s);
          expect({ s, accept }).toEqual({ s, accept: model.accepts(s) });
          if (accept) {
            window.advance(s);
            model.record(s);
          }
        }
      }),
      params(1500),
    );
  });

  test('through the packet reader: real payload packets accepted iff the model accepts them', () => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const protocolId = 0x1234n;
    fc.assert(
      fc.property(arbSequenceRun, (sequences) => {
        const replay = new ReplayProtection();
        const model = referenceReplayWindow();
        for (const s of sequences.slice(0, 80)) {
          const packet = writeEncrypted(protocolId, key, s, { type: PacketType.ConnectionPayload, payload: new Uint8Array([1]) });
          const accepted = !isRejection(reader.read(packet, context(protocolId, key, replay)));
          expect({ s, accepted }).toEqual({ s, accepted: model.accepts(s) });
          if (accepted) model.record(s);
        }
      }),
      params(150),
    );
  });
});

const percent = (max: number): fc.Arbitrary<number> => fc.integer({ min: 0, max }).map((p) => p / 100);

describe('reliability layer', () => {
  test('reliable-ordered never delivers a message twice or out of order under loss, duplication and reordering', () => {
    const arbRun = fc.record({
      seed: fc.nat(),
      // Whole percents and milliseconds: fast-check's doubles cling to the bounds, these spread over the range.
      loss: percent(40),
      duplicate: percent(50),
      latency: fc.integer({ min: 0, max: 50 }).map((ms) => ms / 1000),
      // Jitter well above the tick reorders packets heavily; now and then by whole seconds (very late duplicates).
      jitter: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 150 }) }, { weight: 1, arbitrary: fc.integer({ min: 150, max: 2000 }) }).map((ms) => ms / 1000),
      // Packet sequences and message ids start anywhere, often just below the u16 wrap so a run crosses it.
      firstSequence: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xffff - 40, max: 0xffff })),
      firstMessageId: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xffff - 40, max: 0xffff })),
      // Some messages above the 1024-byte slice size, so sliced messages are reassembled too.
      sizes: fc.array(fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 4, max: 300 }) }, { weight: 1, arbitrary: fc.integer({ min: 1025, max: 4000 }) }), { minLength: 1, maxLength: 40, size: 'max' }),
    });
    fc.assert(
      fc.property(arbRun, ({ seed: netSeed, loss, duplicate, latency, jitter, firstSequence, firstMessageId, sizes }) => {
        const options = { channels: [{ kind: 'reliable-ordered' as const }], firstSequence, firstMessageId };
        const net = new SimulatedNetwork(netSeed, { loss, duplicate, latency, jitter }, new PeerLink(options), new PeerLink(options));
        sizes.forEach((size, i) => net.a.send(0, numberedMessage(i, size)));
        const delivered: number[] = [];
        const done = net.runUntil(0.01, 120, () => {
          for (let m = net.b.receive(0); m !== undefined; m = net.b.receive(0)) {
            // The invariant is checked on every delivery: the next index, intact, never one already seen.
            expect(isIntact(m)).toBe(true);
            expect(m.length).toBe(Math.max(4, sizes[messageIndex(m)] ?? -1));
            expect(messageIndex(m)).toBe(delivered.length);
            delivered.push(messageIndex(m));
          }
          return delivered.length === sizes.length;
        });
        expect(done).toBe(true);
        // Nothing more trickles out afterwards (late duplicates of delivered messages are dropped).
        net.runUntil(0.01, 2.5, () => false);
        expect(net.b.receive(0)).toBeUndefined();
      }),
      params(150),
    );
  });
});
