/**
 * Byte-for-byte agreement with the C reference: every input and every expected output comes from
 * vectors.json (see vectors.ts), in both directions (we reproduce each vector, and we decode each vector).
 */
import { describe, expect, test } from 'bun:test';
import {
  CLIENT_ALLOWED_PACKETS,
  connectTokenAad,
  encryptChallengeToken,
  encryptConnectTokenPrivate,
  generateConnectToken,
  isRejection,
  openChallengeToken,
  openConnectTokenPrivate,
  packetAad,
  PacketReader,
  type PacketReadContext,
  PacketType,
  PacketWriter,
  parseAddress,
  prefixByte,
  readConnectToken,
  readSequence,
  ReplayProtection,
  SERVER_ALLOWED_PACKETS,
  sequenceByteCount,
  VERSION_INFO,
  writeChallengeToken,
  writeConnectToken,
  writeConnectTokenPrivate,
  writePacketNonce,
  writeSequence,
  type Address,
  type ConnectTokenPrivate,
  type Packet,
} from '../../src/protocol/netcode/index.ts';
import { Entry, loadVectors, toHex } from './vectors.ts';

const root = loadVectors();
const vectors = new Entry(root, root, 'vectors');
const common = vectors.child('common_inputs');
const U64_MAX = 0xffff_ffff_ffff_ffffn;

const hexOf = (bytes: Uint8Array) => toHex(bytes);
const addresses = (entry: Entry, key: string): Address[] => entry.strings(key).map(parseAddress);
const copy = (bytes: Uint8Array) => bytes.slice();

function readerContext(entry: Entry, reader: string, key: Uint8Array, protocolId: bigint): PacketReadContext {
  if (reader !== 'server' && reader !== 'client') throw new Error(`${entry.where}: unknown reader ${reader}`);
  return {
    protocolId,
    currentTimestamp: entry.has('reader_current_timestamp') ? entry.u64('reader_current_timestamp') : 0n,
    allowed: reader === 'server' ? SERVER_ALLOWED_PACKETS : CLIENT_ALLOWED_PACKETS,
    key,
    privateKey: entry.has('reader_private_key') ? entry.hex('reader_private_key') : null,
    replay: new ReplayProtection(),
  };
}

function expectPacket(result: Packet | { reason: string }, where: string): Packet {
  if (isRejection(result)) throw new Error(`${where}: rejected (${result.reason})`);
  return result as Packet;
}

function expectPrivateMatches(token: ConnectTokenPrivate, inputs: Entry): void {
  expect(token.clientId).toBe(inputs.u64('client_id'));
  expect(token.timeoutSeconds).toBe(inputs.num('timeout_seconds'));
  expect(token.serverAddresses).toEqual(addresses(inputs, 'server_addresses'));
  expect(hexOf(token.clientToServerKey)).toBe(inputs.str('client_to_server_key'));
  expect(hexOf(token.serverToClientKey)).toBe(inputs.str('server_to_client_key'));
  expect(hexOf(token.userData)).toBe(inputs.str('user_data'));
}

function privateFromInputs(inputs: Entry): ConnectTokenPrivate {
  return {
    clientId: inputs.u64('client_id'),
    timeoutSeconds: inputs.num('timeout_seconds'),
    serverAddresses: addresses(inputs, 'server_addresses'),
    clientToServerKey: inputs.hex('client_to_server_key'),
    serverToClientKey: inputs.hex('server_to_client_key'),
    userData: inputs.hex('user_data'),
  };
}

/** Every top-level entry that is a connect token (the main token and its variants). */
const tokenEntries = Object.keys(root)
  .filter((key) => key.startsWith('connect_token'))
  .map((key) => vectors.child(key));

describe('vectors file', () => {
  test('is the netcode 1.02 known-answer format', () => {
    expect(vectors.str('wire_version')).toBe('NETCODE 1.02');
    expect(hexOf(VERSION_INFO)).toBe(common.str('version_info'));
    expect(tokenEntries.length).toBeGreaterThan(0);
  });
});

