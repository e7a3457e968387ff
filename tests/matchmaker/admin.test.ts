/**
 * The admin API and page (`--admin-token`): 404 everywhere without the setting, 401 for a missing or wrong token
 * (logged at most a few lines a minute however many arrive), the live games with their players, spectators, ping,
 * tick health and age, ending a game (reason `admin_ended`, its worker told in words), and no secret in any answer.
 */
import { describe, expect, test } from 'bun:test';
import { parseConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { LineSampler, UNAUTHORIZED_LINES_PER_MINUTE } from '../../src/matchmaker/admin/service.ts';
import { createApp } from '../../src/matchmaker/app.ts';
import { JoinLimiter } from '../../src/matchmaker/rate-limit.ts';
import { ADMIN_END_MESSAGE, GameRegistry } from '../../src/matchmaker/registry.ts';
import { ResultsStore } from '../../src/matchmaker/results-store.ts';
import { json } from './support/app.ts';
import { FakeLauncher } from './support/fake-launcher.ts';
import { type Answer, call, expectError } from './support/http.ts';
import { testSettings } from './support/registry.ts';

const TOKEN = 'operator-token-0123456789abcdef';

function adminApp(adminToken: string | undefined, lines: string[] = []) {
  const launcher = new FakeLauncher();
  const store = new ResultsStore(':memory:');
  const log = createLogger({ format: 'json', write: (line) => lines.push(line) });
  const clock = { now: 1_000_000 };
  const registry = new GameRegistry({ settings: testSettings(), launcher, store, reportUrl: (id) => `http://127.0.0.1:9/internal/games/${id}/report`, log, now: () => clock.now });
  const app = createApp({
    config: { maxPlayers: 8, maxBodyBytes: 4096, createToken: undefined, joinFailuresPerAddress: 5, joinFailuresGlobal: 50, ...(adminToken ? { adminToken } : {}) },
    registry,
    store,
    log,
    limiter: new JoinLimiter({ perAddressPerMinute: 5, globalPerMinute: 50, now: () => 0 }),
    clientAddress: (request) => request.headers.get('x-test-client') ?? '192.0.2.1',
  });
  return { app, launcher, registry, clock, lines };
}

type App = ReturnType<typeof adminApp>;
const bearer = (token = TOKEN) => ({ authorization: `Bearer ${token}` });
const list = (t: App, headers: Record<string, string> = bearer()) => call(t.app, json('GET', '/api/admin/games', undefined, headers));
const end = (t: App, gameId: string, headers: Record<string, string> = bearer()) => call(t.app, json('POST', `/api/admin/games/${gameId}/end`, {}, headers));
const post = (t: App, path: string, body: unknown) => call(t.app, json('POST', path, body));

describe('admin: the setting', () => {
  test('--admin-token / HUDDLE_ADMIN_TOKEN: unset by default; too short or with spaces is a one-line error', () => {
    const unset = parseConfig([], {});
    expect(unset.ok && unset.config.adminToken).toBeUndefined();
    const set = parseConfig([], { HUDDLE_ADMIN_TOKEN: TOKEN });
    expect(set.ok && set.config.adminToken).toBe(TOKEN);
    const short = parseConfig(['--admin-token', 'secret'], {});
    expect(short.ok).toBe(false);
    if (!short.ok) expect(short.error).toBe('invalid --admin-token "secret": must be at least 16 characters (e.g. openssl rand -base64 24)');
    const spaced = parseConfig(['--admin-token=has a space in it 123'], {});
    expect(!spaced.ok && spaced.error).toContain('must not contain spaces');
  });

  test('without it, /admin and every admin route answer 404, with or without a token', async () => {
    const t = adminApp(undefined);
    const game = (await post(t, '/api/games', { name: 'Ada' })).body;
    const page = await call(t.app, json('GET', '/admin'));
    expect(page.status).toBe(404);
    expectError(await list(t), 404, 'not_found');
    expectError(await list(t, {}), 404, 'not_found');
    expectError(await end(t, String(game.gameId)), 404, 'not_found');
    // Not even a body is read: a bodiless POST is 404 too, not 415.
    expectError(await call(t.app, json('POST', `/api/admin/games/${String(game.gameId)}/end`, undefined, bearer())), 404, 'not_found');
    // Not on Swagger either.
    const doc = (await call(t.app, json('GET', '/swagger/json'))).body as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.includes('admin'))).toEqual([]);
    // Nothing was ended.
    expect((await call(t.app, json('GET', `/api/games/${String(game.gameId)}`))).body.state).toBe('lobby');
  });
});

