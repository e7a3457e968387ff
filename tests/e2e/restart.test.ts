/**
 * Games that outlive a matchmaker restart (`--launcher process`, issue #10), end to end: a real `huddle serve`
 * from source, its games real `huddle game` processes, players over real UDP (a bot and a test player). The
 * matchmaker is killed under a running round (SIGKILL, and SIGTERM with `--on-stop detach`) and a new `huddle
 * serve` starts on the same data dir and port: it re-adopts the game, the round finishes, the results land, the
 * host's rejoin key still works. A game whose process died meanwhile ends `failed` (`lost_in_restart`); a channel
 * with a wrong token is refused; no secret is in the child's argv or in any log.
 *
 * Game processes are detached (their own process group): every one is killed explicitly after each test.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBot } from '../../src/bot.ts';
import { processAlive } from '../../src/workers/process-launcher.ts';
import { secretForms } from '../hardening/support-api/harness.ts';
import { freePortRange, portIsFree, readyUrl, waitFor } from '../matchmaker/support/env.ts';
import { UdpPlayer } from '../support/udp-player.ts';
import { insecureFetch, makeCertificate } from '../edge/support.ts';

const ROOT = join(import.meta.dir, '..', '..');
const cleanups: (() => unknown)[] = [];
const gamePids = new Set<number>();

afterEach(async () => {
  for (const pid of gamePids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  gamePids.clear();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freeTcpPort(): Promise<number> {
  const probe = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() });
  const port = probe.port as number;
  await probe.stop(true);
  return port;
}

interface Node {
  child: Bun.Subprocess<'ignore', 'pipe', 'pipe'>;
  url: string;
  /** Everything it printed, stdout and stderr, once it has exited. */
  output(): Promise<string>;
}

