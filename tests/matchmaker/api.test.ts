import { describe, expect, test } from 'bun:test';
import { testApp, json } from './support/app.ts';
import { call, expectError } from './support/http.ts';

async function createGame(t: ReturnType<typeof testApp>, name = 'Ada', extra: Record<string, unknown> = {}) {
  const result = await call(t.app, json('POST', '/api/games', { name, ...extra }));
  expect(result.status).toBe(201);
  return result.body as { gameId: string; passcode: string; port: number; connectToken: string; relayUrl: string; expiresAt: string };
}

function reportAs(t: ReturnType<typeof testApp>, gameId: string, body: unknown, token = t.launcher.byId(gameId).spec.env.reportToken) {
  return call(t.app, json('POST', `/internal/games/${gameId}/report`, body, { authorization: `Bearer ${token}` }));
}

describe('HTTP API: the happy path', () => {
  test('create → join → status → start report → finish report → results and leaderboard', async () => {
    const t = testApp();
    const game = await createGame(t, 'Ada', { maxPlayers: 4 });
    expect(Object.keys(game).sort()).toEqual([
      'connectToken',
      'expiresAt',
      'gameId',
      'inviteUrl',
      'maxPlayers',
      'name',
      'passcode',
      'port',
      'rejoinKey',
      'relayUrl',
      'role',
      'serverAddress',
      'watchKey',
    ]);
    expect(game.relayUrl).toBe(`ws://localhost/relay?game=${game.gameId}`);
    expect(Buffer.from(game.connectToken, 'base64').length).toBe(2048);

    const joined = await call(t.app, json('POST', '/api/games/join', { passcode: game.passcode.toLowerCase(), name: 'Bob' }));
    expect(joined.status).toBe(200);
    expect(joined.body).toMatchObject({ gameId: game.gameId, port: game.port, serverAddress: `127.0.0.1:${game.port}` });

    t.launcher.byId(game.gameId).emit({ type: 'players', count: 2 });
    const status = await call(t.app, json('GET', `/api/games/${game.gameId}`));
    expect(status.body).toMatchObject({ gameId: game.gameId, state: 'lobby', players: 2, maxPlayers: 4, difficulty: null, endReason: null });

    const started = await reportAs(t, game.gameId, { status: 'in_progress', difficulty: 'hard' });
    expect(started.status).toBe(200);
    expect(started.body).toEqual({ gameId: game.gameId, state: 'in_progress' });
    expect((await call(t.app, json('GET', `/api/games/${game.gameId}`))).body).toMatchObject({ state: 'in_progress', difficulty: 'hard' });

    const finished = await reportAs(t, game.gameId, { status: 'finished', results: [{ name: 'Bob', score: 4 }, { name: 'Ada', score: 11 }] });
    expect(finished.body).toEqual({ gameId: game.gameId, state: 'finished' });

    const results = await call(t.app, json('GET', `/api/games/${game.gameId}/results`));
    expect(results.status).toBe(200);
    expect(results.body).toMatchObject({
      gameId: game.gameId,
      name: 'Ada',
      difficulty: 'hard',
      maxPlayers: 4,
      players: [
        { rank: 1, name: 'Ada', score: 11, left: false },
        { rank: 2, name: 'Bob', score: 4, left: false },
      ],
      outcome: 'finished',
    });
    const board = await call(t.app, json('GET', '/api/leaderboard?limit=1'));
    expect(board.status).toBe(200);
    expect(board.body).toMatchObject({ easy: [], normal: [], hard: [{ rank: 1, name: 'Ada', score: 11, gameId: game.gameId }] });
  });

  test('healthz and metrics', async () => {
    const t = testApp();
    await createGame(t);
    await call(t.app, json('POST', '/api/games/join', { passcode: 'ZZZZZZ', name: 'x' }));
    expect((await call(t.app, json('GET', '/healthz'))).body).toEqual({ status: 'ok', liveGames: 1 });
    const metrics = await call(t.app, json('GET', '/metrics'));
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    for (const line of [
      'huddle_games{state="lobby"} 1',
      'huddle_players_connected 0',
      'huddle_games_started_total 1',
      'huddle_games_finished_total 0',
      'huddle_games_failed_total 0',
      'huddle_worker_start_seconds_count 1',
      'huddle_worker_start_seconds_bucket{le="+Inf"} 1',
      'huddle_join_attempts_total{outcome="wrong_passcode"} 1',
      'huddle_join_attempts_total{outcome="ok"} 0',
    ]) {
      expect(metrics.text).toContain(`${line}\n`);
    }
  });
});