describe('admin: Swagger', () => {
  test('with the setting, both routes are documented under the adminToken bearer scheme with every status', async () => {
    const t = adminApp(TOKEN);
    const doc = (await call(t.app, json('GET', '/swagger/json'))).body as {
      paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown>; requestBody?: unknown }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.components.securitySchemes.adminToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    const games = doc.paths['/api/admin/games']?.get;
    const endGame = doc.paths['/api/admin/games/{id}/end']?.post;
    expect(games?.security).toEqual([{ adminToken: [] }]);
    expect(endGame?.security).toEqual([{ adminToken: [] }]);
    expect(Object.keys(games?.responses ?? {}).sort()).toEqual(['200', '401']);
    expect(Object.keys(endGame?.responses ?? {}).sort()).toEqual(['200', '400', '401', '404', '409', '413', '415', '422']);
    expect(endGame?.requestBody).toBeDefined();
    // The page is not an API route.
    expect(doc.paths['/admin']).toBeUndefined();
  });
});

describe('admin: the token', () => {
  test('401 JSON with WWW-Authenticate for a missing, wrong, wrong-length or non-bearer token; the right one passes', async () => {
    const t = adminApp(TOKEN);
    for (const headers of [{}, bearer('x'), bearer(`${TOKEN}x`), bearer(TOKEN.replace(/.$/, 'g')), { authorization: `Basic ${btoa(`admin:${TOKEN}`)}` }]) {
      const answer = await list(t, headers);
      expectError(answer, 401, 'unauthorized');
      expect(answer.headers.get('www-authenticate')).toContain('Bearer');
      expect(answer.text).not.toContain(TOKEN);
    }
    expectError(await end(t, 'q3JmX0dWm2b6yC1l8b1Q9A', bearer('wrong-token-wrong-token')), 401, 'unauthorized');
    expect((await list(t)).status).toBe(200);
  });

  test('a flood of wrong tokens writes at most a few lines a minute, each with how many were held back', async () => {
    const lines: string[] = [];
    const t = adminApp(TOKEN, lines);
    for (let i = 0; i < 500; i++) expect((await list(t, bearer(`guess-${i}-guess-guess-guess`))).status).toBe(401);
    const written = lines.filter((l) => l.includes('admin.unauthorized'));
    expect(written.length).toBe(UNAUTHORIZED_LINES_PER_MINUTE);
    for (const line of written) expect(line).not.toContain('guess-');

    // The sampler itself, on a hand-driven clock: a new minute writes again and says how many were held.
    const clock = { now: 0 };
    const sampler = new LineSampler(3, 60_000, () => clock.now);
    const admitted = Array.from({ length: 100 }, () => sampler.admit());
    expect(admitted.filter((a) => a !== undefined)).toEqual([0, 0, 0]);
    clock.now = 60_000;
    expect(sampler.admit()).toBe(97);
    expect(sampler.admit()).toBe(0);
  });
});

