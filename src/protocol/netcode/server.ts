/**
 * The netcode server (STANDARD.md "Server-Side Connection Process" and "Connected Clients").
 *
 * Pure: datagrams and time in, datagrams (through `send`) and events out. Time is unix seconds as a float
 * (connect token expiry is a unix timestamp, so the server's clock must be the wall clock).
 *
 * A connection request is checked in the reference's exact order, cheapest first and before any state is
 * allocated: size, version, protocol id, expiry and decryption happen in the packet reader; then the token must
 * name this server, the address and client id must not be connected already (unless the `takeover` hook lets
 * a client id move to a new address: docs/PROTOCOL.md), the token must not have been used
 * from another address, and there must be room (else: denied). Only then is an encryption mapping made and a
 * challenge sent. No answer is ever larger than the packet it answers, so the server cannot amplify a spoofed
 * flood.
 */
import { defaultAead, type Aead } from '../crypto/index.ts';
import { constantTimeEqual } from '../bytes.ts';
import { type Address, addressEquals } from './address.ts';
import { openChallengeToken, sealChallengeToken } from './challenge-token.ts';
import {
  KEY_BYTES,
  MAC_BYTES,
  MAX_PACKET_BYTES,
  MAX_PAYLOAD_BYTES,
  PacketType,
  SERVER_ALLOWED_PACKETS,
  SERVER_GLOBAL_SEQUENCE_START,
} from './constants.ts';
import { EncryptionMappings } from './encryption-mappings.ts';
import {
  type ConnectionRequestPacket,
  type ConnectionResponsePacket,
  type PacketReadContext,
  PacketReader,
  PacketWriter,
} from './packet.ts';
import { isRejection, type RejectReason } from './rejection.ts';
import { ReplayProtection } from './replay.ts';
import { TokenHistory } from './token-history.ts';

export interface NetcodeServerOptions {
  protocolId: bigint;
  /** The 32-byte key shared with whoever mints connect tokens for this server. */
  privateKey: Uint8Array;
  maxClients: number;
  /** This server's address as written in connect tokens: a token that does not name it is ignored. */
  publicAddress: Address;
  aead?: Aead;
  /** CSPRNG for the challenge key; defaults to crypto.getRandomValues. */
  random?: (length: number) => Uint8Array;
  /** Keep-alive rate, Hz (10 in the reference). */
  packetSendRate?: number;
  /** Disconnect packets sent when the server drops a client (10 in the reference). */
  disconnectPackets?: number;
}

/** `replaced`: the same client id completed a new handshake from another address (see `takeover`). */
export type DisconnectReason = 'client-disconnected' | 'timed-out' | 'kicked' | 'server-stopped' | 'replaced';

export interface ConnectedClient {
  readonly clientIndex: number;
  readonly clientId: bigint;
  readonly host: string;
  readonly port: number;
  /** The 256 bytes of user data from the connect token (a copy). */
  readonly userData: Uint8Array;
}

export type ServerDropReason = RejectReason | 'not-for-this-server' | 'already-connected' | 'token-reused' | 'no-mapping-room' | 'bad-challenge' | 'not-connected';

export interface NetcodeServerEvents {
  send(data: Uint8Array, host: string, port: number): void;
  /**
   * Asked before a slot is given, after every protocol check passed; false answers with a denied packet.
   * This is where game rules ("the lobby is closed") refuse a player who holds a valid token.
   */
  admit?(request: { clientId: bigint; userData: Uint8Array }): boolean;
  /**
   * Opt-in deviation from the standard (docs/PROTOCOL.md): a valid, not reused token for a client id that is
   * connected from ANOTHER address (a fresh one: the connection's own token, replayed, is `token-reused`).
   * Without this hook the request is ignored (`already-connected`), as in the reference. With it, the handshake
   * goes on; once the new address answers the challenge (so it holds the token's keys, not just a sniffed
   * request), the hook is asked with the old connection, still connected: true
   * drops the old one (disconnect packets, `onDisconnect(old, 'replaced')`) and connects the new one at once.
   */
  takeover?(existing: ConnectedClient): boolean;
  onConnect?(client: ConnectedClient): void;
  onDisconnect?(client: ConnectedClient, reason: DisconnectReason): void;
  /**
   * A payload from a connected client, with the `now` its datagram was given to `receive` with (when it arrived).
   * The view is only valid during the call: copy it to keep it.
   */
  onPayload?(clientIndex: number, payload: Uint8Array, now: number): void;
}