describe.each(tokenEntries.map((entry) => [entry.where, entry] as const))('%s', (_name, entry) => {
  const inputs = entry.child('inputs');
  const protocolId = inputs.u64('protocol_id');
  const expire = inputs.u64('expire_timestamp');
  const create = inputs.u64('create_timestamp');

  test('private plaintext, zero padded after its data', () => {
    const plaintext = writeConnectTokenPrivate(privateFromInputs(inputs));
    expect(hexOf(plaintext)).toBe(entry.str('private_plaintext'));
    expect(plaintext.subarray(entry.num('private_plaintext_len_before_pad')).every((b) => b === 0)).toBe(true);
  });

  test('private AAD and encryption', () => {
    expect(hexOf(connectTokenAad(protocolId, expire))).toBe(entry.str('private_aad'));
    const buffer = entry.hex('private_plaintext');
    encryptConnectTokenPrivate(buffer, protocolId, expire, inputs.hex('nonce'), inputs.hex('private_key'));
    expect(hexOf(buffer)).toBe(entry.str('private_encrypted'));
  });

  test('private part decrypts and parses back to the inputs', () => {
    const sealed = { encryptedPrivate: entry.hex('private_encrypted'), expireTimestamp: expire, nonce: inputs.hex('nonce') };
    const token = openConnectTokenPrivate(sealed, protocolId, inputs.hex('private_key'));
    if (isRejection(token)) throw new Error(`rejected: ${token.reason}`);
    expectPrivateMatches(token, inputs);
  });

  test('public token written byte for byte', () => {
    const bytes = writeConnectToken({
      protocolId,
      createTimestamp: create,
      expireTimestamp: expire,
      nonce: inputs.hex('nonce'),
      encryptedPrivate: entry.hex('private_encrypted'),
      timeoutSeconds: inputs.num('timeout_seconds'),
      serverAddresses: addresses(inputs, 'server_addresses'),
      clientToServerKey: inputs.hex('client_to_server_key'),
      serverToClientKey: inputs.hex('server_to_client_key'),
    });
    expect(hexOf(bytes)).toBe(entry.str('public_token'));
    expect(bytes.subarray(entry.num('public_token_len_before_pad')).every((b) => b === 0)).toBe(true);
  });

  test('public token reads back to the inputs', () => {
    const token = readConnectToken(entry.hex('public_token'));
    if (isRejection(token)) throw new Error(`rejected: ${token.reason}`);
    expect(token.protocolId).toBe(protocolId);
    expect(token.createTimestamp).toBe(create);
    expect(token.expireTimestamp).toBe(expire);
    expect(hexOf(token.nonce)).toBe(inputs.str('nonce'));
    expect(hexOf(token.encryptedPrivate)).toBe(entry.str('private_encrypted'));
    expect(token.timeoutSeconds).toBe(inputs.num('timeout_seconds'));
    expect(token.serverAddresses).toEqual(addresses(inputs, 'server_addresses'));
    expect(hexOf(token.clientToServerKey)).toBe(inputs.str('client_to_server_key'));
    expect(hexOf(token.serverToClientKey)).toBe(inputs.str('server_to_client_key'));
  });

  test('generateConnectToken reproduces it from pinned randomness', () => {
    // The generator draws c2s key, s2c key, then nonce; feed it the pinned values in that order.
    const draws = [inputs.hex('client_to_server_key'), inputs.hex('server_to_client_key'), inputs.hex('nonce')];
    const lifetime = expire === U64_MAX ? -1 : Number(expire - create);
    const { bytes, token } = generateConnectToken({
      protocolId,
      privateKey: inputs.hex('private_key'),
      clientId: inputs.u64('client_id'),
      serverAddresses: addresses(inputs, 'server_addresses'),
      userData: inputs.hex('user_data'),
      expireSeconds: lifetime,
      timeoutSeconds: inputs.num('timeout_seconds'),
      nowSeconds: Number(create),
      random: (length) => {
        const next = draws.shift();
        if (!next || next.length !== length) throw new Error(`unexpected random draw of ${length} bytes`);
        return next;
      },
    });
    expect(hexOf(bytes)).toBe(entry.str('public_token'));
    expect(token.expireTimestamp).toBe(expire);
  });
});

describe('challenge tokens', () => {
  test.each(vectors.list('challenge_tokens').map((entry) => [entry.where, entry] as const))('%s', (_name, entry) => {
    const inputs = entry.child('inputs');
    const sequence = inputs.u64('challenge_token_sequence');
    const key = inputs.hex('challenge_key');
    const nonce = new Uint8Array(12);
    writePacketNonce(nonce, sequence);
    expect(hexOf(nonce)).toBe(entry.str('nonce'));

    const buffer = writeChallengeToken({ clientId: inputs.u64('client_id'), userData: inputs.hex('user_data') });
    expect(hexOf(buffer)).toBe(entry.str('plaintext'));
    encryptChallengeToken(buffer, sequence, key);
    expect(hexOf(buffer)).toBe(entry.str('encrypted'));

    const token = openChallengeToken(entry.hex('encrypted'), sequence, key);
    expect(token).not.toBeNull();
    expect(token?.clientId).toBe(inputs.u64('client_id'));
    expect(hexOf(token?.userData ?? new Uint8Array())).toBe(inputs.str('user_data'));
  });
});

