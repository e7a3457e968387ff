/**
 * Settings of `huddle serve`: every one is a flag and a HUDDLE_* environment variable (the flag wins), with an
 * embedded default that works on one machine. Parsing is a pure function of argv and env so it can be tested
 * without a process; the CLI prints the error or the help text that it returns.
 */
import { parseCidrList } from './matchmaker/edge/cidr.ts';
import { parsePublicUrl } from './matchmaker/edge/public-url.ts';
import { isIpLiteral } from './protocol/netcode/address.ts';

export type LogFormat = 'auto' | 'json' | 'text';

export interface Config {
  /** HTTP listen address. */
  host: string;
  /** HTTP port; 0 = any free port. */
  port: number;
  /** Address put into connect tokens for native UDP clients (an IP literal: tokens carry addresses, not names). */
  publicHost: string;
  /** Inclusive UDP port range for game workers. */
  gamePorts: { first: number; last: number };
  maxGames: number;
  /**
   * Game servers kept started and standing by (worker launcher), so a create does not wait for one to start;
   * they hold a port each, never a slot beyond `maxGames`.
   */
  warmGames: number;
  /** Players per game; a create request may ask for fewer. */
  maxPlayers: number;
  dataDir: string;
  /** Seconds a lobby may idle before the worker closes it. */
  lobbyTimeoutSeconds: number;
  roundSeconds: number;
  /** When set, creating a game needs `Authorization: Bearer <token>`; joining never does. */
  createToken: string | undefined;
  /** When set, `/admin` and `/api/admin/*` answer to `Authorization: Bearer <token>`; unset, they answer 404. */
  adminToken: string | undefined;
  /** Largest accepted request body. */
  maxBodyBytes: number;
  /** Failed join attempts allowed per client address per minute (token bucket, this is also the burst). */
  joinFailuresPerAddress: number;
  /** Failed join attempts allowed across all clients per minute. */
  joinFailuresGlobal: number;
  /** Failed join attempts allowed per network prefix (/24 IPv4, /56 IPv6) per minute. */
  joinFailuresPerPrefix: number;
  /** New seats (join, invite, watch) one game hands out per minute; also the burst. */
  ticketsPerGame: number;
  /** Lifetime of a connect token; a slow player asks again with the passcode. */
  tokenExpirySeconds: number;
  /** A worker that is not ready this long after launch is stopped and the creator gets 503. */
  workerStartTimeoutMs: number;
  /** A worker silent on its channel this long is considered hung, terminated and its game failed. */
  heartbeatTimeoutMs: number;
  logFormat: LogFormat;
  /** Relay tunnels one client address may hold at once. */
  relayMaxPerAddress: number;
  /** Sustained frames per second a relay tunnel may send to its game. */
  relayFramesPerSecond: number;
  /** Seconds without a forwarded frame after which a relay tunnel closes. */
  relayIdleSeconds: number;
  /** Seconds a dropped player's seat is held for a rejoin, in the lobby and during the round. */
  rejoinGraceSeconds: number;
  /** Spectators per game, besides its players. */
  maxSpectators: number;
  /** PEM certificate (chain) file: with tlsKey, the API, web client and relay speak HTTPS/WSS. */
  tlsCert: string | undefined;
  /** PEM private key file of tlsCert. */
  tlsKey: string | undefined;
  /** Base of every link and of relayUrl (absolute http(s) URL, no path); unset: the request's scheme and Host. */
  publicUrl: string | undefined;
  /** CIDRs of reverse proxies whose X-Forwarded-For/Forwarded/X-Forwarded-Proto are believed (canonical text). */
  trustProxy: readonly string[];
  /** Open TCP connections one client address may hold (trusted proxies exempt); 0 = no cap. */
  maxConnectionsPerAddress: number;
  /** How each game server runs: a Bun Worker in this process, or a `huddle game` child process. */
  launcher: LauncherKind;
  /** How a game reads its UDP port: at its loop's wakes (Linux; elsewhere `each`), or called back per datagram. */
  udpReads: UdpReads;
  /** What a stop (SIGTERM/SIGINT) does to running games: end them, or leave process games playing for the next start. */
  onStop: OnStop;
  /** Redis URL of the shared cluster state; unset = a single node, nothing shared. */
  redisUrl: string | undefined;
  /** Where the other nodes reach this node's HTTP API; unset = http://<public-host>:<port>. */
  nodeUrl: string | undefined;
}