interface Slot extends ConnectedClient {
  confirmed: boolean;
  sequence: bigint;
  lastSendTime: number;
  lastReceiveTime: number;
  readonly connectTime: number;
  readonly timeoutSeconds: number;
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
  readonly replay: ReplayProtection;
}

export class NetcodeServer {
  private running = false;
  private challengeKey: Uint8Array = new Uint8Array(KEY_BYTES);
  private challengeSequence = 0n;
  /** Denied and challenge packets use one server-wide sequence, apart from every client's own. */
  private globalSequence = SERVER_GLOBAL_SEQUENCE_START;
  private readonly slots: (Slot | undefined)[];
  private connectedCount = 0;
  /** Connected clients by host then port: found per packet without building a string key. */
  private readonly byAddress = new Map<string, Map<number, Slot>>();
  private readonly mappings: EncryptionMappings;
  private readonly tokenHistory: TokenHistory;
  private readonly writer: PacketWriter;
  private readonly reader: PacketReader;
  private readonly readContext: PacketReadContext;
  private readonly out = new Uint8Array(MAX_PACKET_BYTES);
  private readonly sendInterval: number;
  private readonly disconnectPackets: number;
  private readonly random: (length: number) => Uint8Array;
  private readonly aead: Aead;
  /** Datagrams dropped, by reason. Hostile traffic lands here and nowhere else. */
  readonly dropped = new Map<ServerDropReason, number>();

  constructor(
    private readonly options: NetcodeServerOptions,
    private readonly events: NetcodeServerEvents,
  ) {
    if (!Number.isInteger(options.maxClients) || options.maxClients < 1) throw new RangeError('maxClients must be a positive integer');
    if (options.privateKey.length !== KEY_BYTES) throw new RangeError(`private key must be ${KEY_BYTES} bytes`);
    this.aead = options.aead ?? defaultAead;
    this.random = options.random ?? ((length) => crypto.getRandomValues(new Uint8Array(length)));
    this.slots = new Array<Slot | undefined>(options.maxClients).fill(undefined);
    // Bounds from the reference: 4 pending mappings and 8 remembered tokens per slot.
    this.mappings = new EncryptionMappings(options.maxClients * 4);
    this.tokenHistory = new TokenHistory(options.maxClients * 8);
    this.writer = new PacketWriter(options.protocolId, this.aead);
    this.reader = new PacketReader(this.aead);
    this.readContext = { protocolId: options.protocolId, currentTimestamp: 0, allowed: SERVER_ALLOWED_PACKETS, key: null, privateKey: options.privateKey, replay: null };
    this.sendInterval = 1 / (options.packetSendRate ?? 10);
    this.disconnectPackets = options.disconnectPackets ?? 10;
  }

  get isRunning(): boolean {
    return this.running;
  }

  get maxClients(): number {
    return this.options.maxClients;
  }

  get numConnectedClients(): number {
    return this.connectedCount;
  }

  /** Pending (challenged, not yet connected) addresses: bounded by 4 x maxClients. */
  get numPendingMappings(): number {
    return this.mappings.size;
  }

  client(clientIndex: number): ConnectedClient | undefined {
    return this.slots[clientIndex];
  }

  clients(): ConnectedClient[] {
    return this.slots.filter((slot): slot is Slot => slot !== undefined);
  }

  /** A fresh challenge key and sequences on every start, so tokens of an earlier run are worthless here. */
  start(): void {
    this.challengeKey = this.random(KEY_BYTES);
    this.challengeSequence = 0n;
    this.globalSequence = SERVER_GLOBAL_SEQUENCE_START;
    this.mappings.clear();
    this.tokenHistory.clear();
    this.running = true;
  }

  /** Disconnects everyone (with disconnect packets) and stops answering. */
  stop(now: number): void {
    for (const slot of this.slots) if (slot) this.drop(slot, 'server-stopped', true, now);
    this.mappings.clear();
    this.tokenHistory.clear();
    this.challengeKey.fill(0);
    this.running = false;
  }

