/**
 * The netcode client state machine (STANDARD.md "Client State Machine" and "Client-Side Connection Process").
 *
 * Pure: bytes and time in, bytes (through `send`) and events out. Time is seconds on any clock that does not
 * jump; the connect token's expiry is measured from the moment `connect` is called, as the reference does,
 * so the client's clock need not agree with the matchmaker's.
 *
 * Unlike the reference, which only sends on its 10 Hz tick, the first request and the answer to a challenge
 * go out at once: on loopback the handshake then takes two round trips instead of ~100 ms. Resends keep the
 * 10 Hz rate.
 */
import { defaultAead, type Aead } from '../crypto/index.ts';
import { type Address, addressEquals, addressFromParts } from './address.ts';
import {
  CLIENT_ALLOWED_PACKETS,
  CONNECTION_REQUEST_BYTES,
  MAX_PACKET_BYTES,
  MAX_PAYLOAD_BYTES,
  PacketType,
} from './constants.ts';
import { type ConnectToken, readConnectToken } from './connect-token.ts';
import { type PacketReadContext, PacketReader, PacketWriter } from './packet.ts';
import { isRejection, type RejectReason } from './rejection.ts';
import { ReplayProtection } from './replay.ts';

export const ClientState = {
  ConnectTokenExpired: -6,
  InvalidConnectToken: -5,
  ConnectionTimedOut: -4,
  ConnectionResponseTimedOut: -3,
  ConnectionRequestTimedOut: -2,
  ConnectionDenied: -1,
  Disconnected: 0,
  SendingConnectionRequest: 1,
  SendingConnectionResponse: 2,
  Connected: 3,
} as const;
export type ClientState = (typeof ClientState)[keyof typeof ClientState];

export function clientStateName(state: ClientState): string {
  for (const [name, value] of Object.entries(ClientState)) if (value === state) return name;
  return `unknown(${state})`;
}

export interface NetcodeClientOptions {
  protocolId: bigint;
  aead?: Aead;
  /** Keep-alive and handshake resend rate, Hz (10 in the reference). */
  packetSendRate?: number;
  /** Disconnect packets sent on a clean disconnect, for redundancy over a lossy link (10 in the reference). */
  disconnectPackets?: number;
}

export interface NetcodeClientEvents {
  /** Carries a datagram to the server; `host` is bracket-free (IPv6 too), as sockets take it. */
  send(data: Uint8Array, host: string, port: number): void;
  onStateChange?(state: ClientState, previous: ClientState): void;
  /** A payload from the server. The view is only valid during the call: copy it to keep it. */
  onPayload?(payload: Uint8Array): void;
}

export class NetcodeClient {
  private stateValue: ClientState = ClientState.Disconnected;
  private token: ConnectToken | undefined;
  private readonly requestPacket = new Uint8Array(CONNECTION_REQUEST_BYTES);
  private serverIndex = 0;
  private serverHost = '';
  private serverPort = 0;
  private connectStartTime = 0;
  private lastSendTime = -Infinity;
  private lastReceiveTime = 0;
  private sequence = 0n;
  private challengeSequence = 0n;
  private readonly challengeData = new Uint8Array(300);
  private clientIndexValue = -1;
  private maxClientsValue = 0;
  private readonly replay = new ReplayProtection();
  private readonly writer: PacketWriter;
  private readonly reader: PacketReader;
  private readonly readContext: PacketReadContext;
  private readonly out = new Uint8Array(MAX_PACKET_BYTES);
  private readonly sendInterval: number;
  private readonly disconnectPackets: number;
  /** Why the last received datagram was dropped, by reason: for diagnostics and tests. */
  readonly rejected = new Map<RejectReason | 'wrong-sender' | 'wrong-state', number>();

  constructor(
    private readonly options: NetcodeClientOptions,
    private readonly events: NetcodeClientEvents,
  ) {
    const aead = options.aead ?? defaultAead;
    this.writer = new PacketWriter(options.protocolId, aead);
    this.reader = new PacketReader(aead);
    this.readContext = { protocolId: options.protocolId, currentTimestamp: 0, allowed: CLIENT_ALLOWED_PACKETS, key: null, replay: this.replay };
    this.sendInterval = 1 / (options.packetSendRate ?? 10);
    this.disconnectPackets = options.disconnectPackets ?? 10;
  }

