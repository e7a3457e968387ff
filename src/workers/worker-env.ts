/**
 * The environment contract between the matchmaker and a game server. A Bun Worker gets exactly these variables
 * as its whole `env` (Bun replaces the worker's environment: no PATH, no HOME); a future `huddle game` child
 * process or container reads the same names. Secrets travel only here: never in argv, postMessage or logs.
 *
 * | variable                    | value                                                                  |
 * |-----------------------------|------------------------------------------------------------------------|
 * | HUDDLE_GAME_ID              | the game id (URL-safe, also in the report URL)                         |
 * | HUDDLE_GAME_PORT            | UDP port to bind                                                       |
 * | HUDDLE_BIND_HOST            | address to bind the UDP socket on                                      |
 * | HUDDLE_PUBLIC_HOST          | the address in the game's connect tokens (the server's own address)    |
 * | HUDDLE_PRIVATE_KEY          | netcode private key, 32 bytes, standard base64                         |
 * | HUDDLE_REPORT_TOKEN         | reporting bearer token, 32 bytes, base64url without padding            |
 * | HUDDLE_REPORT_URL           | absolute URL of `POST /internal/games/:id/report` for this game        |
 * | HUDDLE_MAX_PLAYERS          | players this game admits                                               |
 * | HUDDLE_LOBBY_TIMEOUT        | seconds the lobby may idle                                             |
 * | HUDDLE_ROUND_SECONDS        | length of a round                                                      |
 * | HUDDLE_PROTOCOL_ID          | netcode protocol id, `0x` + 16 hex digits                              |
 * | HUDDLE_HEARTBEAT_INTERVAL_MS| how often to post `heartbeat` on the message channel                   |
 * | HUDDLE_HOST_CLIENT_ID       | the creator's netcode client id (decimal u64): that seat is the host   |
 * | HUDDLE_REJOIN_GRACE         | seconds a dropped player's seat is held for a rejoin                   |
 * | HUDDLE_MAX_SPECTATORS       | spectators this game admits besides its players                        |
 *
 * Optional:
 *
 * | HUDDLE_STANDBY              | `1`: a warm game. It loads, binds its port, posts `standby` and waits for `begin` |
 * |                             | (which may lower HUDDLE_MAX_PLAYERS) before its lobby opens and it posts `ready`  |
 *
 * A `huddle game` process (the process launcher) may also get, optionally:
 *
 * | HUDDLE_MATCHMAKER_LOCATOR   | a file naming the matchmaker's current report base (its address may change between starts) |
 * | HUDDLE_UDP_READS            | `wakes`: read the UDP port at the loop's wakes where possible (udp-polled.ts); else each datagram calls back |
 */
export interface WorkerEnv {
  gameId: string;
  port: number;
  bindHost: string;
  publicHost: string;
  privateKey: Uint8Array;
  /** Sent verbatim as `Authorization: Bearer <reportToken>`. */
  reportToken: string;
  reportUrl: string;
  maxPlayers: number;
  lobbyTimeoutSeconds: number;
  roundSeconds: number;
  protocolId: bigint;
  heartbeatIntervalMs: number;
  /** The creator's client id: the worker marks that seat host, even if a friend connected first. */
  hostClientId: bigint;
  rejoinGraceSeconds: number;
  maxSpectators: number;
  /**
   * A warm game: started before anyone asked for it, it waits for `begin` from the matchmaker (registry/warm.ts).
   * Its `maxPlayers` is then a ceiling, and `begin` says the game's own.
   */
  standby?: boolean;
}

export const WORKER_ENV_NAMES = [
  'HUDDLE_GAME_ID',
  'HUDDLE_GAME_PORT',
  'HUDDLE_BIND_HOST',
  'HUDDLE_PUBLIC_HOST',
  'HUDDLE_PRIVATE_KEY',
  'HUDDLE_REPORT_TOKEN',
  'HUDDLE_REPORT_URL',
  'HUDDLE_MAX_PLAYERS',
  'HUDDLE_LOBBY_TIMEOUT',
  'HUDDLE_ROUND_SECONDS',
  'HUDDLE_PROTOCOL_ID',
  'HUDDLE_HEARTBEAT_INTERVAL_MS',
  'HUDDLE_HOST_CLIENT_ID',
  'HUDDLE_REJOIN_GRACE',
  'HUDDLE_MAX_SPECTATORS',
] as const;
export type WorkerEnvName = (typeof WORKER_ENV_NAMES)[number];

/** Optional names of the contract (absent means the default). */
export const OPTIONAL_WORKER_ENV_NAMES = ['HUDDLE_STANDBY'] as const;

/** Names only a `huddle game` process may get besides the contract; never a secret. */
export const PROCESS_ENV_NAMES = ['HUDDLE_MATCHMAKER_LOCATOR', 'HUDDLE_UDP_READS'] as const;

export const PRIVATE_KEY_BYTES = 32;
export const REPORT_TOKEN_BYTES = 32;

export class WorkerEnvError extends Error {
  override readonly name = 'WorkerEnvError';
}

