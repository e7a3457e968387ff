import { describe, expect, test } from 'bun:test';
import { defaultConfig, heartbeatIntervalMs, parseConfig, serveHelp, SETTINGS } from '../../src/config.ts';

function ok(argv: string[], env: Record<string, string> = {}) {
  const result = parseConfig(argv, env);
  if (!result.ok) throw new Error(result.error);
  return result.config;
}

function error(argv: string[], env: Record<string, string> = {}): string {
  const result = parseConfig(argv, env);
  if (result.ok) throw new Error('expected an error');
  return result.error;
}

describe('parseConfig', () => {
  test('launcher, stop behaviour and cluster settings are checked', () => {
    expect(ok(['--launcher', 'process']).launcher).toBe('process');
    expect(error(['--launcher', 'thread'])).toContain('expected worker or process');
    expect(ok(['--udp-reads', 'each']).udpReads).toBe('each');
    expect(ok([], { HUDDLE_UDP_READS: 'each' }).udpReads).toBe('each');
    expect(error(['--udp-reads', 'sometimes'])).toContain('expected wakes or each');
    expect(error(['--on-stop', 'detach'])).toContain('--on-stop detach needs --launcher process');
    expect(ok(['--on-stop', 'detach', '--launcher', 'process']).onStop).toBe('detach');
    expect(ok([], { HUDDLE_REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl).toBe('redis://127.0.0.1:6379');
    expect(error(['--redis-url', 'http://127.0.0.1:6379'])).toContain('redis://');
    expect(error(['--redis-url', 'not a url'])).toContain('expected a URL');
    expect(ok(['--node-url', 'http://10.0.0.2:8080/']).nodeUrl).toBe('http://10.0.0.2:8080');
    expect(error(['--node-url', 'http://10.0.0.2:8080/api'])).toContain('no path');
  });

  test('embedded defaults of DESIGN.md section 8', () => {
    expect(defaultConfig()).toEqual({
      host: '0.0.0.0',
      port: 8080,
      publicHost: '127.0.0.1',
      gamePorts: { first: 40000, last: 40099 },
      maxGames: 32,
      warmGames: 1,
      maxPlayers: 8,
      dataDir: './huddle-data',
      lobbyTimeoutSeconds: 300,
      roundSeconds: 120,
      createToken: undefined,
      adminToken: undefined,
      maxBodyBytes: 16384,
      joinFailuresPerAddress: 10,
      joinFailuresGlobal: 300,
      joinFailuresPerPrefix: 30,
      ticketsPerGame: 60,
      tokenExpirySeconds: 30,
      workerStartTimeoutMs: 5000,
      heartbeatTimeoutMs: 3000,
      logFormat: 'auto',
      relayMaxPerAddress: 64,
      relayFramesPerSecond: 200,
      relayIdleSeconds: 20,
      rejoinGraceSeconds: 60,
      maxSpectators: 16,
      tlsCert: undefined,
      tlsKey: undefined,
      publicUrl: undefined,
      trustProxy: [],
      maxConnectionsPerAddress: 256,
      launcher: 'worker',
      udpReads: 'wakes',
      onStop: 'auto',
      redisUrl: undefined,
      nodeUrl: undefined,
    });
  });

  test('edge settings: TLS files both or neither, --public-url normalized, --trust-proxy CIDRs canonical', () => {
    const config = ok(['--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--trust-proxy', '10.0.0.0/8, ::1,192.168.1.7', '--max-connections-per-address', '0'], {
      HUDDLE_PUBLIC_URL: 'HTTPS://Games.Example.org:8443',
    });
    expect(config).toMatchObject({ tlsCert: 'c.pem', tlsKey: 'k.pem', publicUrl: 'https://games.example.org:8443/', maxConnectionsPerAddress: 0 });
    expect(config.trustProxy).toEqual(['10.0.0.0/8', '::1/128', '192.168.1.7/32']);
    expect(ok([], { HUDDLE_TRUST_PROXY: 'fd00::/8' }).trustProxy).toEqual(['fd00::/8']);
    expect(error(['--tls-cert', 'c.pem'])).toBe('--tls-cert needs --tls-key too (both or neither)');
    expect(error([], { HUDDLE_TLS_KEY: 'k.pem' })).toBe('--tls-key needs --tls-cert too (both or neither)');
    expect(error(['--trust-proxy', '10.0.0.0/8,300.1.1.1'])).toMatch(/^invalid --trust-proxy "10\.0\.0\.0\/8,300\.1\.1\.1": "300\.1\.1\.1" is not an IPv4 or IPv6 address or CIDR$/);
    expect(error([], { HUDDLE_PUBLIC_URL: 'https://x.example/path' })).toMatch(/^invalid HUDDLE_PUBLIC_URL /);
  });

  test('every setting is a flag and a HUDDLE_ variable; the flag wins', () => {
    const env = { HUDDLE_PORT: '9000', HUDDLE_MAX_GAMES: '3', HUDDLE_CREATE_TOKEN: 'from-env', HUDDLE_GAME_PORTS: '41000-41010' };
    const config = ok(['--port', '9100', '--create-token=from-flag'], env);
    expect(config.port).toBe(9100);
    expect(config.maxGames).toBe(3);
    expect(config.createToken).toBe('from-flag');
    expect(config.gamePorts).toEqual({ first: 41000, last: 41010 });
    for (const setting of SETTINGS) {
      expect(setting.flag.startsWith('--')).toBe(true);
      expect(setting.env.startsWith('HUDDLE_')).toBe(true);
    }
  });

  test('all flags parse', () => {
    const config = ok([
      '--host', '127.0.0.1', '--port', '0', '--public-host', '::1', '--game-ports', '5000-5001', '--max-games', '2',
      '--max-players', '4', '--data-dir', '/tmp/x', '--lobby-timeout', '60', '--round-seconds', '30', '--max-body-bytes', '2048',
      '--join-failures-per-address', '3', '--join-failures-global', '30', '--token-expiry', '20',
      '--worker-start-timeout-ms', '1000', '--heartbeat-timeout-ms', '500', '--log-format', 'json',
    ]);
    expect(config).toMatchObject({ host: '127.0.0.1', port: 0, publicHost: '::1', maxPlayers: 4, dataDir: '/tmp/x', logFormat: 'json', heartbeatTimeoutMs: 500 });
    expect(heartbeatIntervalMs(config)).toBe(125);
  });

  test('clear errors for bad values', () => {
    expect(error(['--game-ports', '5-2'])).toContain('the first port (5) is above the last (2)');
    expect(error(['--game-ports', 'lots'])).toContain('expected FIRST-LAST');
    expect(error(['--port', '70000'])).toContain('--port "70000": must be from 0 to 65535');
    expect(error([], { HUDDLE_MAX_GAMES: 'many' })).toContain('HUDDLE_MAX_GAMES "many": expected a whole number');
    expect(error(['--max-players', '0'])).toContain('must be from 1 to 8');
    expect(error(['--max-players', '9'])).toContain('must be from 1 to 8');
    expect(error(['--public-host', 'example.com'])).toContain('must be an IPv4 or IPv6 address');
    expect(error(['--log-format', 'xml'])).toContain('expected auto, json or text');
    expect(error(['--max-games', '10', '--game-ports', '40000-40004'])).toContain('exceeds the 5 ports');
    expect(error(['--port', '40050'])).toContain('inside the game port range');
    expect(error(['--bogus'])).toContain('unknown option "--bogus"');
    expect(error(['--port'])).toContain('--port needs a value');
    expect(error(['--create-token', ' '])).toContain('must not be empty');
  });

  test('--help lists every setting with its variable and default', () => {
    const help = serveHelp();
    for (const setting of SETTINGS) {
      expect(help).toContain(setting.flag);
      expect(help).toContain(setting.env);
    }
    expect(help).toContain('default 40000-40099');
    expect(help).toContain('default 8080');
  });
});

describe('docs/OPERATIONS.md', () => {
  test('its settings table has a row for every setting, with its variable and default', async () => {
    const doc = await Bun.file(new URL('../../docs/OPERATIONS.md', import.meta.url)).text();
    const rows = new Map(
      doc
        .split('\n')
        .filter((line) => line.startsWith('| `--'))
        .map((line) => [line.split('|')[1]!.trim().replaceAll('`', ''), line] as const),
    );
    for (const setting of SETTINGS) {
      const row = rows.get(setting.flag);
      expect(row, `${setting.flag} has no row`).toBeDefined();
      expect(row).toContain(`\`${setting.env}\``);
      expect(row).toContain(setting.fallback === undefined ? 'unset' : `\`${setting.fallback}\``);
    }
  });
});