export type LauncherKind = 'worker' | 'process';
export type UdpReads = 'wakes' | 'each';
export type OnStop = 'auto' | 'drain' | 'detach';

export type ConfigResult = { ok: true; config: Config } | { ok: false; error: string };

interface Setting {
  readonly key: keyof Config;
  readonly flag: string;
  readonly env: string;
  /** Default as shown in --help; undefined = unset. */
  readonly fallback: string | undefined;
  readonly meaning: string;
  /** Converts the text, or returns an error string (without the setting's name). */
  readonly parse: (text: string) => Config[keyof Config] | SettingError;
}

class SettingError {
  constructor(readonly message: string) {}
}

function integer(min: number, max: number) {
  return (text: string): number | SettingError => {
    if (!/^\d+$/.test(text.trim())) return new SettingError(`expected a whole number from ${min} to ${max}`);
    const value = Number(text.trim());
    if (value < min || value > max) return new SettingError(`must be from ${min} to ${max}`);
    return value;
  };
}

function nonEmpty(text: string): string | SettingError {
  return text.trim() === '' ? new SettingError('must not be empty') : text.trim();
}

/** The admin token ends games: short ones could be guessed over the network. */
export const ADMIN_TOKEN_MIN_CHARS = 16;

function adminToken(text: string): string | SettingError {
  const token = text.trim();
  if (token.length < ADMIN_TOKEN_MIN_CHARS) return new SettingError(`must be at least ${ADMIN_TOKEN_MIN_CHARS} characters (e.g. openssl rand -base64 24)`);
  if (/\s/.test(token)) return new SettingError('must not contain spaces (it is sent as "Authorization: Bearer <token>")');
  return token;
}

function ipLiteral(text: string): string | SettingError {
  const host = text.trim();
  return isIpLiteral(host) ? host : new SettingError('must be an IPv4 or IPv6 address (connect tokens carry addresses, not host names)');
}

function portRange(text: string): Config['gamePorts'] | SettingError {
  const match = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text);
  if (!match) return new SettingError('expected FIRST-LAST, e.g. 40000-40099');
  const first = Number(match[1]);
  const last = Number(match[2]);
  if (first < 1 || last > 65535) return new SettingError('ports must be from 1 to 65535');
  if (first > last) return new SettingError(`the first port (${first}) is above the last (${last})`);
  return { first, last };
}

function logFormat(text: string): LogFormat | SettingError {
  const value = text.trim();
  return value === 'auto' || value === 'json' || value === 'text'
    ? value
    : new SettingError('expected auto, json or text');
}

function publicUrl(text: string): string | SettingError {
  const parsed = parsePublicUrl(text);
  return parsed.ok ? parsed.url.href : new SettingError(parsed.error);
}

function launcherKind(text: string): LauncherKind | SettingError {
  const value = text.trim();
  return value === 'worker' || value === 'process' ? value : new SettingError('expected worker or process');
}

function udpReads(text: string): UdpReads | SettingError {
  const value = text.trim();
  return value === 'wakes' || value === 'each' ? value : new SettingError('expected wakes or each');
}

function onStop(text: string): OnStop | SettingError {
  const value = text.trim();
  return value === 'auto' || value === 'drain' || value === 'detach' ? value : new SettingError('expected auto, drain or detach');
}