export function encodeWorkerEnv(env: WorkerEnv): Record<WorkerEnvName, string> & { HUDDLE_STANDBY?: string } {
  return {
    ...(env.standby ? { HUDDLE_STANDBY: '1' } : {}),
    HUDDLE_GAME_ID: env.gameId,
    HUDDLE_GAME_PORT: String(env.port),
    HUDDLE_BIND_HOST: env.bindHost,
    HUDDLE_PUBLIC_HOST: env.publicHost,
    HUDDLE_PRIVATE_KEY: Buffer.from(env.privateKey).toString('base64'),
    HUDDLE_REPORT_TOKEN: env.reportToken,
    HUDDLE_REPORT_URL: env.reportUrl,
    HUDDLE_MAX_PLAYERS: String(env.maxPlayers),
    HUDDLE_LOBBY_TIMEOUT: String(env.lobbyTimeoutSeconds),
    HUDDLE_ROUND_SECONDS: String(env.roundSeconds),
    HUDDLE_PROTOCOL_ID: `0x${env.protocolId.toString(16).padStart(16, '0')}`,
    HUDDLE_HEARTBEAT_INTERVAL_MS: String(env.heartbeatIntervalMs),
    HUDDLE_HOST_CLIENT_ID: env.hostClientId.toString(10),
    HUDDLE_REJOIN_GRACE: String(env.rejoinGraceSeconds),
    HUDDLE_MAX_SPECTATORS: String(env.maxSpectators),
  };
}

/**
 * What the worker entry calls first (`parseWorkerEnv(process.env)`). Throws WorkerEnvError naming the variable,
 * never echoing a secret's value.
 */
export function parseWorkerEnv(env: Readonly<Record<string, string | undefined>>): WorkerEnv {
  const get = (name: WorkerEnvName): string => {
    const value = env[name];
    if (value === undefined || value === '') throw new WorkerEnvError(`${name} is missing`);
    return value;
  };
  const int = (name: WorkerEnvName, min: number, max: number): number => {
    const text = get(name);
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      throw new WorkerEnvError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
    }
    return value;
  };
  const gameId = get('HUDDLE_GAME_ID');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(gameId)) throw new WorkerEnvError('HUDDLE_GAME_ID is not a URL-safe id');

  const keyText = get('HUDDLE_PRIVATE_KEY');
  const privateKey = /^[A-Za-z0-9+/]+={0,2}$/.test(keyText) ? new Uint8Array(Buffer.from(keyText, 'base64')) : new Uint8Array();
  if (privateKey.length !== PRIVATE_KEY_BYTES) throw new WorkerEnvError(`HUDDLE_PRIVATE_KEY must be ${PRIVATE_KEY_BYTES} bytes of base64`);

  const reportToken = get('HUDDLE_REPORT_TOKEN');
  if (!/^[A-Za-z0-9_-]+$/.test(reportToken) || Buffer.from(reportToken, 'base64url').length !== REPORT_TOKEN_BYTES) {
    throw new WorkerEnvError(`HUDDLE_REPORT_TOKEN must be ${REPORT_TOKEN_BYTES} bytes of base64url`);
  }

  const reportUrl = get('HUDDLE_REPORT_URL');
  if (!URL.canParse(reportUrl) || !/^https?:$/.test(new URL(reportUrl).protocol)) {
    throw new WorkerEnvError('HUDDLE_REPORT_URL must be an absolute http(s) URL');
  }

  const hostText = get('HUDDLE_HOST_CLIENT_ID');
  if (!/^\d{1,20}$/.test(hostText) || BigInt(hostText) === 0n || BigInt(hostText) > 0xffff_ffff_ffff_ffffn) {
    throw new WorkerEnvError('HUDDLE_HOST_CLIENT_ID must be a non-zero decimal u64');
  }

  const protocolText = get('HUDDLE_PROTOCOL_ID');
  if (!/^0x[0-9a-fA-F]{1,16}$/.test(protocolText)) throw new WorkerEnvError('HUDDLE_PROTOCOL_ID must be 0x and up to 16 hex digits');

  const standbyText = env.HUDDLE_STANDBY;
  if (standbyText !== undefined && standbyText !== '' && standbyText !== '0' && standbyText !== '1') {
    throw new WorkerEnvError('HUDDLE_STANDBY must be 0 or 1');
  }

  return {
    gameId,
    port: int('HUDDLE_GAME_PORT', 1, 65535),
    bindHost: get('HUDDLE_BIND_HOST'),
    publicHost: get('HUDDLE_PUBLIC_HOST'),
    privateKey,
    reportToken,
    reportUrl,
    maxPlayers: int('HUDDLE_MAX_PLAYERS', 1, 256),
    lobbyTimeoutSeconds: int('HUDDLE_LOBBY_TIMEOUT', 1, 86400),
    roundSeconds: int('HUDDLE_ROUND_SECONDS', 1, 86400),
    protocolId: BigInt(protocolText),
    heartbeatIntervalMs: int('HUDDLE_HEARTBEAT_INTERVAL_MS', 1, 600000),
    hostClientId: BigInt(hostText),
    rejoinGraceSeconds: int('HUDDLE_REJOIN_GRACE', 0, 3600),
    maxSpectators: int('HUDDLE_MAX_SPECTATORS', 0, 64),
    ...(standbyText === '1' ? { standby: true } : {}),
  };
}

/**
 * What a Bun Worker game gets besides its environment (`new Worker(url, { workerData })`): never a secret. A
 * child-process game gets nothing of the kind and binds its own port.
 */
export interface GameWorkerData {
  /**
   * The game's UDP socket, bound by the launcher (`--udp-reads wakes`), which closes it once the worker is gone: the
   * game reads it at its loop's wakes (udp-polled.ts) and never closes it. Absent: the game binds its own port.
   */
  udpFd?: number;
}
