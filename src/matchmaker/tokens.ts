/**
 * Connect tokens for players and spectators. The netcode wire code does the sealing; this module decides what
 * goes in: the seat's client id (unique within the game), its name and kind as user data (src/game/seat-data.ts),
 * the game's public address, and a short life (a slow player simply asks again with the passcode or rejoin key).
 */
import { encodeSeatData, type SeatKind } from '../game/seat-data.ts';
import { HUDDLE_PROTOCOL_ID } from '../protocol/constants.ts';
import { generateConnectToken, parseAddress } from '../protocol/netcode/index.ts';

/** Seconds without packets after which client and server drop each other. */
export const CONNECT_TIMEOUT_SECONDS = 10;

export interface MintRequest {
  privateKey: Uint8Array;
  publicHost: string;
  port: number;
  clientId: bigint;
  /** Already sanitised. */
  name: string;
  kind: SeatKind;
  expirySeconds: number;
  nowMs: number;
}

export interface MintedToken {
  /** The 2048 bytes, base64. */
  connectToken: string;
  /** Unix milliseconds; from the token itself, so what we say and what the server checks agree. */
  expiresAtMs: number;
  serverAddress: string;
}

export function serverAddressText(publicHost: string, port: number): string {
  return publicHost.includes(':') ? `[${publicHost}]:${port}` : `${publicHost}:${port}`;
}

export function mintConnectToken(request: MintRequest): MintedToken {
  const userData = encodeSeatData({ name: request.name, kind: request.kind });
  const serverAddress = serverAddressText(request.publicHost, request.port);
  const { bytes, token } = generateConnectToken({
    protocolId: HUDDLE_PROTOCOL_ID,
    privateKey: request.privateKey,
    clientId: request.clientId,
    serverAddresses: [parseAddress(serverAddress)],
    userData,
    expireSeconds: request.expirySeconds,
    timeoutSeconds: CONNECT_TIMEOUT_SECONDS,
    nowSeconds: Math.floor(request.nowMs / 1000),
  });
  return {
    connectToken: Buffer.from(bytes).toString('base64'),
    expiresAtMs: Number(token.expireTimestamp) * 1000,
    serverAddress,
  };
}

/**
 * Client ids for one game: random 64-bit, non-zero, never repeated within the game. One is drawn per seat only
 * (never per refused request), and a game keeps at most `maxSeatsPerGame` seats (registry.ts), so this set is
 * bounded with them (384 ids at the defaults).
 */
export class ClientIds {
  private readonly used = new Set<bigint>();

  next(): bigint {
    for (;;) {
      const id = new DataView(crypto.getRandomValues(new Uint8Array(8)).buffer).getBigUint64(0, true);
      if (id !== 0n && !this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
  }

  get issued(): number {
    return this.used.size;
  }

  /** Every id drawn, for an adoption record (they stay unusable for new seats after a restart). */
  drawn(): bigint[] {
    return [...this.used];
  }

  static restore(ids: Iterable<bigint>): ClientIds {
    const restored = new ClientIds();
    for (const id of ids) restored.used.add(id);
    return restored;
  }
}