function redisUrl(text: string): string | SettingError {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return new SettingError('expected a URL such as redis://127.0.0.1:6379 (or rediss:// for TLS)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return new SettingError('expected a redis:// or rediss:// URL');
  if (url.hostname === '') return new SettingError('the URL has no host');
  return url.href;
}

function nodeUrl(text: string): string | SettingError {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return new SettingError('expected an absolute URL such as http://10.0.0.2:8080');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return new SettingError('expected an http:// or https:// URL');
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') return new SettingError('expected scheme, host and port only (no path)');
  return url.origin;
}

function cidrList(text: string): readonly string[] | SettingError {
  const parsed = parseCidrList(text);
  return parsed.ok ? parsed.cidrs.map((c) => c.text) : new SettingError(parsed.error);
}

/** The single table behind parsing and --help, so the two cannot drift apart. */
export const SETTINGS: readonly Setting[] = [
  { key: 'host', flag: '--host', env: 'HUDDLE_HOST', fallback: '0.0.0.0', meaning: 'HTTP listen address (game UDP ports bind here too)', parse: nonEmpty },
  { key: 'port', flag: '--port', env: 'HUDDLE_PORT', fallback: '8080', meaning: 'HTTP port (0 = any free port, printed at start)', parse: integer(0, 65535) },
  { key: 'publicHost', flag: '--public-host', env: 'HUDDLE_PUBLIC_HOST', fallback: '127.0.0.1', meaning: 'IP address put into connect tokens for native UDP clients', parse: ipLiteral },
  { key: 'gamePorts', flag: '--game-ports', env: 'HUDDLE_GAME_PORTS', fallback: '40000-40099', meaning: 'UDP port range for game workers', parse: portRange },
  { key: 'maxGames', flag: '--max-games', env: 'HUDDLE_MAX_GAMES', fallback: '32', meaning: 'live games at once', parse: integer(1, 10000) },
  { key: 'warmGames', flag: '--warm-games', env: 'HUDDLE_WARM_GAMES', fallback: '1', meaning: 'game servers kept started and waiting with --launcher worker, so a create need not wait for one to start (0 = start each when asked)', parse: integer(0, 16) },
  { key: 'maxPlayers', flag: '--max-players', env: 'HUDDLE_MAX_PLAYERS', fallback: '8', meaning: 'players per game, at most 8: the arena has 8 ships (a create request may ask for fewer)', parse: integer(1, 8) },
  { key: 'dataDir', flag: '--data-dir', env: 'HUDDLE_DATA_DIR', fallback: './huddle-data', meaning: 'directory of the SQLite results store (created if missing)', parse: nonEmpty },
  { key: 'lobbyTimeoutSeconds', flag: '--lobby-timeout', env: 'HUDDLE_LOBBY_TIMEOUT', fallback: '300', meaning: 'seconds a lobby may idle before it closes', parse: integer(1, 86400) },
  { key: 'roundSeconds', flag: '--round-seconds', env: 'HUDDLE_ROUND_SECONDS', fallback: '120', meaning: 'length of a round in seconds', parse: integer(1, 3600) },
  { key: 'createToken', flag: '--create-token', env: 'HUDDLE_CREATE_TOKEN', fallback: undefined, meaning: 'if set, creating a game needs "Authorization: Bearer <token>" (joining never does)', parse: nonEmpty },
  { key: 'adminToken', flag: '--admin-token', env: 'HUDDLE_ADMIN_TOKEN', fallback: undefined, meaning: 'if set, /admin shows live games and ends them for "Authorization: Bearer <token>" (at least 16 characters); unset, /admin is 404', parse: adminToken },
  { key: 'maxBodyBytes', flag: '--max-body-bytes', env: 'HUDDLE_MAX_BODY_BYTES', fallback: '16384', meaning: 'largest accepted request body in bytes', parse: integer(256, 16 * 1024 * 1024) },
  { key: 'joinFailuresPerAddress', flag: '--join-failures-per-address', env: 'HUDDLE_JOIN_FAILURES_PER_ADDRESS', fallback: '10', meaning: 'failed joins (wrong passcode) allowed per client address per minute', parse: integer(1, 100000) },
  { key: 'joinFailuresGlobal', flag: '--join-failures-global', env: 'HUDDLE_JOIN_FAILURES_GLOBAL', fallback: '300', meaning: 'failed joins allowed across all clients per minute', parse: integer(1, 10000000) },
  { key: 'joinFailuresPerPrefix', flag: '--join-failures-per-prefix', env: 'HUDDLE_JOIN_FAILURES_PER_PREFIX', fallback: '30', meaning: 'failed joins allowed per network (/24 IPv4, /56 IPv6) per minute', parse: integer(1, 1000000) },
  { key: 'ticketsPerGame', flag: '--tickets-per-game', env: 'HUDDLE_TICKETS_PER_GAME', fallback: '60', meaning: 'new seats (join, invite, watch) one game hands out per minute, also the burst (429 too_many_tickets past it)', parse: integer(1, 100000) },
  { key: 'tokenExpirySeconds', flag: '--token-expiry', env: 'HUDDLE_TOKEN_EXPIRY', fallback: '30', meaning: 'seconds a connect token stays valid', parse: integer(5, 3600) },
  { key: 'workerStartTimeoutMs', flag: '--worker-start-timeout-ms', env: 'HUDDLE_WORKER_START_TIMEOUT_MS', fallback: '5000', meaning: 'a game worker not ready by then is stopped (503 to the creator)', parse: integer(50, 120000) },
  { key: 'heartbeatTimeoutMs', flag: '--heartbeat-timeout-ms', env: 'HUDDLE_HEARTBEAT_TIMEOUT_MS', fallback: '3000', meaning: 'a game worker silent this long is terminated and its game failed', parse: integer(100, 120000) },
  { key: 'logFormat', flag: '--log-format', env: 'HUDDLE_LOG_FORMAT', fallback: 'auto', meaning: 'auto (JSON lines unless stdout is a terminal), json or text', parse: logFormat },
  { key: 'relayMaxPerAddress', flag: '--relay-max-per-address', env: 'HUDDLE_RELAY_MAX_PER_ADDRESS', fallback: '64', meaning: 'relay tunnels one client address may hold (raise it behind a reverse proxy)', parse: integer(1, 100000) },
  { key: 'relayFramesPerSecond', flag: '--relay-frames-per-second', env: 'HUDDLE_RELAY_FRAMES_PER_SECOND', fallback: '200', meaning: 'sustained frames per second a relay tunnel may send to its game (bursts of twice that)', parse: integer(10, 100000) },
  { key: 'relayIdleSeconds', flag: '--relay-idle-seconds', env: 'HUDDLE_RELAY_IDLE_SECONDS', fallback: '20', meaning: 'seconds without a forwarded frame before a relay tunnel closes', parse: integer(1, 3600) },
  { key: 'rejoinGraceSeconds', flag: '--rejoin-grace', env: 'HUDDLE_REJOIN_GRACE', fallback: '60', meaning: "seconds a dropped player's seat is held for a rejoin (lobby and round)", parse: integer(0, 3600) },
  { key: 'maxSpectators', flag: '--max-spectators', env: 'HUDDLE_MAX_SPECTATORS', fallback: '16', meaning: 'spectators per game, not counted in max players', parse: integer(0, 64) },
  { key: 'tlsCert', flag: '--tls-cert', env: 'HUDDLE_TLS_CERT', fallback: undefined, meaning: 'PEM certificate (chain) file: serve HTTPS and WSS (with --tls-key; re-read on SIGHUP)', parse: nonEmpty },
  { key: 'tlsKey', flag: '--tls-key', env: 'HUDDLE_TLS_KEY', fallback: undefined, meaning: 'PEM private key file of --tls-cert', parse: nonEmpty },
  { key: 'publicUrl', flag: '--public-url', env: 'HUDDLE_PUBLIC_URL', fallback: undefined, meaning: 'base of every link and of relayUrl, e.g. https://games.example.org (unset: the scheme and Host of each request)', parse: publicUrl },
  { key: 'trustProxy', flag: '--trust-proxy', env: 'HUDDLE_TRUST_PROXY', fallback: undefined, meaning: 'CIDR,... of reverse proxies whose X-Forwarded-For/-Proto/-Host and Forwarded headers are believed (unset: ignored)', parse: cidrList },
  { key: 'maxConnectionsPerAddress', flag: '--max-connections-per-address', env: 'HUDDLE_MAX_CONNECTIONS_PER_ADDRESS', fallback: '256', meaning: 'open TCP connections one client address may hold, trusted proxies exempt (0 = no cap)', parse: integer(0, 1000000) },
  { key: 'launcher', flag: '--launcher', env: 'HUDDLE_LAUNCHER', fallback: 'worker', meaning: 'how each game server runs: worker (a thread of this process) or process (a `huddle game` child that outlives a restart of this server)', parse: launcherKind },
  { key: 'udpReads', flag: '--udp-reads', env: 'HUDDLE_UDP_READS', fallback: 'wakes', meaning: "how a game reads its UDP port: wakes (whatever waits, at each wake of its loop, as netcode's reference server does; Linux, else each) or each (woken for every datagram)", parse: udpReads },
  { key: 'onStop', flag: '--on-stop', env: 'HUDDLE_ON_STOP', fallback: 'auto', meaning: 'what SIGTERM/SIGINT does to running games: drain (end them), detach (process games play on; the next start re-adopts them) or auto (detach with --launcher process, else drain)', parse: onStop },
  { key: 'redisUrl', flag: '--redis-url', env: 'HUDDLE_REDIS_URL', fallback: undefined, meaning: 'redis:// URL of the state several nodes share (unset: a single node)', parse: redisUrl },
  { key: 'nodeUrl', flag: '--node-url', env: 'HUDDLE_NODE_URL', fallback: undefined, meaning: "where the other nodes reach this node's HTTP API, e.g. http://10.0.0.2:8080 (unset: http://<public-host>:<port>)", parse: nodeUrl },
];

/**
 * Parses `serve` options. argv holds only the options (no program name, no subcommand); env is the process
 * environment. Accepts `--flag value` and `--flag=value`.
 */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ConfigResult {
  const fromFlags = new Map<Setting, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const setting = SETTINGS.find((s) => s.flag === flag);
    if (!setting) return { ok: false, error: `unknown option ${JSON.stringify(arg)} (see --help)` };
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) return { ok: false, error: `${flag} needs a value` };
    fromFlags.set(setting, value);
  }
  const values: Partial<Record<keyof Config, Config[keyof Config]>> = {};
  for (const setting of SETTINGS) {
    const flagValue = fromFlags.get(setting);
    const envValue = env[setting.env];
    const source = flagValue !== undefined ? setting.flag : envValue !== undefined ? setting.env : 'default';
    const text = flagValue ?? envValue ?? setting.fallback;
    if (text === undefined) continue;
    const parsed = setting.parse(text);
    if (parsed instanceof SettingError) {
      return { ok: false, error: `invalid ${source === 'default' ? setting.flag : source} ${JSON.stringify(text)}: ${parsed.message}` };
    }
    values[setting.key] = parsed;
  }
  const config = { ...values, createToken: values.createToken, adminToken: values.adminToken, trustProxy: values.trustProxy ?? [] } as Config;
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    return { ok: false, error: `${config.tlsCert === undefined ? '--tls-key' : '--tls-cert'} needs ${config.tlsCert === undefined ? '--tls-cert' : '--tls-key'} too (both or neither)` };
  }
  if (config.onStop === 'detach' && config.launcher !== 'process') {
    return { ok: false, error: '--on-stop detach needs --launcher process (a worker game cannot outlive this process)' };
  }
  const portCount = config.gamePorts.last - config.gamePorts.first + 1;
  if (config.port !== 0 && config.port >= config.gamePorts.first && config.port <= config.gamePorts.last) {
    return { ok: false, error: `the HTTP port ${config.port} lies inside the game port range ${config.gamePorts.first}-${config.gamePorts.last}` };
  }
  if (config.heartbeatTimeoutMs < 4 * HEARTBEAT_FLOOR_MS) {
    return { ok: false, error: `--heartbeat-timeout-ms must be at least ${4 * HEARTBEAT_FLOOR_MS}` };
  }
  // More games than ports can never run; say so instead of failing at the first unlucky create.
  if (config.maxGames > portCount) {
    return { ok: false, error: `--max-games ${config.maxGames} exceeds the ${portCount} ports of --game-ports ${config.gamePorts.first}-${config.gamePorts.last}` };
  }
  return { ok: true, config };
}

