import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, type Config } from '../../src/config.ts';
import { type RunningServer, startServer } from '../../src/matchmaker/server.ts';
import { BunWorkerLauncher } from '../../src/workers/launcher.ts';
import { freePortRange, portIsFree, readyUrl, waitFor } from './support/env.ts';

const dirs: string[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'huddle-serve-'));
  dirs.push(dir);
  return dir;
}

async function serve(overrides: Partial<Config> = {}): Promise<RunningServer> {
  const config: Config = {
    ...defaultConfig(),
    host: '127.0.0.1',
    port: 0,
    dataDir: join(tempDir(), 'data'),
    gamePorts: await freePortRange(3),
    maxGames: 3,
    heartbeatTimeoutMs: 1000,
    ...overrides,
  };
  const server = await startServer({
    config,
    launcher: new BunWorkerLauncher({ entry: new URL('./fixtures/udp-worker.ts', import.meta.url).href, stopGraceMs: 500 }),
  });
  servers.push(server);
  return server;
}

/** Sends one datagram to a game worker fixture and waits for its answer. */
async function ask(port: number, text: string): Promise<string> {
  const answer = Promise.withResolvers<string>();
  const socket = await Bun.udpSocket({ hostname: '127.0.0.1', port: 0, socket: { data: (_s, data) => answer.resolve(data.toString()) } });
  const timer = setTimeout(() => answer.reject(new Error('no answer')), 3000);
  socket.send(text, port, '127.0.0.1');
  try {
    return await answer.promise;
  } finally {
    clearTimeout(timer);
    socket.close();
  }
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('startServer with real workers', () => {
  test('a game over HTTP and UDP: the worker reports with its env token, results stored, slot freed', async () => {
    const server = await serve();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const created = await post(`${server.url}/api/games`, { name: 'Ada' });
    expect(created.status).toBe(201);
    const game = (await created.json()) as { gameId: string; port: number; passcode: string };
    expect(await ask(game.port, 'ping')).toBe('ping');

    const joined = await post(`${server.url}/api/games/join`, { passcode: game.passcode, name: 'Bob' });
    expect(joined.status).toBe(200);

    // The worker reports over HTTP with the token it got in its env, to the URL it got in its env.
    expect(await ask(game.port, `report:${JSON.stringify({ status: 'in_progress', difficulty: 'easy' })}`)).toBe('status:200');
    const status = (await (await fetch(`${server.url}/api/games/${game.gameId}`)).json()) as { state: string };
    expect(status.state).toBe('in_progress');
    const results = { status: 'finished', results: [{ name: 'Ada', score: 3 }, { name: 'Bob', score: 2 }] };
    expect(await ask(game.port, `report:${JSON.stringify(results)}`)).toBe('status:200');
    const stored = (await (await fetch(`${server.url}/api/games/${game.gameId}/results`)).json()) as { players: unknown[] };
    expect(stored.players).toHaveLength(2);

    // The worker ends; its slot and port come back.
    expect(server.registry.live).toBe(1);
    const freeBefore = server.registry.freePorts;
    void ask(game.port, 'exit:lobby_idle').catch(() => {});
    await waitFor(() => server.registry.live === 0, 3000, 'worker exit');
    expect(server.registry.freePorts).toBe(freeBefore + 1);
    expect((await (await fetch(`${server.url}/api/games/${game.gameId}`)).json()) as { state: string }).toMatchObject({ state: 'finished' });
  });

  test('results are readable after a restart on the same data directory', async () => {
    const dataDir = join(tempDir(), 'data');
    const first = await serve({ dataDir });
    const game = (await (await post(`${first.url}/api/games`, { name: 'Ada' })).json()) as { gameId: string; port: number };
    await ask(game.port, `report:${JSON.stringify({ status: 'in_progress', difficulty: 'hard' })}`);
    await ask(game.port, `report:${JSON.stringify({ status: 'finished', results: [{ name: 'Ada', score: 42 }] })}`);
    await first.stop();

    const second = await serve({ dataDir });
    const results = await fetch(`${second.url}/api/games/${game.gameId}/results`);
    expect(results.status).toBe(200);
    expect(((await results.json()) as { players: unknown[] }).players).toEqual([{ rank: 1, name: 'Ada', score: 42, left: false }]);
    const status = (await (await fetch(`${second.url}/api/games/${game.gameId}`)).json()) as { state: string; difficulty: string };
    expect(status).toMatchObject({ state: 'finished', difficulty: 'hard' });
    const board = (await (await fetch(`${second.url}/api/leaderboard`)).json()) as { hard: { score: number }[] };
    expect(board.hard[0]?.score).toBe(42);
  });

  test('stop drains: workers shut down, ports free, no new games', async () => {
    const server = await serve();
    const games = [];
    for (let i = 0; i < 2; i++) games.push((await (await post(`${server.url}/api/games`, { name: `p${i}` })).json()) as { port: number });
    expect(server.registry.live).toBe(2);
    const stopping = server.stop();
    expect((await server.app.handle(new Request(`http://localhost/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"late"}' }))).status).toBe(503);
    await stopping;
    expect(server.registry.live).toBe(0);
    for (const game of games) expect(await portIsFree(game.port)).toBe(true);
  });

  test('a body over Bun-level limits still gets the JSON 413', async () => {
    const server = await serve({ maxBodyBytes: 1024 });
    const response = await fetch(`${server.url}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x'.repeat(5000) }) });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: { code: 'payload_too_large', message: 'the body is larger than 1024 bytes' } });
  });
});

describe('the huddle command', () => {
  const entry = join(import.meta.dir, '../../src/index.ts');
  const run = (args: string[], cwd = tempDir()) =>
    Bun.spawnSync([process.execPath, entry, ...args], { cwd, env: { PATH: process.env.PATH ?? '' }, stdout: 'pipe', stderr: 'pipe' });

  test('--version, --help and a bad setting', () => {
    expect(run(['--version']).stdout.toString()).toMatch(/^huddle \d+\.\d+\.\d+\n$/);
    const help = run(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout.toString()).toContain('--game-ports');
    expect(help.stdout.toString()).toContain('HUDDLE_CREATE_TOKEN');
    const bad = run(['--game-ports', '5-2']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.toString()).toContain('the first port (5) is above the last (2)');
    expect(run(['frobnicate']).exitCode).toBe(2);
  });

  test('serve prints one ready line with its URL, and SIGTERM drains and exits 0', async () => {
    const cwd = tempDir();
    const child = Bun.spawn([process.execPath, entry, 'serve', '--port', '0', '--host', '127.0.0.1', '--log-format', 'json'], {
      cwd,
      env: { PATH: process.env.PATH ?? '' },
      stdout: 'pipe',
      stderr: 'pipe',
    });
    try {
      const url = await readyUrl(child.stdout);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await (await fetch(`${url}/healthz`)).json()) as object).toEqual({ status: 'ok', liveGames: 0 });
      child.kill('SIGTERM');
      expect(await Promise.race([child.exited, Bun.sleep(10000).then(() => 'timeout')])).toBe(0);
      expect(await Bun.file(join(cwd, 'huddle-data', 'results.sqlite')).exists()).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
