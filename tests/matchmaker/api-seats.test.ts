/**
 * The seat routes over HTTP (docs/SEATS.md "HTTP"): answer shapes, every error status in the JSON shape, the
 * shared guess budget, status `spectators`/`next`, results `outcome`/`left`, the Swagger document, and that no
 * rejoin or watch key ever reaches a log line, a status answer or /metrics.
 */
import { describe, expect, test } from 'bun:test';
import { createLogger } from '../../src/log.ts';
import { json, testApp } from './support/app.ts';
import { type Answer, call, expectError } from './support/http.ts';

const TICKET = ['connectToken', 'expiresAt', 'gameId', 'name', 'port', 'relayUrl', 'role', 'serverAddress'];
const SEAT_TICKET = [...TICKET, 'inviteUrl', 'passcode', 'rejoinKey', 'watchKey'].sort();

interface Seat {
  gameId: string;
  passcode: string;
  rejoinKey: string;
  watchKey: string;
  name: string;
  role: string;
  relayUrl: string;
}

const post = (t: ReturnType<typeof testApp>, path: string, body: unknown, client = '192.0.2.1') =>
  call(t.app, json('POST', path, body, { 'x-test-client': client }));

async function create(t: ReturnType<typeof testApp>, name = 'Ada', extra: Record<string, unknown> = {}): Promise<Seat> {
  const result = await post(t, '/api/games', { name, ...extra });
  expect(result.status).toBe(201);
  return result.body as unknown as Seat;
}

async function joined(t: ReturnType<typeof testApp>, passcode: string, name: string): Promise<Seat> {
  const result = await post(t, '/api/games/join', { passcode, name });
  expect(result.status).toBe(200);
  return result.body as unknown as Seat;
}

function report(t: ReturnType<typeof testApp>, gameId: string, body: unknown): Promise<Answer> {
  const token = t.launcher.byId(gameId).spec.env.reportToken;
  return call(t.app, json('POST', `/internal/games/${gameId}/report`, body, { authorization: `Bearer ${token}` }));
}

async function playRound(t: ReturnType<typeof testApp>, gameId: string, results: unknown[] = [{ name: 'Ada', score: 4 }]) {
  expect((await report(t, gameId, { status: 'in_progress', difficulty: 'normal' })).status).toBe(200);
  expect((await report(t, gameId, { status: 'finished', results })).status).toBe(200);
}