describe('HTTP API: every error is {error: {code, message}} with its status', () => {
  test('400 bad JSON and empty names, 415 non-JSON, 422 schema violations', async () => {
    const t = testApp();
    const raw = (body: string, type = 'application/json') =>
      call(t.app, new Request('http://localhost/api/games', { method: 'POST', headers: { 'content-type': type }, body }));
    expectError(await raw('{"name":'), 400, 'bad_request');
    expectError(await raw('name=ada', 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
    expectError(await call(t.app, json('POST', '/api/games', { name: '\u0000\u0007  ' })), 400, 'invalid_name');
    expectError(await call(t.app, json('POST', '/api/games', {})), 422, 'validation_failed');
    expectError(await call(t.app, json('POST', '/api/games', { name: 'a', maxPlayers: 9 })), 422, 'validation_failed');
    expectError(await call(t.app, json('POST', '/api/games', { name: 'x'.repeat(101) })), 422, 'validation_failed');
    expectError(await call(t.app, json('POST', '/api/games/join', { passcode: 'ABCDEF' })), 422, 'validation_failed');
    expectError(await call(t.app, json('GET', '/api/leaderboard?limit=500')), 422, 'validation_failed');
    expect(t.registry.live).toBe(0);
  });

  test('404 for unknown routes, games and passcodes', async () => {
    const t = testApp();
    expectError(await call(t.app, json('GET', '/nope')), 404, 'not_found');
    expectError(await call(t.app, json('DELETE', '/api/games')), 404, 'not_found');
    expectError(await call(t.app, json('GET', '/api/games/AAAAAAAAAAAAAAAAAAAAAA')), 404, 'not_found');
    expectError(await call(t.app, json('GET', '/api/games/AAAAAAAAAAAAAAAAAAAAAA/results')), 404, 'not_found');
    expectError(await call(t.app, json('POST', '/api/games/join', { passcode: 'ZZZZZZ', name: 'x' })), 404, 'wrong_passcode');
    // Six characters that are not all passcode characters: a guess that cannot match, answered as one.
    expectError(await call(t.app, json('POST', '/api/games/join', { passcode: 'UUUUUU', name: 'x' })), 404, 'wrong_passcode');
    expectError(await call(t.app, json('POST', '/internal/games/AAAAAAAAAAAAAAAAAAAAAA/report', { status: 'in_progress', difficulty: 'easy' })), 404, 'not_found');
  });

  test('401 on a wrong or missing reporting token, with the state unchanged', async () => {
    const t = testApp();
    const game = await createGame(t);
    const other = await createGame(t, 'Eve');
    const wrongs: Record<string, string>[] = [
      {},
      { authorization: 'Bearer ' },
      { authorization: `Bearer ${Buffer.alloc(32).toString('base64url')}` },
      // Another game's valid token is still the wrong token.
      { authorization: `Bearer ${t.launcher.byId(other.gameId).spec.env.reportToken}` },
      { authorization: t.launcher.byId(game.gameId).spec.env.reportToken },
    ];
    for (const headers of wrongs) {
      const result = await call(t.app, json('POST', `/internal/games/${game.gameId}/report`, { status: 'in_progress', difficulty: 'easy' }, headers));
      expectError(result, 401, 'unauthorized');
      expect(result.headers.get('www-authenticate')).toContain('Bearer');
    }
    expect((await call(t.app, json('GET', `/api/games/${game.gameId}`))).body).toMatchObject({ state: 'lobby', difficulty: null });
  });

  test('409: full, started, reports out of order, reports for a dead game, results before the end', async () => {
    const t = testApp();
    const game = await createGame(t, 'Ada', { maxPlayers: 2 });
    expectError(await call(t.app, json('GET', `/api/games/${game.gameId}/results`)), 409, 'not_finished');
    expectError(await reportAs(t, game.gameId, { status: 'finished', results: [] }), 409, 'bad_state');
    t.launcher.byId(game.gameId).emit({ type: 'heartbeat', players: 2, phase: 'lobby' });
    expectError(await call(t.app, json('POST', '/api/games/join', { passcode: game.passcode, name: 'x' })), 409, 'game_full');
    await reportAs(t, game.gameId, { status: 'in_progress', difficulty: 'easy' });
    expectError(await call(t.app, json('POST', '/api/games/join', { passcode: game.passcode, name: 'x' })), 409, 'game_started');
    // A start repeated after a lost acknowledgement is acknowledged, at any difficulty (the worker stayed in its lobby).
    expect((await reportAs(t, game.gameId, { status: 'in_progress', difficulty: 'hard' })).status).toBe(200);
    const token = t.launcher.byId(game.gameId).spec.env.reportToken;
    t.launcher.byId(game.gameId).exit('crashed');
    expectError(await reportAs(t, game.gameId, { status: 'finished', results: [] }, token), 409, 'game_over');
    expect((await call(t.app, json('GET', `/api/games/${game.gameId}`))).body).toMatchObject({ state: 'failed', endReason: 'crashed' });
  });

  test('413 for a body over the limit, with or without Content-Length', async () => {
    const t = testApp({ maxBodyBytes: 1024 });
    const big = JSON.stringify({ name: 'x'.repeat(2000) });
    expectError(
      await call(t.app, new Request('http://localhost/api/games', { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(big.length) }, body: big })),
      413,
      'payload_too_large',
    );
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode(i === 0 ? '{"name":"' : 'x'.repeat(500)));
        controller.close();
      },
    });
    expectError(
      await call(t.app, new Request('http://localhost/api/games', { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream })),
      413,
      'payload_too_large',
    );
    expect(t.registry.live).toBe(0);
  });

  test('429 with Retry-After after too many wrong passcodes from one address; others unaffected; recovers with time', async () => {
    const t = testApp({ perAddress: 5, global: 50 });
    const game = await createGame(t);
    const guess = (client: string, passcode = 'ZZZZZZ') =>
      call(t.app, json('POST', '/api/games/join', { passcode, name: 'x' }, { 'x-test-client': client }));
    for (let i = 0; i < 5; i++) expectError(await guess('198.51.100.7'), 404, 'wrong_passcode');
    const limited = await guess('198.51.100.7');
    expectError(limited, 429, 'rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Even the right passcode is refused while limited: guessing cannot continue.
    expectError(await guess('198.51.100.7', game.passcode), 429, 'rate_limited');
    expect((await guess('198.51.100.8', game.passcode)).status).toBe(200);
    t.clock.now += retryAfter * 1000;
    expect((await guess('198.51.100.7', game.passcode)).status).toBe(200);
    const metrics = (await call(t.app, json('GET', '/metrics'))).text;
    expect(metrics).toContain('huddle_join_attempts_total{outcome="rate_limited"} 2\n');
  });

  test('429 from the global limit across many addresses', async () => {
    const t = testApp({ perAddress: 5, global: 8 });
    for (let i = 0; i < 8; i++) {
      expectError(await call(t.app, json('POST', '/api/games/join', { passcode: 'ZZZZZZ', name: 'x' }, { 'x-test-client': `203.0.113.${i}` })), 404, 'wrong_passcode');
    }
    const limited = await call(t.app, json('POST', '/api/games/join', { passcode: 'ZZZZZZ', name: 'x' }, { 'x-test-client': '203.0.113.200' }));
    expectError(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  test('503 at capacity, when the worker fails to start, and while draining', async () => {
    const t = testApp({ settings: { maxGames: 1 } });
    await createGame(t);
    const full = await call(t.app, json('POST', '/api/games', { name: 'b' }));
    expectError(full, 503, 'capacity');
    expect(full.body.error?.message).toContain('game slots');

    const u = testApp();
    u.launcher.autoReady = false;
    const pending = call(u.app, json('POST', '/api/games', { name: 'b' }));
    await Bun.sleep(1);
    u.launcher.last.exit('start_timeout');
    expectError(await pending, 503, 'start_failed');
    expect(u.registry.live).toBe(0);

    await u.registry.drain('test', 100);
    expectError(await call(u.app, json('POST', '/api/games', { name: 'b' })), 503, 'draining');
    expect((await call(u.app, json('GET', '/healthz'))).body).toEqual({ status: 'draining', liveGames: 0 });
  });
});

describe('HTTP API: create token', () => {
  test('when set, creating needs it as a bearer token; joining never does', async () => {
    const t = testApp({ createToken: 'lan-party-secret' });
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer nope' }, { authorization: 'Basic lan-party-secret' }, { authorization: 'Bearer lan-party-secret-and-more' }]) {
      const result = await call(t.app, json('POST', '/api/games', { name: 'a' }, headers));
      expectError(result, 401, 'unauthorized');
      expect(result.headers.get('www-authenticate')).toContain('Bearer');
    }
    expect(t.registry.live).toBe(0);
    const ok = await call(t.app, json('POST', '/api/games', { name: 'a' }, { authorization: 'Bearer lan-party-secret' }));
    expect(ok.status).toBe(201);
    const joined = await call(t.app, json('POST', '/api/games/join', { passcode: ok.body.passcode, name: 'b' }));
    expect(joined.status).toBe(200);
  });
});

describe('HTTP API: documentation', () => {
  test('the OpenAPI document lists every route with its request schema and every response status', async () => {
    const t = testApp();
    const spec = (await call(t.app, json('GET', '/swagger/json'))).body as {
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }> }>>;
    };
    const expected: Record<string, Record<string, string[]>> = {
      '/api/games': { post: ['201', '400', '401', '413', '415', '422', '503'] },
      '/api/games/join': { post: ['200', '400', '404', '409', '413', '415', '422', '429', '503'] },
      '/api/games/rejoin': { post: ['200', '400', '404', '409', '413', '415', '422', '429', '503'] },
      '/api/games/watch': { post: ['200', '400', '404', '409', '413', '415', '422', '429', '503'] },
      '/api/games/again': { post: ['201', '400', '403', '404', '409', '413', '415', '422', '429', '503'] },
      '/relay': { get: ['101', '400', '404'] },
      '/api/games/{id}': { get: ['200', '404', '503'] },
      '/api/games/{id}/results': { get: ['200', '404', '409', '503'] },
      '/api/leaderboard': { get: ['200', '422'] },
      '/internal/games/{id}/report': { post: ['200', '400', '401', '404', '409', '413', '415', '422', '500'] },
      '/healthz': { get: ['200'] },
      '/metrics': { get: ['200'] },
    };
    expect(Object.keys(spec.paths).sort()).toEqual(Object.keys(expected).sort());
    for (const [path, methods] of Object.entries(expected)) {
      for (const [method, statuses] of Object.entries(methods)) {
        const operation = spec.paths[path]?.[method];
        expect(operation).toBeDefined();
        expect(Object.keys(operation?.responses ?? {}).sort()).toEqual(statuses);
        if (method === 'post') expect(operation?.requestBody).toBeDefined();
        for (const status of statuses.filter((s) => Number(s) >= 400)) {
          const schema = operation?.responses[status]?.content?.['application/json']?.schema;
          expect(Object.keys(schema?.properties ?? {})).toEqual(['error']);
        }
      }
    }
  });

  test('the Swagger page loads its script from this server, not a CDN', async () => {
    const t = testApp();
    const page = await call(t.app, json('GET', '/swagger'));
    expect(page.status).toBe(200);
    expect(page.text).toContain('src="/swagger/assets/api-reference.js"');
    expect(page.text).not.toMatch(/src="https?:/);
    expect(page.text).toContain('"withDefaultFonts":false');
    const script = await t.app.handle(json('GET', '/swagger/assets/api-reference.js'));
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('javascript');
    expect((await script.text()).length).toBeGreaterThan(1_000_000);
  });
});

