/**
 * The compiled binary, as a self-hoster runs it: started from an empty directory with an empty environment, it
 * serves the API and its Swagger page with no CDN, starts embedded game workers, and `huddle bot` processes (the
 * same binary) play a whole game against it over UDP. SIGTERM drains and exits 0. With `--launcher process` each
 * game is the binary itself run as `huddle game`.
 *
 * Runs only when HUDDLE_BINARY names a built binary: `.ci/run` builds it with `npm run build` and sets it.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortRange, portIsFree, readyUrl } from '../matchmaker/support/env.ts';
import { collectBotLines } from '../support/bot-lines.ts';

const binary = process.env.HUDDLE_BINARY;
const dir = mkdtempSync(join(tmpdir(), 'huddle-binary-'));
const children: Bun.Subprocess[] = [];
/** Game processes (`--launcher process`): detached, so they are killed here by pid. */
const pids: number[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `huddle bot … --json` and collects its JSON lines; `next(event)` waits for one. */
function bot(url: string, args: string[]) {
  const child = Bun.spawn([binary!, 'bot', '--server', url, '--json', '--timeout', '60', ...args], { cwd: dir, env: {}, stdout: 'pipe', stderr: 'pipe' });
  children.push(child);
  return { ...collectBotLines(child.stdout), exited: child.exited, stderr: () => new Response(child.stderr).text() };
}

describe.skipIf(!binary)('the compiled binary', () => {
  test('serves the API and an offline Swagger page, hosts a whole game of bots, frees the slot, drains on SIGTERM', async () => {
    expect(existsSync(binary!)).toBe(true);
    const runDir = mkdtempSync(join(dir, 'run-'));
    expect(readdirSync(runDir)).toEqual([]);
    const ports = await freePortRange(1);
    const server = Bun.spawn(
      [binary!, '--port', '0', '--host', '127.0.0.1', '--game-ports', `${ports.first}-${ports.last}`, '--max-games', '1', '--round-seconds', '2', '--log-format', 'json'],
      { cwd: runDir, env: {}, stdout: 'pipe', stderr: 'pipe' },
    );
    children.push(server);
    const url = (await readyUrl(server.stdout)).replace('0.0.0.0', '127.0.0.1');

    // The Swagger page and its script come from the binary itself, not a CDN.
    const page = await (await fetch(`${url}/swagger`)).text();
    expect(page).toContain('src="/swagger/assets/api-reference.js"');
    const script = await fetch(`${url}/swagger/assets/api-reference.js`);
    expect(script.status).toBe(200);
    expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000);
    expect(((await (await fetch(`${url}/swagger/json`)).json()) as { paths: object }).paths).toHaveProperty('/api/games');

    // A host bot creates the game and waits for three friends before starting on hard.
    const host = bot(url, ['--name', 'host', '--create', '--start', 'hard', '--start-when', '4', '--chat', 'hi all']);
    const created = await host.next('created');
    const gameId = created.gameId!;
    const status = async () => (await (await fetch(`${url}/api/games/${gameId}`)).json()) as { state: string; players: number };
    await host.next('connected');
    expect((await status()).state).toBe('lobby');

    const guests = ['ann', 'bob', 'cy'].map((name) => bot(url, ['--name', name, '--join', created.passcode!]));
    // The countdown reaches the bots only after the matchmaker acknowledged the start report.
    await host.next('started');
    expect((await status()).state).toBe('in_progress');

    const everyone = [host, ...guests];
    const codes = await Promise.all(everyone.map((b) => b.exited));
    expect(codes, (await Promise.all(everyone.map((b) => b.stderr()))).join('\n')).toEqual([0, 0, 0, 0]);
    for (const b of everyone) {
      const results = b.lines.find((l) => l.event === 'results');
      expect(results?.scores?.map((s) => s.name).sort()).toEqual(['ann', 'bob', 'cy', 'host']);
    }

    // Results are stored; the only slot and its port come back.
    const results = (await (await fetch(`${url}/api/games/${gameId}/results`)).json()) as { difficulty: string; players: { name: string; score: number }[] };
    expect(results.difficulty).toBe('hard');
    expect(results.players).toHaveLength(4);
    const deadline = Date.now() + 5000;
    while ((await status()).state !== 'finished' && Date.now() < deadline) await Bun.sleep(50);
    expect((await status()).state).toBe('finished');
    let again = await fetch(`${url}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"next"}' });
    for (let i = 0; again.status === 503 && i < 50; i++) {
      await Bun.sleep(100);
      again = await fetch(`${url}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"next"}' });
    }
    expect(again.status).toBe(201);
    const board = (await (await fetch(`${url}/api/leaderboard`)).json()) as { hard: unknown[] };
    expect(board.hard).toHaveLength(4);

    // SIGTERM drains the live game and exits cleanly; its port is free afterwards.
    server.kill('SIGTERM');
    expect(await Promise.race([server.exited, Bun.sleep(10_000).then(() => 'timeout')])).toBe(0);
    expect(await portIsFree(ports.first)).toBe(true);
    expect(readdirSync(runDir)).toContain('huddle-data');
  }, 90_000);

  test('--launcher process: each game is the binary itself as `huddle game`, ready for a bot to join; SIGTERM detaches it', async () => {
    const runDir = mkdtempSync(join(dir, 'run-'));
    const ports = await freePortRange(1);
    const server = Bun.spawn(
      [binary!, '--port', '0', '--host', '127.0.0.1', '--game-ports', `${ports.first}-${ports.last}`, '--max-games', '1', '--launcher', 'process', '--log-format', 'json'],
      { cwd: runDir, env: {}, stdout: 'pipe', stderr: 'pipe' },
    );
    children.push(server);
    const url = (await readyUrl(server.stdout)).replace('0.0.0.0', '127.0.0.1');
    const created = await fetch(`${url}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"host"}' });
    expect(created.status).toBe(201);
    const { gameId, passcode } = (await created.json()) as { gameId: string; passcode: string };
    const record = JSON.parse(readFileSync(join(runDir, 'huddle-data', 'games', `${gameId}.json`), 'utf8')) as { process: { pid: number } };
    const pid = record.process.pid;
    pids.push(pid);
    // The game is the binary itself, and its argv is just that: the secrets are in its environment only.
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)).toEqual([binary!, 'game']);

    const guest = bot(url, ['--name', 'ann', '--join', passcode, '--timeout', '10']);
    expect((await guest.next('joined')).gameId).toBe(gameId);
    await guest.next('connected');
    expect(((await (await fetch(`${url}/api/games/${gameId}`)).json()) as { state: string }).state).toBe('lobby');

    // SIGTERM: --on-stop auto detaches process games; the game plays on for the next start.
    server.kill('SIGTERM');
    expect(await Promise.race([server.exited, Bun.sleep(10_000).then(() => 'timeout')])).toBe(0);
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    process.kill(pid, 'SIGKILL');
  }, 60_000);
});
