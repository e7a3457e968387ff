/**
 * Hostile datagrams for a live game worker's UDP port: what an attacker on the network can send without the
 * game's private key. Shared by tests/hardening/packet-fuzz.test.ts (20,000 datagrams) and bench/fuzz.ts (1,000,000).
 *
 * Every datagram belongs to one category (see CATEGORIES); the mix is a fixed schedule so each category gets its
 * share in any run length. Randomness comes from a seeded PRNG (the run replays from its seed), except for minted
 * tokens, whose keys and nonces come from the CSPRNG as real ones do.
 *
 * Sources: "foreign" sockets on 127.0.0.x (x = 1..4) that are periodically closed and replaced (so the worker's
 * answers meet closed ports: ICMP errors on its socket), and the bots' own sockets, reached through a capture of
 * their sends (client-capture.ts), to replay and mutate their packets from the address the worker knows them by.
 */
import type { udp } from 'bun';
import { HUDDLE_PROTOCOL_ID } from '../../../src/protocol/constants.ts';
import {
  type Address,
  CLIENT_ALLOWED_PACKETS,
  CONNECTION_REQUEST_BYTES,
  generateConnectToken,
  isRejection,
  PacketReader,
  PacketType,
  PacketWriter,
  parseAddress,
  readConnectToken,
  ReplayProtection,
} from '../../../src/protocol/netcode/index.ts';
import { seededRandom } from '../../support/prng.ts';
import { type CapturedDatagram, type ClientCapture, originalUdpSocket } from './client-capture.ts';