  get state(): ClientState {
    return this.stateValue;
  }

  get connected(): boolean {
    return this.stateValue === ClientState.Connected;
  }

  /** The slot the server gave us, once connected (-1 before). */
  get clientIndex(): number {
    return this.clientIndexValue;
  }

  get maxClients(): number {
    return this.maxClientsValue;
  }

  /** The server address being tried or connected to. */
  get serverAddress(): Address | undefined {
    return this.token?.serverAddresses[this.serverIndex];
  }

  /** Starts connecting with a 2048-byte connect token; an unreadable token ends in InvalidConnectToken. */
  connect(tokenBytes: Uint8Array, now: number): void {
    this.disconnect(now);
    const token = readConnectToken(tokenBytes);
    if (isRejection(token) || token.protocolId !== this.options.protocolId) {
      this.setState(ClientState.InvalidConnectToken);
      return;
    }
    this.token = token;
    this.writer.writeConnectionRequest(this.requestPacket, token);
    this.readContext.key = token.serverToClientKey;
    this.connectStartTime = now;
    this.beginServer(0, now);
    this.update(now);
  }

  /** Feeds one datagram from the network. Anything not from the current server, or not valid now, is dropped. */
  receive(data: Uint8Array, host: string, port: number, now: number): void {
    const state = this.stateValue;
    if (state <= ClientState.Disconnected || !this.token) return;
    if (port !== this.serverPort || !this.fromServer(host)) return this.count('wrong-sender');
    const packet = this.reader.read(data, this.readContext);
    if (isRejection(packet)) return this.count(packet.reason);

    switch (packet.type) {
      case PacketType.ConnectionDenied:
        if (state !== ClientState.SendingConnectionRequest && state !== ClientState.SendingConnectionResponse) return this.count('wrong-state');
        this.fail(ClientState.ConnectionDenied, now);
        return;
      case PacketType.ConnectionChallenge:
        if (state !== ClientState.SendingConnectionRequest) return this.count('wrong-state');
        this.challengeSequence = packet.challengeTokenSequence;
        this.challengeData.set(packet.challengeTokenData);
        this.lastReceiveTime = now;
        this.setState(ClientState.SendingConnectionResponse);
        this.lastSendTime = -Infinity;
        this.update(now);
        return;
      case PacketType.ConnectionKeepAlive:
        if (state === ClientState.SendingConnectionResponse) {
          this.clientIndexValue = packet.clientIndex;
          this.maxClientsValue = packet.maxClients;
          this.lastReceiveTime = now;
          this.setState(ClientState.Connected);
        } else if (state === ClientState.Connected) {
          this.lastReceiveTime = now;
        } else {
          this.count('wrong-state');
        }
        return;
      case PacketType.ConnectionPayload:
        // Payloads that overtake the keep-alive which confirms the connection are discarded, as the standard says.
        if (state !== ClientState.Connected) return this.count('wrong-state');
        this.lastReceiveTime = now;
        this.events.onPayload?.(packet.payload);
        return;
      case PacketType.ConnectionDisconnect:
        if (state !== ClientState.Connected) return this.count('wrong-state');
        this.reset(ClientState.Disconnected);
        return;
      default:
        this.count('wrong-state');
    }
  }

  /** Advances timers: resends, keep-alives, timeouts and token expiry. Call it often (at least 10 Hz). */
  update(now: number): void {
    const token = this.token;
    const state = this.stateValue;
    if (!token || state <= ClientState.Disconnected) return;

    const connecting = state === ClientState.SendingConnectionRequest || state === ClientState.SendingConnectionResponse;
    if (connecting && Number(token.expireTimestamp - token.createTimestamp) + this.connectStartTime <= now) {
      this.reset(ClientState.ConnectTokenExpired);
      return;
    }
    if (token.timeoutSeconds > 0 && this.lastReceiveTime + token.timeoutSeconds < now) {
      if (state === ClientState.SendingConnectionRequest) this.fail(ClientState.ConnectionRequestTimedOut, now);
      else if (state === ClientState.SendingConnectionResponse) this.fail(ClientState.ConnectionResponseTimedOut, now);
      else this.reset(ClientState.ConnectionTimedOut);
      return;
    }
    if (this.lastSendTime + this.sendInterval > now) return;

    if (state === ClientState.SendingConnectionRequest) {
      this.transmit(this.requestPacket, now);
    } else if (state === ClientState.SendingConnectionResponse) {
      const length = this.writer.writeConnectionResponse(this.out, this.nextSequence(), token.clientToServerKey, this.challengeSequence, this.challengeData);
      this.transmit(this.out.subarray(0, length), now);
    } else {
      const length = this.writer.writeKeepAlive(this.out, this.nextSequence(), token.clientToServerKey, 0, 0);
      this.transmit(this.out.subarray(0, length), now);
    }
  }