  receive(data: Uint8Array, host: string, port: number, now: number): void {
    if (!this.running || data.length === 0) return;
    const context = this.readContext;
    const slot = this.byAddress.get(host)?.get(port);
    let addressKey: string | undefined;
    if (data[0] === PacketType.ConnectionRequest) {
      context.key = null;
      context.replay = null;
    } else if (slot) {
      context.key = slot.receiveKey;
      context.replay = slot.replay;
    } else {
      addressKey = keyOf(host, port);
      const mapping = this.mappings.find(addressKey, now);
      if (!mapping) return this.count('no-key');
      context.key = mapping.receiveKey;
      context.replay = null;
    }
    context.currentTimestamp = Math.floor(now);
    const packet = this.reader.read(data, context);
    if (isRejection(packet)) return this.count(packet.reason);

    switch (packet.type) {
      case PacketType.ConnectionRequest:
        return this.onRequest(packet, host, port, slot, addressKey ?? keyOf(host, port), now);
      case PacketType.ConnectionResponse:
        return this.onResponse(packet, host, port, slot, addressKey ?? keyOf(host, port), now);
      case PacketType.ConnectionKeepAlive:
      case PacketType.ConnectionPayload:
      case PacketType.ConnectionDisconnect:
        if (!slot) return this.count('not-connected');
        slot.lastReceiveTime = now;
        if (packet.type === PacketType.ConnectionDisconnect) return this.drop(slot, 'client-disconnected', false, now);
        slot.confirmed = true;
        if (packet.type === PacketType.ConnectionPayload) this.events.onPayload?.(slot.clientIndex, packet.payload, now);
        return;
      default:
        return this.count('not-connected');
    }
  }

  /** Keep-alives at the send rate and timeouts. Call it often (at least 10 Hz). */
  update(now: number): void {
    if (!this.running) return;
    for (const slot of this.slots) {
      if (!slot) continue;
      if (slot.timeoutSeconds > 0 && slot.lastReceiveTime + slot.timeoutSeconds < now) {
        this.drop(slot, 'timed-out', true, now);
        continue;
      }
      if (slot.lastSendTime + this.sendInterval <= now) this.sendKeepAlive(slot, now);
    }
    this.mappings.purgeExpired(now);
  }

  sendPayload(clientIndex: number, payload: Uint8Array, now: number): void {
    const slot = this.slots[clientIndex];
    if (!slot) throw new Error(`netcode server: no client in slot ${clientIndex}`);
    if (payload.length < 1 || payload.length > MAX_PAYLOAD_BYTES) throw new RangeError(`payload must be 1..${MAX_PAYLOAD_BYTES} bytes`);
    // Until the client has shown it knows it is connected, every payload rides behind a keep-alive that
    // carries its slot, since a payload alone would be discarded by a client still waiting for one.
    if (!slot.confirmed) this.sendKeepAlive(slot, now);
    const length = this.writer.writePayload(this.out, this.nextSequence(slot), slot.sendKey, payload);
    this.transmit(slot, length, now);
  }

  /** Drops a client on the server's initiative (kick, game over), telling it with disconnect packets. */
  disconnectClient(clientIndex: number, now: number): void {
    const slot = this.slots[clientIndex];
    if (slot) this.drop(slot, 'kicked', true, now);
  }

  private onRequest(packet: ConnectionRequestPacket, host: string, port: number, slot: Slot | undefined, addressKey: string, now: number): void {
    const token = packet.token;
    const publicAddress = this.options.publicAddress;
    if (!token.serverAddresses.some((address) => addressEquals(address, publicAddress))) return this.count('not-for-this-server');
    // The same address twice is always ignored; the same client id from elsewhere only without a takeover hook.
    if (slot) return this.count('already-connected');
    const existing = this.slotOfClientId(token.clientId);
    if (existing && !this.events.takeover) return this.count('already-connected');
    // A takeover needs a fresh token: the connection's own, replayed from elsewhere once the history forgot it,
    // is a sniffed handshake, never the player (who asks the matchmaker for a new ticket).
    if (existing && constantTimeEqual(token.clientToServerKey, existing.receiveKey)) return this.count('token-reused');
    const mac = packet.encryptedPrivate.subarray(packet.encryptedPrivate.length - MAC_BYTES);
    if (!this.tokenHistory.admit(mac, addressKey, now)) return this.count('token-reused');
    if (!this.hasRoomFor(token.clientId, token.userData, existing !== undefined)) return this.sendDenied(token.serverToClientKey, host, port);
    const expireTime = Number(packet.expireTimestamp);
    if (!this.mappings.add(addressKey, token.serverToClientKey, token.clientToServerKey, now, expireTime, token.timeoutSeconds)) {
      return this.count('no-mapping-room');
    }
    const challenge = sealChallengeToken({ clientId: token.clientId, userData: token.userData }, this.challengeSequence, this.challengeKey, this.aead);
    const length = this.writer.writeConnectionChallenge(this.out, this.nextGlobalSequence(), token.serverToClientKey, this.challengeSequence, challenge);
    this.challengeSequence++;
    this.events.send(this.out.subarray(0, length), host, port);
  }