export const CATEGORIES = [
  /** Random bytes, the length cycling through every value 0..1500. */
  'random',
  /** A valid prefix byte (each type 1..15 × sequence-byte nibble 0..15) with a random, truncated or padded body. */
  'prefix',
  /** Real connection requests cut short (0..1077 bytes) or padded (1079..1500), or with one byte changed. */
  'request-resized',
  /** Requests carrying the other game's connect tokens (sealed with its key, naming its port). */
  'other-game',
  /** Requests with tokens sealed under random private keys and/or other protocol ids. */
  'foreign-key',
  /** Requests with expired tokens, sealed with this game's real key and with the other game's. */
  'expired',
  /** Requests with real, fresh tokens for this game that name another server address. */
  'wrong-server',
  /** Requests with real, fresh tokens for this game: the worker must deny them (the round has begun). */
  'valid-denied',
  /** The bots' captured packets resent from other addresses. */
  'replay-foreign',
  /** The bots' captured packets resent from the bot's own address: reordered, duplicated, old and new. */
  'replay-same',
  /** One bot's captured packets resent from another bot's address (a connected peer with other keys). */
  'replay-cross',
  /** The bots' captured packets with flipped bits, truncated, padded or re-prefixed, from the bot's own address. */
  'mutated-same',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** Datagrams of each category per 40: cheap garbage dominates, as it would in a real flood. */
const SCHEDULE: readonly Category[] = (
  [
    ['random', 9],
    ['prefix', 8],
    ['request-resized', 3],
    ['other-game', 2],
    ['foreign-key', 2],
    ['expired', 2],
    ['wrong-server', 1],
    ['valid-denied', 1],
    ['replay-foreign', 3],
    ['replay-same', 3],
    ['replay-cross', 2],
    ['mutated-same', 4],
  ] as const
).flatMap(([category, n]) => Array<Category>(n).fill(category));

export interface FuzzTarget {
  /** The game under attack: its UDP port on 127.0.0.1, and (test-only knowledge) its private key. */
  port: number;
  privateKey: Uint8Array;
  /** Another live game: its port, key and real connect tokens (base64, as the API hands them out). */
  other: { port: number; privateKey: Uint8Array; connectTokens: string[] };
  capture: ClientCapture;
}

export interface FuzzOptions {
  count: number;
  /** Datagrams per second; 0 = as fast as the sender goes (it still yields to the event loop every batch). */
  rate: number;
  /** Checked every batch; true ends the run early (e.g. the round ended). */
  shouldStop?: () => boolean;
  /** Datagrams between replacing one of the foreign sockets. */
  churnEvery?: number;
}

export interface FuzzStats {
  sent: number;
  byCategory: Record<Category, number>;
  /** Datagrams the kernel refused to take from us (send returned false): not counted as sent. */
  sendRefused: number;
  seconds: number;
  /** What came back to the foreign sockets, by what it decrypted as. */
  replies: { denied: number; other: number; total: number };
  /** Challenges a fuzz source received and answered (must stay 0: the worker denies everyone after the start). */
  challengesAnswered: number;
  sourcesReplaced: number;
}


interface MintedRequest {
  bytes: Uint8Array;
  /** The server-to-client key inside the token: opens whatever the server answers to it. */
  serverToClientKey: Uint8Array;
  /** The client-to-server key: what an attacker holding the token would answer a challenge with. */
  clientToServerKey: Uint8Array;
}

const MAX_DATAGRAM = 1500;
const BATCH = 64;

export class PacketFuzzer {
  private readonly random: () => number;
  private readonly sources: udp.Socket<'uint8array'>[] = [];
  private readonly replies: Uint8Array[] = [];
  private readonly pools: Record<'other-game' | 'foreign-key' | 'expired' | 'wrong-server' | 'valid-denied', MintedRequest[]>;
  private readonly answerKeys: Uint8Array[] = [];
  private lengthCursor = 0;
  private prefixCursor = 0;
  private sourceSerial = 0;
  private sourcesReplaced = 0;
  private challengesAnswered = 0;
  private responseSequence = 0n;
  private readonly replyReader = new PacketReader();

  private constructor(
    private readonly target: FuzzTarget,
    seed: number,
  ) {
    this.random = seededRandom(seed);
    this.pools = mintPools(target);
    for (const pool of Object.values(this.pools)) for (const request of pool) this.answerKeys.push(request.serverToClientKey);
  }

  static async create(target: FuzzTarget, seed: number, sources = 8): Promise<PacketFuzzer> {
    const fuzzer = new PacketFuzzer(target, seed);
    for (let i = 0; i < sources; i++) fuzzer.sources.push(await fuzzer.openSource());
    return fuzzer;
  }

  async run(options: FuzzOptions): Promise<FuzzStats> {
    const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
    const churnEvery = options.churnEvery ?? 2000;
    let sent = 0;
    let sendRefused = 0;
    let nextChurn = churnEvery;
    const started = performance.now();
    let scheduleIndex = 0;
    while (sent < options.count) {
      if (options.shouldStop?.()) break;
      const end = Math.min(options.count, sent + BATCH);
      // Bounded attempts per batch: skipped turns (no capture yet, a bot's socket closed) and refused sends must
      // not spin here without ever yielding to the event loop.
      for (let attempts = 0; sent < end && attempts < BATCH * 4; attempts++) {
        const category = SCHEDULE[scheduleIndex++ % SCHEDULE.length]!;
        const outcome = this.sendOne(category);
        if (outcome === 'refused') sendRefused++;
        else if (outcome === 'sent') {
          sent++;
          byCategory[category]++;
        }
        // 'skipped': nothing captured yet for a capture-based category; another category takes the turn.
      }
      if (sent >= nextChurn) {
        nextChurn += churnEvery;
        await this.replaceSource();
      }
      // Pace to the rate; in any case give the event loop a turn (the bots and the matchmaker live on it).
      const due = options.rate > 0 ? started + (sent / options.rate) * 1000 : 0;
      const wait = due - performance.now();
      await Bun.sleep(wait > 1 ? wait : 0);
    }
    const seconds = (performance.now() - started) / 1000;
    return { sent, byCategory, sendRefused, seconds, replies: this.classifyReplies(), challengesAnswered: this.challengesAnswered, sourcesReplaced: this.sourcesReplaced };
  }

  close(): void {
    for (const socket of this.sources.splice(0)) socket.close();
  }

  private sendOne(category: Category): 'sent' | 'refused' | 'skipped' {
    const port = this.target.port;
    switch (category) {
      case 'random':
        return this.fromForeign(this.randomBytes(this.nextLength()), port);
      case 'prefix':
        return this.fromForeign(this.prefixed(), port);
      case 'request-resized':
        return this.fromForeign(this.resizedRequest(), port);
      case 'other-game':
      case 'foreign-key':
      case 'expired':
      case 'wrong-server':
      case 'valid-denied': {
        const pool = this.pools[category];
        // A request of the pool always from the same source while that source lives, like a real client.
        const index = this.pick(pool.length);
        return this.fromForeign(pool[index]!.bytes, port, index);
      }
      case 'replay-foreign': {
        const captured = this.pickCaptured();
        return captured ? this.fromForeign(captured.data, port) : 'skipped';
      }
      case 'replay-same': {
        const captured = this.pickCaptured();
        if (!captured) return 'skipped';
        const outcome = this.fromBot(captured, captured.data);
        // Duplicates: now and then the same packet twice in a row.
        if (outcome === 'sent' && this.random() < 0.2) this.fromBot(captured, captured.data);
        return outcome;
      }
      case 'replay-cross': {
        const captured = this.pickCaptured();
        const other = captured && this.otherSource(captured);
        return captured && other ? this.fromBot({ ...captured, source: other }, captured.data) : 'skipped';
      }
      case 'mutated-same': {
        const captured = this.pickCaptured();
        return captured ? this.fromBot(captured, this.mutate(captured.data)) : 'skipped';
      }
    }
  }

  private fromForeign(data: Uint8Array, port: number, sourceIndex?: number): 'sent' | 'refused' {
    const socket = this.sources[(sourceIndex ?? this.pick(this.sources.length)) % this.sources.length]!;
    try {
      return socket.send(data, port, '127.0.0.1') ? 'sent' : 'refused';
    } catch {
      // A pending ICMP error surfaces on send (Bun): the datagram is lost, as UDP allows.
      return 'refused';
    }
  }

  private fromBot(captured: CapturedDatagram, data: Uint8Array): 'sent' | 'refused' | 'skipped' {
    if (captured.source.closed) return 'skipped';
    try {
      return captured.source.send(data, captured.port, captured.address) ? 'sent' : 'refused';
    } catch {
      return 'refused';
    }
  }

  /**
   * A captured client datagram: mostly recent ones (within the replay window, the interesting case), sometimes
   * the oldest kept (handshake packets, far behind the window), in random order so replays arrive reordered.
   */
  private pickCaptured(): CapturedDatagram | undefined {
    const all = this.target.capture.toPort(this.target.port);
    if (all.length === 0) return undefined;
    const recent = this.random() < 0.8;
    const span = recent ? Math.min(all.length, 300) : all.length;
    const index = recent ? all.length - 1 - this.pick(span) : this.pick(span);
    return all[index];
  }

  /** Another client's socket that sent to the same game, if there is one. */
  private otherSource(captured: CapturedDatagram): CapturedDatagram['source'] | undefined {
    const all = this.target.capture.toPort(this.target.port);
    for (let tries = 0; tries < 8; tries++) {
      const candidate = all[this.pick(all.length)]!.source;
      if (candidate !== captured.source) return candidate;
    }
    return undefined;
  }

  private mutate(original: Uint8Array): Uint8Array {
    const choice = this.pick(5);
    if (choice === 0) {
      // One to three flipped bits anywhere.
      const out = original.slice();
      for (let i = 1 + this.pick(3); i > 0; i--) {
        const bit = this.pick(out.length * 8);
        out[bit >> 3]! ^= 1 << (bit & 7);
      }
      return out;
    }
    if (choice === 1) return original.slice(0, this.pick(original.length));
    if (choice === 2) {
      const out = new Uint8Array(Math.min(MAX_DATAGRAM, original.length + 1 + this.pick(64)));
      out.set(original);
      out.set(this.randomBytes(out.length - original.length), original.length);
      return out;
    }
    const out = original.slice();
    // Another type or sequence-byte count over the same sealed bytes.
    if (choice === 3) out[0] = ((out[0]! & 0xf0) | this.pick(16)) & 0xff;
    else out[0] = ((this.pick(16) << 4) | (out[0]! & 0x0f)) & 0xff;
    return out;
  }

  private prefixed(): Uint8Array {
    // Walk every (type, sequence nibble) pair in turn; type 0 under a non-zero nibble is included.
    const cursor = this.prefixCursor++;
    const prefix = ((cursor >> 4) & 0x0f) << 4 | (cursor & 0x0f);
    const sequenceBytes = prefix >> 4;
    const form = this.pick(3);
    let length: number;
    if (form === 0) length = 1 + this.pick(1 + sequenceBytes + 16); // truncated: shorter than prefix + sequence + MAC
    else if (form === 1) length = 1 + sequenceBytes + 16 + this.pick(1300); // plausible sizes
    else length = 1226 + this.pick(MAX_DATAGRAM - 1226 + 1); // padded beyond any valid packet
    const out = this.randomBytes(length);
    out[0] = prefix === 0 ? 0x10 : prefix;
    return out;
  }

  private resizedRequest(): Uint8Array {
    const pool = this.pools['valid-denied'];
    const request = pool[this.pick(pool.length)]!.bytes;
    const form = this.pick(3);
    if (form === 0) return request.slice(0, this.pick(CONNECTION_REQUEST_BYTES));
    if (form === 1) {
      const out = new Uint8Array(CONNECTION_REQUEST_BYTES + 1 + this.pick(MAX_DATAGRAM - CONNECTION_REQUEST_BYTES));
      out.set(request);
      return out;
    }
    // Right size, one byte changed: header fields fail their checks, the sealed part fails to open.
    const out = request.slice();
    const at = 1 + this.pick(CONNECTION_REQUEST_BYTES - 1);
    out[at] = (out[at]! + 1 + this.pick(255)) & 0xff;
    return out;
  }

  private nextLength(): number {
    const length = this.lengthCursor;
    this.lengthCursor = (this.lengthCursor + 1) % (MAX_DATAGRAM + 1);
    return length;
  }

  private randomBytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 4) {
      const word = (this.random() * 0x1_0000_0000) >>> 0;
      out[i] = word;
      if (i + 1 < length) out[i + 1] = word >>> 8;
      if (i + 2 < length) out[i + 2] = word >>> 16;
      if (i + 3 < length) out[i + 3] = word >>> 24;
    }
    return out;
  }

  private pick(n: number): number {
    return Math.floor(this.random() * n);
  }

  private async openSource(): Promise<udp.Socket<'uint8array'>> {
    // Several source hosts on loopback (127.0.0.1..4), so the worker sees distinct addresses, not just ports.
    const host = `127.0.0.${1 + (this.sourceSerial++ % 4)}`;
    return originalUdpSocket({
      hostname: host,
      port: 0,
      binaryType: 'uint8array',
      socket: {
        data: (s, data, port) => {
          // Bounded: the classification needs a sample, not every reply of a million-datagram run.
          if (this.replies.length < 20_000) this.replies.push(data.slice());
          this.answerChallenge(s, data, port);
        },
        // ICMP errors (the game's port closed at the end of the round): lost datagrams, nothing more.
        error() {},
      },
    });
  }

  private async replaceSource(): Promise<void> {
    const index = this.pick(this.sources.length);
    const fresh = await this.openSource();
    this.sources[index]!.close();
    this.sources[index] = fresh;
    this.sourcesReplaced++;
  }

  /**
   * An attacker holding a token goes all the way: should the worker ever challenge a fuzz source (it must not,
   * once the round has begun), the source answers like a real client would, so a wrongly admitted token would
   * take a slot and show up as a fifth player instead of passing unnoticed.
   */
  private answerChallenge(socket: udp.Socket<'uint8array'>, data: Uint8Array, port: number): void {
    for (const request of this.pools['valid-denied']) {
      const read = this.replyReader.read(data.slice(), { protocolId: HUDDLE_PROTOCOL_ID, currentTimestamp: 0, allowed: CLIENT_ALLOWED_PACKETS, key: request.serverToClientKey, replay: null });
      if (isRejection(read)) continue;
      if (read.type !== PacketType.ConnectionChallenge) return;
      this.challengesAnswered++;
      const out = new Uint8Array(MAX_DATAGRAM);
      const length = new PacketWriter(HUDDLE_PROTOCOL_ID).writeConnectionResponse(out, this.responseSequence++, request.clientToServerKey, read.challengeTokenSequence, read.challengeTokenData);
      try {
        socket.send(out.subarray(0, length), port, '127.0.0.1');
      } catch {
        // the game's port closed
      }
      return;
    }
  }

  /** Every reply must be a connection-denied packet sealed with a key from one of our own tokens. */
  private classifyReplies(): FuzzStats['replies'] {
    const reader = new PacketReader();
    let denied = 0;
    let other = 0;
    for (const reply of this.replies) {
      let kind: number | undefined;
      for (const key of this.answerKeys) {
        const read = reader.read(reply.slice(), { protocolId: HUDDLE_PROTOCOL_ID, currentTimestamp: 0, allowed: CLIENT_ALLOWED_PACKETS, key, replay: new ReplayProtection() });
        if (!isRejection(read)) {
          kind = read.type;
          break;
        }
      }
      if (kind === PacketType.ConnectionDenied) denied++;
      else other++;
    }
    return { denied, other, total: this.replies.length };
  }
}