  /** Sends one payload (1..1200 bytes) to the server; only while connected. */
  sendPayload(payload: Uint8Array, now: number): void {
    if (this.stateValue !== ClientState.Connected || !this.token) throw new Error('netcode client: not connected');
    if (payload.length < 1 || payload.length > MAX_PAYLOAD_BYTES) throw new RangeError(`payload must be 1..${MAX_PAYLOAD_BYTES} bytes`);
    const length = this.writer.writePayload(this.out, this.nextSequence(), this.token.clientToServerKey, payload);
    this.transmit(this.out.subarray(0, length), now);
  }

  /** Leaves cleanly: a connected client tells the server, several times since some may be lost. */
  disconnect(now: number): void {
    if (this.stateValue === ClientState.Connected && this.token) {
      for (let i = 0; i < this.disconnectPackets; i++) {
        const length = this.writer.writeDisconnect(this.out, this.nextSequence(), this.token.clientToServerKey);
        this.transmit(this.out.subarray(0, length), now);
      }
    }
    if (this.stateValue > ClientState.Disconnected) this.reset(ClientState.Disconnected);
  }

  private beginServer(index: number, now: number): void {
    const address = this.token?.serverAddresses[index];
    if (!address) throw new Error('netcode client: no such server address');
    this.serverIndex = index;
    this.serverHost = address.family === 'ipv4' ? address.octets.join('.') : ipv6Host(address.groups);
    this.serverPort = address.port;
    this.sequence = 0n;
    this.replay.reset();
    this.clientIndexValue = -1;
    this.maxClientsValue = 0;
    this.lastReceiveTime = now;
    this.lastSendTime = -Infinity;
    this.setState(ClientState.SendingConnectionRequest);
  }

  /** A failed attempt moves on to the next server in the token, or ends in `state` when there is none. */
  private fail(state: ClientState, now: number): void {
    const token = this.token;
    if (token && this.serverIndex + 1 < token.serverAddresses.length) {
      this.beginServer(this.serverIndex + 1, now);
      this.update(now);
      return;
    }
    this.reset(state);
  }

  private reset(state: ClientState): void {
    this.token = undefined;
    this.readContext.key = null;
    this.serverHost = '';
    this.serverPort = 0;
    this.clientIndexValue = -1;
    this.maxClientsValue = 0;
    this.challengeData.fill(0);
    this.setState(state);
  }

  private setState(state: ClientState): void {
    const previous = this.stateValue;
    if (previous === state) return;
    this.stateValue = state;
    this.events.onStateChange?.(state, previous);
  }

  private transmit(packet: Uint8Array, now: number): void {
    this.lastSendTime = now;
    this.events.send(packet, this.serverHost, this.serverPort);
  }

  private nextSequence(): bigint {
    const sequence = this.sequence;
    this.sequence = sequence + 1n;
    return sequence;
  }

  private fromServer(host: string): boolean {
    if (host === this.serverHost) return true;
    // Sockets may spell the same address differently (e.g. an IPv4-mapped IPv6 form); compare parsed forms.
    const server = this.serverAddress;
    if (!server) return false;
    try {
      return addressEquals(addressFromParts(host.startsWith('::ffff:') ? host.slice(7) : host, this.serverPort), server);
    } catch {
      return false;
    }
  }

  private count(reason: RejectReason | 'wrong-sender' | 'wrong-state'): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }
}

function ipv6Host(groups: readonly number[]): string {
  return groups.map((g) => g.toString(16)).join(':');
}
