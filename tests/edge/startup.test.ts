/**
 * Startup checks against `huddle serve` as a child process: a game port taken by another program, a bad --host,
 * a bad --trust-proxy each refuse to start with one line and exit 2; without TLS on a non-loopback address the
 * line after the ready line warns that connect tokens travel in clear.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { freePortRange } from '../matchmaker/support/env.ts';
import { runToExit, spawnHuddle, tempDir, until, waitReady } from './support.ts';

const dir = tempDir();
afterAll(() => dir.remove());

function expectOneLineSettingError(result: { code: number | null; stdout: string; stderr: string }, message: RegExp): void {
  expect(result.code).toBe(2);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^huddle: invalid --/);
  expect(lines[0]).toMatch(message);
  expect(result.stdout).not.toContain('listening on');
}

describe('game ports', () => {
  test('UDP ports of the range already bound by another program: refuse to start, naming them', async () => {
    const ports = await freePortRange(6);
    // "Another program": sockets held by this test process on two ports of the range.
    const held = await Promise.all([ports.first + 1, ports.first + 2, ports.first + 4].map((port) => Bun.udpSocket({ hostname: '127.0.0.1', port })));
    try {
      const result = await runToExit(['--port', '0', '--host', '127.0.0.1', '--game-ports', `${ports.first}-${ports.last}`, '--max-games', '2'], dir.path);
      expectOneLineSettingError(result, new RegExp(`--game-ports ${ports.first}-${ports.last}: UDP ports ${ports.first + 1}-${ports.first + 2}, ${ports.first + 4} are already in use on 127\\.0\\.0\\.1`));
    } finally {
      for (const socket of held) socket.close();
    }
  });

  test('a free range starts (the check lets every port go again)', async () => {
    const ports = await freePortRange(3);
    const child = spawnHuddle(['--port', '0', '--host', '127.0.0.1', '--game-ports', `${ports.first}-${ports.last}`, '--max-games', '1'], { cwd: dir.path });
    try {
      const url = await waitReady(child);
      const created = await fetch(`${url}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ann' }) });
      expect(created.status).toBe(201);
      expect(((await created.json()) as { port: number }).port).toBe(ports.first);
    } finally {
      await child.stop();
    }
  });
});

describe('--host', () => {
  const cases: [string, RegExp][] = [
    ['999.1.1.1', /"999\.1\.1\.1": not an IP address, and no such host name resolves/],
    ['no-such-host.invalid', /"no-such-host\.invalid": not an IP address, and no such host name resolves/],
    // TEST-NET-1 (RFC 5737): a valid address that is on no machine.
    ['192.0.2.1', /"192\.0\.2\.1": 192\.0\.2\.1 is not an address of this machine/],
    ['2001:db8::1', /"2001:db8::1": 2001:db8::1 is not an address of this machine/],
  ];
  for (const [host, message] of cases) {
    test(`${host}: one line, exit 2`, async () => {
      const ports = await freePortRange(1);
      const result = await runToExit(['--port', '0', '--host', host, '--game-ports', `${ports.first}-${ports.last}`, '--max-games', '1'], dir.path);
      expectOneLineSettingError(result, message);
      expect(result.stderr).not.toContain('EINVAL … listen');
    });
  }

  test('the TCP port taken by a program without SO_REUSEPORT: one line, exit 2', async () => {
    const holder = Bun.spawn([process.execPath, '-e', `require('node:net').createServer().listen(0, '127.0.0.1', function () { console.log(this.address().port) })`], { stdout: 'pipe' });
    try {
      const reader = holder.stdout.getReader();
      const port = Number(new TextDecoder().decode((await reader.read()).value).trim());
      reader.releaseLock();
      const ports = await freePortRange(1);
      const result = await runToExit(['--port', String(port), '--host', '127.0.0.1', '--game-ports', `${ports.first}-${ports.last}`, '--max-games', '1'], dir.path);
      expectOneLineSettingError(result, new RegExp(`--port ${port}: TCP port ${port} is already in use`));
    } finally {
      holder.kill();
      await holder.exited;
    }
  });
});

describe('--trust-proxy', () => {
  test('a bad CIDR is a one-line error, exit 2', async () => {
    for (const [value, message] of [
      ['10.0.0.0/33', /prefix length must be from 0 to 32/],
      ['10.0.0.1/8', /bits set past its \/8 prefix/],
      ['10.0.0.0/8,,fd00::/8', /empty entry/],
      ['proxy.example', /not an IPv4 or IPv6 address or CIDR/],
    ] as const) {
      const result = await runToExit(['--trust-proxy', value], dir.path);
      expectOneLineSettingError(result, message);
      expect(result.stderr).toContain('--trust-proxy');
    }
  });
});

describe('the clear-text warning', () => {
  test('without TLS on 0.0.0.0 the line after the ready line says tokens travel in clear and how to fix it', async () => {
    const ports = await freePortRange(1);
    const child = spawnHuddle(['--port', '0', '--host', '0.0.0.0', '--game-ports', `${ports.first}-${ports.last}`, '--max-games', '1', '--log-format', 'json'], { cwd: dir.path });
    try {
      await waitReady(child);
      await until(() => child.stdout().split('\n').length >= 3, 5000, 'the warning line');
      const lines = child.stdout().split('\n');
      expect(lines[0]).toMatch(/^huddle \S+ listening on http:\/\/0\.0\.0\.0:\d+$/);
      expect(lines[1]).toMatch(/^huddle: warning: no TLS on 0\.0\.0\.0: connect tokens .* travel in clear; .*--tls-cert.*TLS proxy/);
    } finally {
      await child.stop();
    }
  });

  test('on loopback there is no warning', async () => {
    const ports = await freePortRange(1);
    const child = spawnHuddle(['--port', '0', '--host', '127.0.0.1', '--game-ports', `${ports.first}-${ports.last}`, '--max-games', '1', '--log-format', 'json'], { cwd: dir.path });
    try {
      await waitReady(child);
      await until(() => child.stdout().includes('server.ready'), 5000, 'the ready log line');
      expect(child.stdout()).not.toContain('travel in clear');
    } finally {
      await child.stop();
    }
  });
});