describe('seat routes: answer shapes', () => {
  test('create, join, rejoin, watch and again answer exactly their documented fields', async () => {
    const t = testApp();
    const host = await create(t, 'Ada', { maxPlayers: 4 });
    expect(Object.keys(host).sort()).toEqual([...SEAT_TICKET, 'maxPlayers'].sort());
    expect(host).toMatchObject({ name: 'Ada', role: 'player', maxPlayers: 4 });

    const bob = await joined(t, host.passcode.toLowerCase(), 'ada');
    expect(Object.keys(bob).sort()).toEqual(SEAT_TICKET);
    expect(bob).toMatchObject({ gameId: host.gameId, name: 'ada (2)', role: 'player', passcode: host.passcode });

    const rejoined = await post(t, '/api/games/rejoin', { rejoinKey: bob.rejoinKey });
    expect(rejoined.status).toBe(200);
    expect(Object.keys(rejoined.body).sort()).toEqual(SEAT_TICKET);
    expect(rejoined.body).toMatchObject({ gameId: host.gameId, name: 'ada (2)', role: 'player', passcode: host.passcode, rejoinKey: bob.rejoinKey, watchKey: bob.watchKey });
    expect(rejoined.body.relayUrl).toBe(`ws://localhost/relay?game=${host.gameId}`);

    const watcher = await post(t, '/api/games/watch', { watchKey: bob.watchKey, name: 'Cy' });
    expect(watcher.status).toBe(200);
    expect(Object.keys(watcher.body).sort()).toEqual([...TICKET, 'watchKey'].sort());
    expect(watcher.body).toMatchObject({ gameId: host.gameId, name: 'Cy', role: 'spectator', watchKey: bob.watchKey });

    await playRound(t, host.gameId);
    const again = await post(t, '/api/games/again', { rejoinKey: host.rejoinKey });
    expect(again.status).toBe(201);
    expect(Object.keys(again.body).sort()).toEqual(SEAT_TICKET);
    expect(again.body).toMatchObject({ name: 'Ada', role: 'player', rejoinKey: host.rejoinKey, watchKey: host.watchKey });
    expect(again.body.gameId).not.toBe(host.gameId);
    expect(again.body.relayUrl).toBe(`ws://localhost/relay?game=${String(again.body.gameId)}`);
  });

  test('status: spectators and next; results: outcome and left', async () => {
    const t = testApp();
    const host = await create(t);
    const status = await call(t.app, json('GET', `/api/games/${host.gameId}`));
    expect(Object.keys(status.body).sort()).toEqual(['createdAt', 'difficulty', 'endReason', 'gameId', 'maxPlayers', 'next', 'players', 'spectators', 'state']);
    expect(status.body).toMatchObject({ spectators: 0, next: null });
    t.launcher.byId(host.gameId).emit({ type: 'players', count: 1, names: ['Ada'], spectators: 3 });
    expect((await call(t.app, json('GET', `/api/games/${host.gameId}`))).body).toMatchObject({ players: 1, spectators: 3 });

    await playRound(t, host.gameId, [{ name: 'Ada', score: 4 }, { name: 'Bob', score: 9, left: true }]);
    const results = await call(t.app, json('GET', `/api/games/${host.gameId}/results`));
    expect(results.body).toMatchObject({
      outcome: 'finished',
      players: [
        { rank: 1, name: 'Bob', score: 9, left: true },
        { rank: 2, name: 'Ada', score: 4, left: false },
      ],
    });
    const again = await post(t, '/api/games/again', { rejoinKey: host.rejoinKey });
    expect((await call(t.app, json('GET', `/api/games/${host.gameId}`))).body.next).toEqual({ state: 'ready', gameId: again.body.gameId, message: null });
  });

  test('an abandoned round: results say so, the leaderboard leaves it out, again is refused', async () => {
    const t = testApp();
    const host = await create(t, 'alice');
    await report(t, host.gameId, { status: 'in_progress', difficulty: 'hard' });
    const ack = await report(t, host.gameId, { status: 'abandoned', results: [{ name: 'alice', score: 0, left: true }] });
    expect(ack.body).toEqual({ gameId: host.gameId, state: 'finished' });
    expect((await call(t.app, json('GET', `/api/games/${host.gameId}`))).body).toMatchObject({ state: 'finished', endReason: 'abandoned' });
    expect((await call(t.app, json('GET', `/api/games/${host.gameId}/results`))).body).toMatchObject({
      outcome: 'abandoned',
      players: [{ rank: 1, name: 'alice', score: 0, left: true }],
    });
    expect((await call(t.app, json('GET', '/api/leaderboard'))).body).toEqual({ easy: [], normal: [], hard: [] });
    expectError(await post(t, '/api/games/again', { rejoinKey: host.rejoinKey }), 409, 'not_finished');
  });
});