/** Workers heartbeat at a quarter of the timeout, but never faster than this. */
export const HEARTBEAT_FLOOR_MS = 25;

export function heartbeatIntervalMs(config: Pick<Config, 'heartbeatTimeoutMs'>): number {
  return Math.max(HEARTBEAT_FLOOR_MS, Math.floor(config.heartbeatTimeoutMs / 4));
}

/** The defaults alone, as `huddle` with no arguments and an empty environment would use them. */
export function defaultConfig(): Config {
  const result = parseConfig([], {});
  if (!result.ok) throw new Error(`embedded defaults are invalid: ${result.error}`);
  return result.config;
}

export function serveHelp(): string {
  const width = Math.max(...SETTINGS.map((s) => s.flag.length)) + 12;
  const rows = SETTINGS.map((s) => {
    const left = `  ${s.flag} <value>`;
    const dflt = s.fallback === undefined ? 'unset' : s.fallback;
    return `${left.padEnd(width)}${s.meaning}\n${''.padEnd(width)}env ${s.env}, default ${dflt}`;
  });
  return [
    'usage: huddle [serve] [options]',
    '       huddle --help | --version',
    '',
    'Serves the matchmaker HTTP API and starts one game worker per game on its own UDP port.',
    'Every option is also an environment variable; the flag wins. Both --flag value and --flag=value work.',
    '',
    'options:',
    ...rows,
    '',
  ].join('\n');
}