/** Requests that cannot get anyone in, minted once per run (minting costs crypto on the sender's thread). */
function mintPools(target: FuzzTarget): PacketFuzzer['pools'] {
  const now = Math.floor(Date.now() / 1000);
  const self = address(target.port);
  const randomKey = () => crypto.getRandomValues(new Uint8Array(32));
  const randomProtocol = () => new DataView(crypto.getRandomValues(new Uint8Array(8)).buffer).getBigUint64(0, true);
  const mint = (o: { key: Uint8Array; protocolId?: bigint; headerProtocolId?: bigint; addresses?: Address[]; now?: number; expire?: number }): MintedRequest => {
    const protocolId = o.protocolId ?? HUDDLE_PROTOCOL_ID;
    const { token } = generateConnectToken({
      protocolId,
      privateKey: o.key,
      clientId: BigInt(1 + Math.floor(Math.random() * 2 ** 48)),
      serverAddresses: o.addresses ?? [self],
      userData: new TextEncoder().encode('intruder'),
      expireSeconds: o.expire ?? 300,
      timeoutSeconds: 10,
      nowSeconds: o.now ?? now,
    });
    const bytes = new Uint8Array(CONNECTION_REQUEST_BYTES);
    new PacketWriter(o.headerProtocolId ?? protocolId).writeConnectionRequest(bytes, token);
    return { bytes, serverToClientKey: token.serverToClientKey, clientToServerKey: token.clientToServerKey };
  };
  const times = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));

  const otherGame = target.other.connectTokens.map((base64): MintedRequest => {
    // The other game's real tokens, exactly as a player of that game would send them.
    const token = readConnectToken(new Uint8Array(Buffer.from(base64, 'base64')));
    if (isRejection(token)) throw new Error(`the other game's token does not parse: ${token.reason}`);
    const bytes = new Uint8Array(CONNECTION_REQUEST_BYTES);
    new PacketWriter(token.protocolId).writeConnectionRequest(bytes, token);
    return { bytes, serverToClientKey: token.serverToClientKey, clientToServerKey: token.clientToServerKey };
  });
  return {
    'other-game': [...otherGame, ...times(8, () => mint({ key: target.other.privateKey, addresses: [address(target.other.port)] })), ...times(8, () => mint({ key: target.other.privateKey }))],
    'foreign-key': [
      ...times(12, () => mint({ key: randomKey() })),
      ...times(6, () => mint({ key: target.privateKey, protocolId: randomProtocol() })),
      // Sealed for another protocol id but claiming ours in the header: the AAD no longer matches.
      ...times(6, () => mint({ key: target.privateKey, protocolId: randomProtocol(), headerProtocolId: HUDDLE_PROTOCOL_ID })),
      ...times(6, () => mint({ key: randomKey(), protocolId: randomProtocol() })),
    ],
    expired: [
      ...times(8, () => mint({ key: target.privateKey, now: now - 120, expire: 30 })),
      ...times(4, () => mint({ key: target.privateKey, expire: 0 })),
      ...times(4, () => mint({ key: target.other.privateKey, now: now - 120, expire: 30 })),
    ],
    'wrong-server': [
      ...times(6, () => mint({ key: target.privateKey, addresses: [address(target.other.port)] })),
      ...times(6, () => mint({ key: target.privateKey, addresses: [parseAddress(`127.0.0.2:${target.port}`), parseAddress(`[::1]:${target.port}`)] })),
    ],
    'valid-denied': times(16, () => mint({ key: target.privateKey })),
  };
}

function address(port: number): Address {
  return parseAddress(`127.0.0.1:${port}`);
}