describe('packets', () => {
  const reader = new PacketReader();

  test.each(vectors.list('packets').map((entry) => [entry.str('name'), entry] as const))('%s', (_name, entry) => {
    const type = entry.num('packet_type');
    const protocolId = entry.u64('protocol_id');
    const fields = entry.child('fields');
    const expected = entry.hex('packet');
    const writer = new PacketWriter(protocolId);
    const out = new Uint8Array(2048);
    expect(expected.length).toBe(entry.num('packet_bytes'));

    if (type === PacketType.ConnectionRequest) {
      expect(entry.bool('encrypted')).toBe(false);
      const length = writer.writeConnectionRequest(out, {
        expireTimestamp: fields.u64('connect_token_expire_timestamp'),
        nonce: fields.hex('connect_token_nonce'),
        encryptedPrivate: fields.hex('encrypted_private_connect_token_data'),
      });
      expect(hexOf(out.subarray(0, length))).toBe(entry.str('packet'));

      const context = readerContext(entry, 'server', new Uint8Array(32), protocolId);
      const packet = expectPacket(reader.read(copy(expected), context), entry.where);
      if (packet.type !== PacketType.ConnectionRequest) throw new Error('not a request');
      expect(packet.expireTimestamp).toBe(fields.u64('connect_token_expire_timestamp'));
      expectPrivateMatches(packet.token, vectors.child(fields.str('from_token')).child('inputs'));
      return;
    }

    const key = entry.hex('key');
    const sequence = entry.u64('sequence');
    expect(sequence).toBe(BigInt(entry.str('sequence_dec')));
    expect(sequenceByteCount(sequence)).toBe(entry.num('sequence_bytes'));
    const prefix = prefixByte(type, entry.num('sequence_bytes'));
    expect(prefix).toBe(Number(entry.str('prefix_byte')));
    expect(hexOf(packetAad(protocolId, prefix))).toBe(entry.str('aad'));
    const nonce = new Uint8Array(12);
    writePacketNonce(nonce, sequence);
    expect(hexOf(nonce)).toBe(entry.str('nonce'));

    let length: number;
    switch (type) {
      case PacketType.ConnectionDenied:
        length = writer.writeConnectionDenied(out, sequence, key);
        break;
      case PacketType.ConnectionChallenge:
        length = writer.writeConnectionChallenge(out, sequence, key, fields.u64('challenge_token_sequence'), fields.hex('encrypted_challenge_token_data'));
        break;
      case PacketType.ConnectionResponse:
        length = writer.writeConnectionResponse(out, sequence, key, fields.u64('challenge_token_sequence'), fields.hex('encrypted_challenge_token_data'));
        break;
      case PacketType.ConnectionKeepAlive:
        length = writer.writeKeepAlive(out, sequence, key, fields.num('client_index'), fields.num('max_clients'));
        break;
      case PacketType.ConnectionPayload:
        expect(fields.hex('payload').length).toBe(fields.num('payload_bytes'));
        length = writer.writePayload(out, sequence, key, fields.hex('payload'));
        break;
      case PacketType.ConnectionDisconnect:
        length = writer.writeDisconnect(out, sequence, key);
        break;
      default:
        throw new Error(`${entry.where}: unknown packet type ${type}`);
    }
    expect(hexOf(out.subarray(0, length))).toBe(entry.str('packet'));

    const direction = entry.str('direction');
    const buffer = copy(expected);
    const context = readerContext(entry, direction === 'client_to_server' ? 'server' : 'client', key, protocolId);
    const packet = expectPacket(reader.read(buffer, context), entry.where);
    expect(packet.type).toBe(type as Packet['type']);
    expect(packet.sequence).toBe(sequence);
    // Decrypted in place: the body now sits as plaintext right after the sequence bytes.
    const bodyStart = 1 + entry.num('sequence_bytes');
    const body = entry.hex('body_plaintext');
    expect(hexOf(buffer.subarray(bodyStart, bodyStart + body.length))).toBe(entry.str('body_plaintext'));
    if (packet.type === PacketType.ConnectionChallenge || packet.type === PacketType.ConnectionResponse) {
      expect(packet.challengeTokenSequence).toBe(fields.u64('challenge_token_sequence'));
      expect(hexOf(packet.challengeTokenData)).toBe(fields.str('encrypted_challenge_token_data'));
    } else if (packet.type === PacketType.ConnectionKeepAlive) {
      expect(packet.clientIndex).toBe(fields.num('client_index'));
      expect(packet.maxClients).toBe(fields.num('max_clients'));
    } else if (packet.type === PacketType.ConnectionPayload) {
      expect(hexOf(packet.payload)).toBe(fields.str('payload'));
    }
  });
});