  private onResponse(packet: ConnectionResponsePacket, host: string, port: number, slot: Slot | undefined, addressKey: string, now: number): void {
    const challenge = openChallengeToken(packet.challengeTokenData, packet.challengeTokenSequence, this.challengeKey, this.aead);
    if (!challenge) return this.count('bad-challenge');
    if (slot) return this.count('already-connected');
    const existing = this.slotOfClientId(challenge.clientId);
    if (existing && !this.events.takeover) return this.count('already-connected');
    const mapping = this.mappings.find(addressKey, now);
    if (!mapping) return this.count('no-key');
    if (existing && constantTimeEqual(mapping.receiveKey, existing.receiveKey)) return this.count('token-reused');
    if (!this.hasRoomFor(challenge.clientId, challenge.userData, existing !== undefined)) return this.sendDenied(mapping.sendKey, host, port);
    if (existing) {
      if (!this.events.takeover?.(existing)) return this.count('already-connected');
      // The hook may have dropped it itself; otherwise it goes now, before its slot is handed out again.
      if (this.slots[existing.clientIndex] === existing) this.drop(existing, 'replaced', true, now);
    }
    const clientIndex = this.slots.indexOf(undefined);
    if (clientIndex < 0) return this.sendDenied(mapping.sendKey, host, port);

    // Connected clients keep their keys in their slot; the pending mapping has done its job.
    this.mappings.remove(addressKey);
    const connected: Slot = {
      clientIndex,
      clientId: challenge.clientId,
      host,
      port,
      userData: challenge.userData,
      confirmed: false,
      sequence: 0n,
      lastSendTime: -Infinity,
      lastReceiveTime: now,
      connectTime: now,
      timeoutSeconds: mapping.timeoutSeconds,
      sendKey: mapping.sendKey,
      receiveKey: mapping.receiveKey,
      replay: new ReplayProtection(),
    };
    this.slots[clientIndex] = connected;
    this.connectedCount++;
    let ports = this.byAddress.get(host);
    if (!ports) this.byAddress.set(host, (ports = new Map()));
    ports.set(port, connected);
    // The keep-alive carrying the slot goes out at once: it completes the client's handshake.
    this.sendKeepAlive(connected, now);
    this.events.onConnect?.(connected);
  }

  /** `replacing`: the client id holds a slot that a takeover would free, so a full server still has room. */
  private hasRoomFor(clientId: bigint, userData: Uint8Array, replacing: boolean): boolean {
    if (!replacing && this.connectedCount >= this.options.maxClients) return false;
    return this.events.admit?.({ clientId, userData }) ?? true;
  }

  private sendDenied(key: Uint8Array, host: string, port: number): void {
    const length = this.writer.writeConnectionDenied(this.out, this.nextGlobalSequence(), key);
    this.events.send(this.out.subarray(0, length), host, port);
  }

  private sendKeepAlive(slot: Slot, now: number): void {
    const length = this.writer.writeKeepAlive(this.out, this.nextSequence(slot), slot.sendKey, slot.clientIndex, this.options.maxClients);
    this.transmit(slot, length, now);
  }

  private drop(slot: Slot, reason: DisconnectReason, notify: boolean, now: number): void {
    if (notify) {
      for (let i = 0; i < this.disconnectPackets; i++) {
        const length = this.writer.writeDisconnect(this.out, this.nextSequence(slot), slot.sendKey);
        this.transmit(slot, length, now);
      }
    }
    this.slots[slot.clientIndex] = undefined;
    this.connectedCount--;
    const ports = this.byAddress.get(slot.host);
    ports?.delete(slot.port);
    if (ports?.size === 0) this.byAddress.delete(slot.host);
    this.events.onDisconnect?.(slot, reason);
  }

  private slotOfClientId(clientId: bigint): Slot | undefined {
    for (const slot of this.slots) if (slot && slot.clientId === clientId) return slot;
    return undefined;
  }

  private transmit(slot: Slot, length: number, now: number): void {
    slot.lastSendTime = now;
    this.events.send(this.out.subarray(0, length), slot.host, slot.port);
  }

  private nextSequence(slot: Slot): bigint {
    const sequence = slot.sequence;
    slot.sequence = sequence + 1n;
    return sequence;
  }

  private nextGlobalSequence(): bigint {
    const sequence = this.globalSequence;
    this.globalSequence = sequence + 1n;
    return sequence;
  }

  private count(reason: ServerDropReason): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }
}

/** Unambiguous: the port never contains ':', so splitting at the last one recovers host and port. */
function keyOf(host: string, port: number): string {
  return `${host}:${port}`;
}