describe('seat routes: errors', () => {
  test('400 invalid_passcode for a wrong length, never spending the guess budget', async () => {
    const t = testApp({ perAddress: 2, global: 50 });
    const game = await create(t);
    for (let i = 0; i < 10; i++) {
      const result = await post(t, '/api/games/join', { passcode: 'ABC', name: 'x' }, '198.51.100.1');
      expectError(result, 400, 'invalid_passcode');
      expect(result.body.error?.message).toBe('A passcode has 6 characters');
    }
    expect((await post(t, '/api/games/join', { passcode: game.passcode, name: 'x' }, '198.51.100.1')).status).toBe(200);
    const metrics = (await call(t.app, json('GET', '/metrics'))).text;
    expect(metrics).toContain('huddle_join_attempts_total{outcome="invalid_passcode"} 10\n');
    expect(metrics).toContain('huddle_join_attempts_total{outcome="wrong_passcode"} 0\n');
  });

  test('unknown rejoin and watch keys spend the same budget as wrong passcodes; then 429 for passcodes and wrong keys, never for a right key', async () => {
    const t = testApp({ perAddress: 4, global: 50 });
    const game = await create(t);
    const guesser = '198.51.100.9';
    expectError(await post(t, '/api/games/join', { passcode: 'ZZZZZZ', name: 'x' }, guesser), 404, 'wrong_passcode');
    expectError(await post(t, '/api/games/rejoin', { rejoinKey: 'A'.repeat(24) }, guesser), 404, 'unknown_seat');
    expectError(await post(t, '/api/games/watch', { watchKey: 'B'.repeat(24), name: 'w' }, guesser), 404, 'unknown_game');
    expectError(await post(t, '/api/games/again', { rejoinKey: 'C'.repeat(24) }, guesser), 404, 'unknown_seat');
    for (const [path, body] of [
      ['/api/games/rejoin', { rejoinKey: 'D'.repeat(24) }],
      ['/api/games/watch', { watchKey: 'E'.repeat(24), name: 'w' }],
      ['/api/games/join', { passcode: game.passcode, name: 'x' }],
      ['/api/games/again', { rejoinKey: 'F'.repeat(24) }],
    ] as const) {
      const limited = await post(t, path, body, guesser);
      expectError(limited, 429, 'rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // A dropped player behind the guesser's address (or a botnet that spent the budget) still gets their seat back.
    expect((await post(t, '/api/games/rejoin', { rejoinKey: game.rejoinKey }, guesser)).status).toBe(200);
    expect((await post(t, '/api/games/watch', { watchKey: game.watchKey, name: 'w' }, guesser)).status).toBe(200);
    expectError(await post(t, '/api/games/again', { rejoinKey: game.rejoinKey }, guesser), 409, 'not_finished');
    // Another address is not held back, and a right key never spends budget.
    for (let i = 0; i < 6; i++) expect((await post(t, '/api/games/rejoin', { rejoinKey: game.rejoinKey }, '198.51.100.10')).status).toBe(200);
    const metrics = (await call(t.app, json('GET', '/metrics'))).text;
    expect(metrics).toContain('huddle_seat_requests_total{route="rejoin",outcome="ok"} 7\n');
    expect(metrics).toContain('huddle_seat_requests_total{route="rejoin",outcome="unknown_key"} 1\n');
    expect(metrics).toContain('huddle_seat_requests_total{route="rejoin",outcome="rate_limited"} 1\n');
  });

  test('409 game_over, spectators_full, not_finished; 403 not_host; 422 for malformed keys', async () => {
    const t = testApp({ settings: { maxSpectators: 1 } });
    const host = await create(t);
    const bob = await joined(t, host.passcode, 'Bob');
    expectError(await post(t, '/api/games/again', { rejoinKey: host.rejoinKey }), 409, 'not_finished');
    t.launcher.byId(host.gameId).emit({ type: 'players', count: 2, spectators: 1 });
    expectError(await post(t, '/api/games/watch', { watchKey: host.watchKey, name: 'w' }), 409, 'spectators_full');
    await playRound(t, host.gameId);
    expectError(await post(t, '/api/games/again', { rejoinKey: bob.rejoinKey }), 403, 'not_host');
    expectError(await post(t, '/api/games/rejoin', { rejoinKey: bob.rejoinKey }), 409, 'game_over');
    expectError(await post(t, '/api/games/watch', { watchKey: bob.watchKey, name: 'w' }), 409, 'game_over');
    for (const body of [{}, { rejoinKey: 'short' }, { rejoinKey: `${'A'.repeat(23)}=` }, { rejoinKey: 7 }]) {
      expectError(await post(t, '/api/games/rejoin', body), 422, 'validation_failed');
    }
    expectError(await post(t, '/api/games/watch', { watchKey: host.watchKey }), 422, 'validation_failed');
    expectError(await post(t, '/api/games/watch', { watchKey: host.watchKey, name: '\u0007' }), 400, 'invalid_name');
  });

  test('503 when no slot is free for the next game; the old game tells everyone', async () => {
    const t = testApp({ settings: { maxGames: 1 } });
    const host = await create(t);
    await playRound(t, host.gameId);
    const full = await post(t, '/api/games/again', { rejoinKey: host.rejoinKey });
    expectError(full, 503, 'capacity');
    expect((await call(t.app, json('GET', `/api/games/${host.gameId}`))).body.next).toEqual({
      state: 'failed',
      gameId: null,
      message: 'No free game slot on this server right now; try again in a minute.',
    });
  });
});

describe('seat routes: documentation', () => {
  type Schema = { type?: string; anyOf?: unknown[]; properties?: Record<string, Schema>; items?: Schema };
  type Operation = {
    description?: string;
    parameters?: { name: string; in: string }[];
    requestBody?: { content: Record<string, { schema: Schema }> };
    responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
  };

  async function spec() {
    const t = testApp();
    return (await call(t.app, json('GET', '/swagger/json'))).body as unknown as { paths: Record<string, Record<string, Operation>> };
  }

  test('integers are integers: maxPlayers, port and counts are not "string or integer"', async () => {
    const { paths } = await spec();
    const create = paths['/api/games']?.post;
    expect(create?.requestBody?.content['application/json']?.schema.properties?.maxPlayers).toMatchObject({ type: 'integer', minimum: 1, maximum: 8 });
    const answer = create?.responses['201']?.content?.['application/json']?.schema.properties;
    expect(answer?.maxPlayers?.type).toBe('integer');
    expect(answer?.port?.type).toBe('integer');
    const status = paths['/api/games/{id}']?.get?.responses['200']?.content?.['application/json']?.schema.properties;
    for (const field of ['players', 'spectators', 'maxPlayers']) expect(status?.[field]?.type).toBe('integer');
    // Nothing anywhere in the document is Elysia's coercing string-or-integer (the leaderboard's query included).
    expect(JSON.stringify(paths).split('"format":"integer"').length - 1).toBe(0);
    expect(paths['/api/leaderboard']?.get?.parameters).toEqual([
      expect.objectContaining({ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 10 } }),
    ]);
  });

  test('the relay and the new routes are documented, with descriptions and examples', async () => {
    const { paths } = await spec();
    const relay = paths['/relay']?.get;
    expect(relay?.parameters?.map((p) => `${p.in}:${p.name}`)).toContain('query:game');
    for (const code of ['4400', '4408', '4410', '4429', '4503']) expect(relay?.description).toContain(code);
    for (const path of ['/api/games/rejoin', '/api/games/watch', '/api/games/again']) {
      const operation = paths[path]?.post;
      expect(operation?.description?.length ?? 0).toBeGreaterThan(100);
      expect(JSON.stringify(operation?.requestBody)).toContain('examples');
    }
    // A 409 on rejoin names its code; the 404s name theirs.
    expect(JSON.stringify(paths['/api/games/rejoin']?.post?.responses['404'])).toContain('unknown_seat');
    expect(JSON.stringify(paths['/api/games/watch']?.post?.responses['409'])).toContain('spectators_full');
    expect(JSON.stringify(paths['/api/games/again']?.post?.responses['403'])).toContain('not_host');
    expect(JSON.stringify(paths['/api/games/join']?.post?.responses['400'])).toContain('invalid_passcode');
  });
});

describe('seat routes: secrets', () => {
  test('rejoin and watch keys never reach a log line, a status answer or /metrics', async () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'json', write: (line) => lines.push(line), minLevel: 'debug' });
    const t = testApp({ log, perAddress: 100 });
    const host = await create(t, 'Ada');
    const bob = await joined(t, host.passcode, 'Bob');
    const keys = [host.rejoinKey, host.watchKey, bob.rejoinKey, bob.watchKey];
    const publicTexts: string[] = [];
    const status = async (gameId: string) => publicTexts.push((await call(t.app, json('GET', `/api/games/${gameId}`))).text);

    await post(t, '/api/games/rejoin', { rejoinKey: bob.rejoinKey });
    const watcher = await post(t, '/api/games/watch', { watchKey: bob.watchKey, name: 'Cy' });
    keys.push(String(watcher.body.watchKey));
    // Refusals log too: with the key's own text in the body they must still say nothing of it.
    await post(t, '/api/games/rejoin', { rejoinKey: bob.watchKey });
    await post(t, '/api/games/watch', { watchKey: bob.rejoinKey, name: 'Cy' });
    await status(host.gameId);
    await playRound(t, host.gameId);
    await post(t, '/api/games/again', { rejoinKey: bob.rejoinKey });
    const again = await post(t, '/api/games/again', { rejoinKey: host.rejoinKey });
    keys.push(String(again.body.rejoinKey), String(again.body.watchKey));
    await post(t, '/api/games/rejoin', { rejoinKey: bob.rejoinKey });
    await status(host.gameId);
    await status(String(again.body.gameId));
    publicTexts.push((await call(t.app, json('GET', `/api/games/${host.gameId}/results`))).text);
    publicTexts.push((await call(t.app, json('GET', '/metrics'))).text);
    publicTexts.push((await call(t.app, json('GET', '/api/leaderboard'))).text);

    expect(lines.length).toBeGreaterThan(10);
    expect(lines.some((line) => line.includes('rejoin.ok'))).toBe(true);
    const haystack = [...lines, ...publicTexts].join('\n');
    for (const key of keys) {
      expect(key).toMatch(/^[A-Za-z0-9_-]{24}$/);
      const bytes = Buffer.from(key, 'base64url');
      for (const form of [key, bytes.toString('hex'), bytes.toString('base64')]) expect(haystack.includes(form)).toBe(false);
    }
  });
});