describe('sequence encoding', () => {
  const inputs = vectors.child('sequence_encoding_packet_inputs');
  const key = common.hex(inputs.str('key_name'));
  const type = inputs.num('packet_type');
  const protocolId = common.u64('protocol_id');
  const writer = new PacketWriter(protocolId);
  const reader = new PacketReader();

  test.each(vectors.list('sequence_encoding').map((entry) => [entry.str('sequence'), entry] as const))('%s', (_name, entry) => {
    const sequence = entry.u64('sequence');
    expect(sequence).toBe(BigInt(entry.str('sequence_dec')));
    const count = sequenceByteCount(sequence);
    expect(count).toBe(entry.num('sequence_bytes'));
    expect(prefixByte(type, count)).toBe(Number(entry.str('prefix_byte_keep_alive')));

    const encoded = new Uint8Array(8);
    expect(writeSequence(encoded, 0, sequence)).toBe(count);
    expect(hexOf(encoded.subarray(0, count))).toBe(entry.str('encoded_sequence'));
    expect(readSequence(entry.hex('encoded_sequence'), 0, count)).toBe(sequence);

    const nonce = new Uint8Array(12);
    writePacketNonce(nonce, sequence);
    expect(hexOf(nonce)).toBe(entry.str('nonce'));

    const out = new Uint8Array(64);
    const length = writer.writeKeepAlive(out, sequence, key, inputs.num('client_index'), inputs.num('max_clients'));
    expect(hexOf(out.subarray(0, length))).toBe(entry.str('keep_alive_packet'));

    const context = readerContext(entry, 'client', key, protocolId);
    const packet = expectPacket(reader.read(entry.hex('keep_alive_packet'), context), entry.where);
    expect(packet.sequence).toBe(sequence);
    if (packet.type !== PacketType.ConnectionKeepAlive) throw new Error('not a keep-alive');
    expect(packet.clientIndex).toBe(inputs.num('client_index'));
    expect(packet.maxClients).toBe(inputs.num('max_clients'));
  });
});

describe('negative packets', () => {
  const reader = new PacketReader();

  test.each(vectors.list('negative_packets').map((entry) => [entry.str('name'), entry] as const))('%s is rejected', (_name, entry) => {
    const context = readerContext(entry, entry.str('reader'), entry.hex('key'), entry.u64('reader_protocol_id'));
    const packet = entry.hex('packet');
    if (entry.bool('read_twice')) {
      // Each read gets its own copy: reading decrypts in place. One replay window spans both reads.
      expect(isRejection(reader.read(copy(packet), context))).toBe(false);
      const second = reader.read(copy(packet), context);
      expect(isRejection(second)).toBe(true);
    } else {
      const result = reader.read(copy(packet), context);
      expect(isRejection(result)).toBe(true);
    }
  });
});

describe('replay protection', () => {
  const replay = vectors.child('replay_protection');

  test('buffer size matches', () => {
    expect(replay.num('buffer_size')).toBe(256);
  });

  test('steps (with the reference UINT64_MAX quirk NOT copied)', () => {
    const window = new ReplayProtection();
    const acceptedBefore = new Set<bigint>();
    let quirkSteps = 0;
    for (const step of replay.list('steps')) {
      const sequence = step.u64('sequence');
      // The reference marks empty slots with UINT64_MAX, so it accepts that sequence again and again
      // (the file records this as accepted). We accept it once: a repeat must be rejected.
      const quirk = sequence === U64_MAX && acceptedBefore.has(sequence);
      const expected = quirk ? false : step.bool('accepted');
      if (quirk) {
        quirkSteps++;
        expect(step.bool('accepted')).toBe(true);
      }
      const accepted = !window.alreadyReceived(sequence);
      expect({ step: step.where, sequence: sequence.toString(16), accepted }).toEqual({ step: step.where, sequence: sequence.toString(16), accepted: expected });
      if (accepted) {
        window.advance(sequence);
        acceptedBefore.add(sequence);
      }
    }
    // Reported so a reader of the test output sees where we knowingly differ from the file.
    if (quirkSteps > 0) console.info(`replay: ${quirkSteps} step(s) where the reference re-accepts 0xffffffffffffffff; we reject them`);
  });
});
