/**
 * HTTPS and WSS from the binary: a certificate made by openssl now, `huddle serve` as a child process. The API
 * answers over https, relayUrl is wss://, the relay upgrades over TLS, SIGHUP swaps the certificate (seen by a
 * client reading the served certificate) and a bad new pair keeps the old one with one log line.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePortRange } from '../matchmaker/support/env.ts';
import { SWAP_OVERLAP_MS } from '../../src/matchmaker/edge/listener.ts';
import { type Child, insecureFetch, makeCertificate, runToExit, servedCommonName, spawnHuddle, tempDir, until, waitReady } from './support.ts';

const dir = tempDir();
let first: { cert: string; key: string };
let second: { cert: string; key: string };

beforeAll(async () => {
  first = await makeCertificate(dir.path, 'huddle-first');
  second = await makeCertificate(dir.path, 'huddle-second');
});
afterAll(() => dir.remove());

describe('TLS settings that cannot work refuse to start with one line and exit 2', () => {
  test('one of the pair alone, unreadable files, a non-PEM file, a key of another certificate', async () => {
    const junk = join(dir.path, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    const cases: [string[], RegExp][] = [
      [['--tls-cert', first.cert], /--tls-cert needs --tls-key too/],
      [['--tls-key', first.key], /--tls-key needs --tls-cert too/],
      [['--tls-cert', join(dir.path, 'missing.crt'), '--tls-key', first.key], /cannot read the certificate .*missing\.crt.*ENOENT/],
      [['--tls-cert', junk, '--tls-key', first.key], /is not a PEM certificate/],
      [['--tls-cert', first.cert, '--tls-key', junk], /is not a PEM private key/],
      [['--tls-cert', first.cert, '--tls-key', second.key], /does not belong to the certificate/],
    ];
    for (const [flags, message] of cases) {
      const ports = await freePortRange(1);
      const result = await runToExit(['--port', '0', '--host', '127.0.0.1', '--game-ports', `${ports.first}-${ports.last}`, '--max-games', '1', ...flags], dir.path);
      expect(result.code).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(result.stderr).not.toContain('PRIVATE KEY');
      expect(result.stdout).not.toContain('listening on');
    }
  }, 60_000);
});

describe('huddle serve --tls-cert --tls-key', () => {
  let child: Child;
  let url: string;
  let cert: string;
  let key: string;

  beforeAll(async () => {
    // The server reads these paths on start and on SIGHUP: the test overwrites them to renew.
    cert = join(dir.path, 'live.crt');
    key = join(dir.path, 'live.key');
    copyFileSync(first.cert, cert);
    copyFileSync(first.key, key);
    const ports = await freePortRange(2);
    child = spawnHuddle(
      ['--port', '0', '--host', '127.0.0.1', '--game-ports', `${ports.first}-${ports.last}`, '--max-games', '2', '--log-format', 'json', '--tls-cert', cert, '--tls-key', key],
      { cwd: dir.path },
    );
    url = await waitReady(child);
  });
  afterAll(async () => {
    await child?.stop();
  });

  test('the ready line says https:// and carries no clear-text warning on loopback', () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(child.stdout()).not.toContain('travel in clear');
  });

  test('the API, the web client and Swagger answer over https; plain http on the port does not', async () => {
    const health = await insecureFetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe('ok');
    expect((await insecureFetch(`${url}/`)).status).toBe(200);
    expect((await insecureFetch(`${url}/swagger/json`)).status).toBe(200);
    const plain = await fetch(url.replace('https:', 'http:') + '/healthz', { signal: AbortSignal.timeout(3000) }).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(plain).not.toBe(200);
  });

  test('a created game answers relayUrl wss://…, and the relay upgrades over TLS', async () => {
    const created = await insecureFetch(`${url}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ann' }) });
    expect(created.status).toBe(201);
    const game = (await created.json()) as { relayUrl: string; gameId: string };
    expect(game.relayUrl).toBe(`${url.replace('https:', 'wss:')}/relay?game=${encodeURIComponent(game.gameId)}`);
    const ws = new WebSocket(game.relayUrl, { tls: { rejectUnauthorized: false } } as unknown as string[]);
    const opened = await new Promise<boolean>((resolve) => {
      ws.onopen = () => resolve(true);
      ws.onerror = () => resolve(false);
      setTimeout(() => resolve(false), 5000);
    });
    expect(opened).toBe(true);
    ws.close();
  });

  test('SIGHUP serves a renewed certificate to new connections; a bad new pair keeps the old one and logs one line', async () => {
    const port = Number(new URL(url).port);
    expect(await servedCommonName(port)).toBe('huddle-first');
    // A relay-like long connection opened before the renewal survives it.
    const before = new WebSocket(`${url.replace('https:', 'wss:')}/relay?game=nope`, { tls: { rejectUnauthorized: false } } as unknown as string[]);
    before.onerror = () => {};

    copyFileSync(second.cert, cert);
    copyFileSync(second.key, key);
    child.proc.kill('SIGHUP');
    // (A handshake racing the swap itself may be reset, as on any listener that closes: retry until the new one answers.)
    // Old and new listener overlap for a moment (the old one drains its accept queue): wait until only the new one answers.
    const allSecond = async () => (await Promise.all(Array.from({ length: 8 }, () => servedCommonName(port).catch(() => '')))).every((cn) => cn === 'huddle-second');
    await until(allSecond, 5000, 'the renewed certificate');
    expect(child.proc.exitCode).toBeNull();
    expect(child.stdout()).toContain('"event":"server.tls_reloaded"');
    // Eight answers from the new listener can come while the old one still listens (the kernel spreads new
    // connections over both for SWAP_OVERLAP_MS): only after that is every connection the new one's.
    await Bun.sleep(SWAP_OVERLAP_MS + 150);
    expect(await allSecond()).toBe(true);
    expect((await insecureFetch(`${url}/healthz`)).status).toBe(200);

    // A broken renewal (key of another certificate): the second certificate stays, one error line says why.
    copyFileSync(first.key, key);
    child.proc.kill('SIGHUP');
    await until(() => child.stdout().includes('server.tls_reload_failed'), 5000, 'the failure line');
    const failures = child.stdout().split('\n').filter((l) => l.includes('server.tls_reload_failed'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain('does not belong to the certificate');
    expect(failures[0]).not.toContain('PRIVATE KEY');
    expect(await servedCommonName(port)).toBe('huddle-second');
    expect((await insecureFetch(`${url}/healthz`)).status).toBe(200);
    before.close();
  }, 20_000);
});