describe('HTTP API: secrets', () => {
  test('no response body or header ever carries a private key or reporting token', async () => {
    const t = testApp({ createToken: 'create-secret-123' });
    const seen: string[] = [];
    const record = async (request: Request) => {
      const result = await call(t.app, request);
      seen.push(result.text, JSON.stringify([...result.headers]));
      return result;
    };
    const auth = { authorization: 'Bearer create-secret-123' };
    const a = (await record(json('POST', '/api/games', { name: 'Ada' }, auth))).body as { gameId: string; passcode: string };
    const b = (await record(json('POST', '/api/games', { name: 'Bob' }, auth))).body as { gameId: string };
    await record(json('POST', '/api/games/join', { passcode: a.passcode, name: 'Cy' }));
    await record(json('POST', '/api/games/join', { passcode: 'ZZZZZZ', name: 'Cy' }));
    for (const id of [a.gameId, b.gameId]) {
      await record(json('GET', `/api/games/${id}`));
      await record(json('GET', `/api/games/${id}/results`));
    }
    const tokenA = t.launcher.byId(a.gameId).spec.env.reportToken;
    await record(json('POST', `/internal/games/${a.gameId}/report`, { status: 'in_progress', difficulty: 'easy' }, { authorization: `Bearer ${tokenA}` }));
    await record(json('POST', `/internal/games/${b.gameId}/report`, { status: 'in_progress', difficulty: 'easy' }, { authorization: `Bearer ${tokenA}` }));
    await record(json('POST', `/internal/games/${a.gameId}/report`, { status: 'finished', results: [{ name: 'Ada', score: 1 }] }, { authorization: `Bearer ${tokenA}` }));
    await record(json('GET', `/api/games/${a.gameId}/results`));
    await record(json('GET', '/api/leaderboard'));
    await record(json('GET', '/metrics'));
    await record(json('GET', '/healthz'));
    await record(json('GET', '/swagger/json'));

    const secrets: string[] = ['create-secret-123'];
    for (const game of t.launcher.games) {
      const key = Buffer.from(game.spec.env.privateKey);
      const token = Buffer.from(game.spec.env.reportToken, 'base64url');
      for (const bytes of [key, token]) secrets.push(bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex'));
    }
    // No worker has exited (the launcher is fake), so every key is still the real one to look for.
    const all = seen.join('\n');
    for (const secret of secrets) expect(all.includes(secret)).toBe(false);
  });
});