/** A setup of one matchmaker: its data dir, HTTP port and game ports, started as often as a test needs. */
async function setup(roundSeconds = 4, options: { anyPort?: boolean; args?: string[] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'huddle-restart-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'data');
  const port = await freeTcpPort();
  const range = await freePortRange(2);
  const args = ['--host', '127.0.0.1', '--port', options.anyPort ? '0' : String(port), ...(options.args ?? []), '--game-ports', `${range.first}-${range.last}`, '--max-games', '2'];
  args.push('--data-dir', dataDir, '--round-seconds', String(roundSeconds), '--launcher', 'process', '--log-format', 'json');
  const start = async (extra: string[] = []): Promise<Node> => {
    const child = Bun.spawn([process.execPath, 'src/index.ts', 'serve', ...args, ...extra], { cwd: ROOT, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
    cleanups.push(() => child.kill('SIGKILL'));
    const [forReady, rest] = child.stdout.tee();
    let printed = '';
    const collected = (async () => {
      printed += await new Response(rest).text();
      printed += await new Response(child.stderr).text();
    })();
    const url = (await readyUrl(forReady)).replace('0.0.0.0', '127.0.0.1');
    return { child, url, output: async () => (await collected, printed) };
  };
  const records = () => (existsSync(join(dataDir, 'games')) ? readdirSync(join(dataDir, 'games')).filter((n) => n.endsWith('.json')) : []);
  const record = (gameId: string) =>
    JSON.parse(readFileSync(join(dataDir, 'games', `${gameId}.json`), 'utf8')) as { process: { pid: number; startTime: string }; secrets: { privateKey: string; reportToken: string } };
  return { dataDir, port, range, start, records, record };
}

async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const status = async (url: string, gameId: string) => (await (await fetch(`${url}/api/games/${gameId}`)).json()) as { state: string; players: number; endReason: string | null };

describe('a process game outlives its matchmaker', () => {
  // The third case keeps the matchmaker down past the round's end: the game's finished report waits, retried,
  // for the next matchmaker to store it.
  const cases = [
    { how: 'SIGKILL', downMs: 0, what: 'under a running round' },
    { how: 'SIGTERM', downMs: 0, what: 'under a running round' },
    { how: 'SIGKILL', downMs: 5000, what: 'and down until the round has ended' },
  ] as const;
  for (const { how, downMs, what } of cases) {
    test(`${how} ${what}: the next matchmaker re-adopts the game, the round finishes, the results land, rejoin keys work`, async () => {
      const s = await setup();
      const first = await s.start();
      const created = await post(`${first.url}/api/games`, { name: 'host' });
      expect(created.status).toBe(201);
      const gameId = created.body.gameId as string;
      // Read once: the record is removed as soon as the game ends, so later polls must not depend on it.
      const identity = s.record(gameId).process;
      const { pid } = identity;
      gamePids.add(pid);
      const secrets = s.record(gameId).secrets;
      // The record holds the game's secrets: private to the service's user.
      expect(statSync(join(s.dataDir, 'games')).mode & 0o777).toBe(0o700);
      expect(statSync(join(s.dataDir, 'games', `${gameId}.json`)).mode & 0o777).toBe(0o600);
      const host = await UdpPlayer.connect(created.body.connectToken as string, { play: true });
      cleanups.push(() => host.close());
      await host.waitFor((v) => v.phase === 'lobby');
      const guest = runBot({ server: first.url, name: 'guest', mode: { join: created.body.passcode as string }, timeoutSeconds: 40 });
      for (let i = 0; i < 200 && (await status(first.url, gameId)).players < 2; i++) await Bun.sleep(25);
      host.client.start('normal');
      await host.waitFor((v) => v.phase === 'playing', 8000);
      expect((await status(first.url, gameId)).state).toBe('in_progress');

      // The secrets are in the child's environment only: not in its argv, which every user can read.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      for (const needle of [...secretForms(Buffer.from(secrets.privateKey, 'base64')), ...secretForms(Buffer.from(secrets.reportToken, 'base64url'))]) {
        expect(cmdline).not.toContain(needle);
      }

      first.child.kill(how);
      const code = await Promise.race([first.child.exited, Bun.sleep(8000).then(() => 'hung' as const)]);
      expect(code).toBe(how === 'SIGKILL' ? 137 : 0);
      // The game plays on without a matchmaker; its record waits for the next one.
      expect(processAlive(identity)).toBe(true);
      expect(s.records()).toEqual([`${gameId}.json`]);
      if (downMs > 0) {
        // Past the round's end with nobody to report to: the players see no results yet.
        await Bun.sleep(downMs);
        expect(host.client.view.phase).not.toBe('results');
      }

      const second = await s.start();
      if (downMs === 0) {
        expect((await status(second.url, gameId)).state).toBe('in_progress');
        // The host's seat opens again through the new matchmaker (its key hash came back from the record).
        const rejoined = await post(`${second.url}/api/games/rejoin`, { rejoinKey: created.body.rejoinKey });
        expect(rejoined.status).toBe(200);
        expect(rejoined.body).toMatchObject({ gameId, name: 'host', role: 'player' });
      }

      const outcome = await guest;
      expect(outcome.ok).toBe(true);
      expect(outcome.results?.map((r) => r.name).sort()).toEqual(['guest', 'host']);
      await host.waitFor((v) => v.phase === 'results', 10_000);
      const results = await fetch(`${second.url}/api/games/${gameId}/results`);
      expect(results.status).toBe(200);
      const stored = (await results.json()) as { players: { name: string; score: number }[] };
      expect(stored.players.map(({ name, score }) => ({ name, score })).sort((a, b) => a.name.localeCompare(b.name))).toEqual(
        [...outcome.results!].sort((a, b) => a.name.localeCompare(b.name)),
      );
      host.close();
      // The game ends by itself once its players are gone: finished, the process gone, the record removed.
      await waitFor(() => !processAlive(identity), 15_000, 'the game process to end').catch(async () => {
        throw new Error(`still running; status ${JSON.stringify(await status(second.url, gameId))}`);
      });
      for (let i = 0; i < 100 && s.records().length > 0; i++) await Bun.sleep(50);
      expect(s.records()).toEqual([]);
      expect(await status(second.url, gameId)).toMatchObject({ state: 'finished', endReason: 'round_over' });

      second.child.kill('SIGTERM');
      expect(await Promise.race([second.child.exited, Bun.sleep(8000).then(() => 'hung' as const)])).toBe(0);
      for (let p = s.range.first; p <= s.range.last; p++) expect(await portIsFree(p)).toBe(true);
      // No secret in what either matchmaker printed.
      const logs = (await first.output()) + (await second.output());
      expect(logs).toContain('game.adopted');
      for (const needle of [...secretForms(Buffer.from(secrets.privateKey, 'base64')), ...secretForms(Buffer.from(secrets.reportToken, 'base64url'))]) {
        expect(logs).not.toContain(needle);
      }
    }, 60_000);
  }

  test('a game whose process died while no matchmaker ran ends failed (lost_in_restart), its port free again', async () => {
    const s = await setup();
    const first = await s.start();
    const created = await post(`${first.url}/api/games`, { name: 'host' });
    expect(created.status).toBe(201);
    const gameId = created.body.gameId as string;
    const identity = s.record(gameId).process;
    gamePids.add(identity.pid);
    first.child.kill('SIGKILL');
    await first.child.exited;
    process.kill(identity.pid, 'SIGKILL');
    await waitFor(() => !processAlive(identity), 5000, 'the game process to die');

    const second = await s.start();
    expect(await status(second.url, gameId)).toMatchObject({ state: 'failed', endReason: 'lost_in_restart' });
    expect(s.records()).toEqual([]);
    // Its passcode admits nobody; both ports can be taken by new games.
    const join = await post(`${second.url}/api/games/join`, { passcode: created.body.passcode, name: 'late' });
    expect(join.status).toBe(404);
    const games = [await post(`${second.url}/api/games`, { name: 'a' }), await post(`${second.url}/api/games`, { name: 'b' })];
    expect(games.map((g) => g.status)).toEqual([201, 201]);
    for (const g of games) gamePids.add(s.record(g.body.gameId as string).process.pid);
    second.child.kill('SIGINT');
    // auto = detach with the process launcher: the games play on, their records stay for the next start.
    expect(await Promise.race([second.child.exited, Bun.sleep(8000).then(() => 'hung' as const)])).toBe(0);
    expect(s.records().length).toBe(2);
  }, 40_000);

  test('a channel with a wrong or absent token is refused before the upgrade', async () => {
    const s = await setup();
    const node = await s.start(['--on-stop', 'drain']);
    const created = await post(`${node.url}/api/games`, { name: 'host' });
    const gameId = created.body.gameId as string;
    const identity = s.record(gameId).process;
    gamePids.add(identity.pid);
    const channel = `${node.url}/internal/games/${gameId}/channel`;
    const upgrade = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' };
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${Buffer.alloc(32).toString('base64url')}`]) {
      const response = await fetch(channel, { headers: { ...upgrade, ...(authorization ? { authorization } : {}) } });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
    // A real WebSocket client with a wrong token never opens.
    const ws = new WebSocket(channel.replace(/^http/, 'ws'), { headers: { authorization: 'Bearer nope' } } as unknown as string[]);
    const opened = await new Promise<boolean>((resolve) => {
      ws.onopen = () => resolve(true);
      ws.onclose = () => resolve(false);
    });
    expect(opened).toBe(false);
    // The game is untouched, and a drain (--on-stop drain) ends it with the server.
    expect((await status(node.url, gameId)).state).toBe('lobby');
    node.child.kill('SIGTERM');
    expect(await Promise.race([node.child.exited, Bun.sleep(8000).then(() => 'hung' as const)])).toBe(0);
    expect(s.records()).toEqual([]);
    expect(processAlive(identity)).toBe(false);
  }, 30_000);

  test('under TLS on --port 0: the channel goes to the loopback report listener, and after a restart on other ports the locator leads the game back', async () => {
    const certDir = mkdtempSync(join(tmpdir(), 'huddle-restart-tls-'));
    cleanups.push(() => rmSync(certDir, { recursive: true, force: true }));
    const pair = await makeCertificate(certDir, 'localhost');
    const admin = 'a'.repeat(24);
    const s = await setup(4, { anyPort: true, args: ['--tls-cert', pair.cert, '--tls-key', pair.key, '--admin-token', admin] });
    const adminGames = async (url: string) =>
      ((await (await insecureFetch(`${url}/api/admin/games`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { games: { gameId: string; tick: unknown }[] }).games;
    // Heartbeats carry tick statistics: a game with a tick has a live channel to this matchmaker.
    const channelUp = async (url: string, gameId: string) => {
      for (let i = 0; i < 200; i++) {
        if ((await adminGames(url)).some((g) => g.gameId === gameId && g.tick !== null)) return true;
        await Bun.sleep(50);
      }
      return false;
    };
    const first = await s.start();
    expect(first.url).toStartWith('https://');
    const created = (await (await insecureFetch(`${first.url}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"host"}' })).json()) as { gameId: string };
    gamePids.add(s.record(created.gameId).process.pid);
    expect(await channelUp(first.url, created.gameId)).toBe(true);
    const firstBase = (JSON.parse(readFileSync(join(s.dataDir, 'matchmaker.json'), 'utf8')) as { reportBase: string }).reportBase;
    first.child.kill('SIGKILL');
    await first.child.exited;

    const second = await s.start(['--on-stop', 'drain']);
    expect(new URL(second.url).port).not.toBe(new URL(first.url).port);
    const secondBase = (JSON.parse(readFileSync(join(s.dataDir, 'matchmaker.json'), 'utf8')) as { reportBase: string }).reportBase;
    expect(secondBase).not.toBe(firstBase);
    expect(await channelUp(second.url, created.gameId)).toBe(true);
    // Drained with the server this time: the game ends, its record goes.
    second.child.kill('SIGTERM');
    expect(await Promise.race([second.child.exited, Bun.sleep(8000).then(() => 'hung' as const)])).toBe(0);
    expect(s.records()).toEqual([]);
  }, 40_000);
});