const TICK = {
  ticks: 22,
  missed: 0,
  datagrams: 300,
  lateness: { p50Ms: 0.05, p99Ms: 0.4, maxMs: 1.5, counts: [20, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
  work: { p50Ms: 0.3, p99Ms: 0.9, maxMs: 0.9, counts: [0, 12, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
};

describe('admin: live games', () => {
  test('state, players (names, connected, ping), spectators, tick health and age', async () => {
    const t = adminApp(TOKEN);
    const ada = (await post(t, '/api/games', { name: 'Ada', maxPlayers: 4 })).body;
    const gameId = String(ada.gameId);
    expect((await post(t, '/api/games/join', { passcode: String(ada.passcode), name: 'Bob' })).status).toBe(200);

    // Before the worker has said anything about its seats: the names from the seat book, connection unknown.
    let games = (await list(t)).body.games as Record<string, unknown>[];
    expect(games).toHaveLength(1);
    expect(games[0]).toMatchObject({
      gameId,
      name: 'Ada',
      state: 'lobby',
      maxPlayers: 4,
      seatsTaken: 2,
      players: [
        { name: 'Ada', connected: null, pingMs: null },
        { name: 'Bob', connected: null, pingMs: null },
      ],
      spectators: 0,
      tick: null,
      ending: false,
    });

    const worker = t.launcher.byId(gameId);
    worker.emit({ type: 'players', count: 2, names: ['Ada', 'Bob'], spectators: 1 });
    worker.emit({
      type: 'heartbeat',
      players: 2,
      phase: 'lobby',
      tick: TICK,
      seats: [
        { name: 'Ada', connected: true, pingMs: 14 },
        { name: 'Bob', connected: false, pingMs: 0 },
      ],
    });
    t.clock.now += 95_000;
    games = (await list(t)).body.games as Record<string, unknown>[];
    expect(games[0]).toMatchObject({
      state: 'lobby',
      players: [
        { name: 'Ada', connected: true, pingMs: 14 },
        { name: 'Bob', connected: false, pingMs: 0 },
      ],
      spectators: 1,
      tick: TICK,
      ageSeconds: 95,
      difficulty: null,
    });
    expect(Date.parse(String(games[0]?.createdAt))).toBe(1_000_000);
    expect(Object.keys(games[0] ?? {}).sort()).toEqual(
      ['ageSeconds', 'createdAt', 'difficulty', 'ending', 'gameId', 'maxPlayers', 'name', 'players', 'seatsTaken', 'spectators', 'state', 'tick'].sort(),
    );

    // A game mid-round shows as in_progress with its difficulty; a game whose worker is gone is not listed.
    const token = worker.spec.env.reportToken;
    await call(t.app, json('POST', `/internal/games/${gameId}/report`, { status: 'in_progress', difficulty: 'hard' }, { authorization: `Bearer ${token}` }));
    const eve = (await post(t, '/api/games', { name: 'Eve' })).body;
    t.launcher.byId(String(eve.gameId)).exit('crashed');
    games = (await list(t)).body.games as Record<string, unknown>[];
    expect(games.map((g) => [g.gameId, g.state, g.difficulty])).toEqual([[gameId, 'in_progress', 'hard']]);
  });

  test('End game: the worker is told in words, the game ends with admin_ended, a second end is 409, an unknown one 404', async () => {
    const t = adminApp(TOKEN);
    const ada = (await post(t, '/api/games', { name: 'Ada' })).body;
    const gameId = String(ada.gameId);
    const worker = t.launcher.byId(gameId);
    await call(t.app, json('POST', `/internal/games/${gameId}/report`, { status: 'in_progress', difficulty: 'normal' }, { authorization: `Bearer ${worker.spec.env.reportToken}` }));

    const ended = await end(t, gameId);
    expect(ended.status).toBe(200);
    expect(ended.body).toEqual({ gameId, state: 'in_progress', endReason: 'admin_ended' });
    expect(worker.stops).toEqual([ADMIN_END_MESSAGE]);
    // The players' pages ask the public status why their game closed: it says so at once.
    expect((await call(t.app, json('GET', `/api/games/${gameId}`))).body.endReason).toBe('admin_ended');
    await Bun.sleep(0); // the fake worker exits on the next microtask, as a real one does once it has told its players
    const status = (await call(t.app, json('GET', `/api/games/${gameId}`))).body;
    expect(status).toMatchObject({ state: 'finished', endReason: 'admin_ended' });
    expect((await list(t)).body.games).toEqual([]);
    expectError(await end(t, gameId), 409, 'game_over');
    expectError(await end(t, 'q3JmX0dWm2b6yC1l8b1Q9A'), 404, 'not_found');
    expectError(await end(t, 'x'.repeat(65)), 422, 'validation_failed');
    // The rejoin key of an ended game opens nothing.
    expectError(await post(t, '/api/games/rejoin', { rejoinKey: String(ada.rejoinKey) }), 409, 'game_over');
  });
});

describe('admin: no secret ever shown', () => {
  test('no answer (list, end, errors, page) carries a private key, reporting token, passcode, rejoin, watch or invite key', async () => {
    const t = adminApp(TOKEN);
    const secrets: string[] = [TOKEN];
    const games = [];
    for (const name of ['Ada', 'Eve']) {
      const host = (await post(t, '/api/games', { name })).body;
      const friend = (await post(t, '/api/games/join', { passcode: String(host.passcode), name: `${name}'s friend` })).body;
      games.push(String(host.gameId));
      const env = t.launcher.byId(String(host.gameId)).spec.env;
      secrets.push(Buffer.from(env.privateKey).toString('base64'), Buffer.from(env.privateKey).toString('base64url'), Buffer.from(env.privateKey).toString('hex'), env.reportToken, String(host.passcode));
      for (const seat of [host, friend]) {
        secrets.push(String(seat.rejoinKey), String(seat.watchKey), new URL(String(seat.inviteUrl)).searchParams.get('invite') ?? 'missing', String(seat.connectToken));
      }
      t.launcher.byId(String(host.gameId)).emit({ type: 'heartbeat', players: 2, phase: 'lobby', seats: [{ name, connected: true, pingMs: 3 }] });
    }
    const answers: Answer[] = [
      await list(t),
      await list(t, bearer('wrong-wrong-wrong-wrong')),
      await list(t, {}),
      await call(t.app, json('GET', '/admin')),
      await end(t, games[0] ?? ''),
      await end(t, games[0] ?? ''),
      await end(t, 'q3JmX0dWm2b6yC1l8b1Q9A'),
      await list(t),
    ];
    expect(answers[0]?.status).toBe(200);
    expect(answers[3]?.status).toBe(200);
    for (const answer of answers) {
      const text = `${answer.text}\n${[...answer.headers.entries()].join('\n')}`;
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });

  test('the page is the login form, may not be framed and sends no Referer', async () => {
    const t = adminApp(TOKEN);
    const page = await call(t.app, json('GET', '/admin'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.text).toContain('data-testid="token-input"');
    expect(page.text).toContain('type="password"');
    const script = /src="([^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const asset = await call(t.app, json('GET', script ?? ''));
    expect(asset.status).toBe(200);
    expect(asset.text).toContain('/api/admin/games');
  });
});
