/**
 * Invite links (DESIGN.md section 12, docs/SEATS.md "Keys"): create and join answer an `inviteUrl`;
 * `POST /api/games/join {invite, name}` takes a seat in the lobby without the passcode, is never held back by a
 * guess budget (a botnet that spent them all, through the app's client-address function, cannot keep out a friend
 * with the link), and an unknown invite spends no budget; started, full and ended games answer 409.
 */
import { describe, expect, test } from 'bun:test';
import { createLogger } from '../../src/log.ts';
import { json, testApp } from './support/app.ts';
import { type Answer, call, expectError } from './support/http.ts';

type App = ReturnType<typeof testApp>;

interface Seat {
  gameId: string;
  passcode: string;
  rejoinKey: string;
  watchKey: string;
  inviteUrl: string;
  name: string;
  role: string;
}

const post = (t: App, path: string, body: unknown, client = '192.0.2.1') => call(t.app, json('POST', path, body, { 'x-test-client': client }));

async function create(t: App, name = 'Ada', extra: Record<string, unknown> = {}): Promise<Seat> {
  const result = await post(t, '/api/games', { name, ...extra });
  expect(result.status).toBe(201);
  return result.body as unknown as Seat;
}

/** The key of an invite link, checked to be the documented shape. */
function inviteKey(url: string): string {
  const parsed = new URL(url);
  expect(parsed.pathname).toBe('/');
  expect([...parsed.searchParams.keys()]).toEqual(['invite']);
  const key = parsed.searchParams.get('invite') ?? '';
  // 18 random bytes (144 bits) as base64url.
  expect(key).toMatch(/^[A-Za-z0-9_-]{24}$/);
  expect(Buffer.from(key, 'base64url').length).toBe(18);
  return key;
}

const byInvite = (t: App, invite: string, name: string, client = '192.0.2.1') => post(t, '/api/games/join', { invite, name }, client);

function report(t: App, gameId: string, body: unknown): Promise<Answer> {
  const token = t.launcher.byId(gameId).spec.env.reportToken;
  return call(t.app, json('POST', `/internal/games/${gameId}/report`, body, { authorization: `Bearer ${token}` }));
}

describe('invite links: answers', () => {
  test('create, join, rejoin and again answer an inviteUrl on the request base; joining by it takes a new seat', async () => {
    const t = testApp();
    const host = await create(t, 'Ada', { maxPlayers: 4 });
    expect(host.inviteUrl.startsWith('http://localhost/?invite=')).toBe(true);
    const key = inviteKey(host.inviteUrl);

    const bob = await byInvite(t, key, 'ada');
    expect(bob.status).toBe(200);
    expect(bob.body).toMatchObject({ gameId: host.gameId, name: 'ada (2)', role: 'player', passcode: host.passcode });
    expect(Object.keys(bob.body).sort()).toEqual(
      ['connectToken', 'expiresAt', 'gameId', 'inviteUrl', 'name', 'passcode', 'port', 'rejoinKey', 'relayUrl', 'role', 'serverAddress', 'watchKey'].sort(),
    );
    // Each player gets an invite key of their own (only hashes are kept), and it works as well as the host's.
    const bobKey = inviteKey(String(bob.body.inviteUrl));
    expect(bobKey).not.toBe(key);
    expect((await byInvite(t, bobKey, 'Cy')).body).toMatchObject({ gameId: host.gameId, name: 'Cy' });
    // A passcode joiner gets one too.
    const dee = await post(t, '/api/games/join', { passcode: host.passcode, name: 'Dee' });
    expect(dee.status).toBe(200);
    inviteKey(String(dee.body.inviteUrl));

    // A rejoin answers the same link as before (sealed with the rejoin key).
    const rejoined = await post(t, '/api/games/rejoin', { rejoinKey: String(bob.body.rejoinKey) });
    expect(rejoined.body.inviteUrl).toBe(bob.body.inviteUrl);
    // The link follows the Host the request came to (the relay URL's base; --public-url takes over once set).
    const elsewhere = await call(t.app, new Request('http://192.168.1.20:8080/api/games/rejoin', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rejoinKey: host.rejoinKey }),
    }));
    expect(elsewhere.body.inviteUrl).toBe(`http://192.168.1.20:8080/?invite=${key}`);
  });

  test('the body takes exactly one of passcode and invite; a malformed key is a schema error', async () => {
    const t = testApp();
    const host = await create(t);
    const key = inviteKey(host.inviteUrl);
    expectError(await post(t, '/api/games/join', { passcode: host.passcode, invite: key, name: 'Bob' }), 422, 'validation_failed');
    expectError(await post(t, '/api/games/join', { name: 'Bob' }), 422, 'validation_failed');
    expectError(await byInvite(t, `${key}x`, 'Bob'), 422, 'validation_failed');
    expectError(await byInvite(t, key, ''), 422, 'validation_failed');
    expectError(await byInvite(t, key, '\u0001\u0002'), 400, 'invalid_name');
  });

  test('Swagger shows both forms of the join body and the unknown_invite answer', async () => {
    const t = testApp();
    const doc = (await call(t.app, new Request('http://localhost/swagger/json'))).body as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { anyOf?: { properties: Record<string, unknown> }[] } }> }; responses: Record<string, unknown> }>>;
    };
    const join = doc.paths['/api/games/join']?.post;
    const forms = join?.requestBody?.content['application/json']?.schema.anyOf ?? [];
    expect(forms.map((f) => Object.keys(f.properties).sort())).toEqual([['name', 'passcode'], ['invite', 'name']]);
    expect(JSON.stringify(join?.responses['404'])).toContain('unknown_invite');
    expect(JSON.stringify(doc.paths['/api/games']?.post?.responses['201'])).toContain('inviteUrl');
  });
});

describe('invite links: never held back by a guess budget', () => {
  test('a botnet spends every passcode budget; a friend with the link joins at once, from a fresh address and from a botnet one', async () => {
    // testApp: 5 wrong guesses per address, 50 overall, per minute; the clock never moves, so nothing refills.
    const t = testApp();
    const host = await create(t, 'Ada');
    const key = inviteKey(host.inviteUrl);
    const wrong = host.passcode === 'ZZZZZZ' ? 'YYYYYY' : 'ZZZZZZ';
    // 40 bots in 40 different /24s (and /16s), each guessing until refused: the per-address, per-prefix and
    // global budgets are all spent.
    const bots = Array.from({ length: 40 }, (_, i) => `10.${i}.${i}.7`);
    let limited = 0;
    let checked = 0;
    for (let round = 0; round < 8; round++) {
      const answers = await Promise.all(bots.map((bot) => post(t, '/api/games/join', { passcode: wrong, name: 'bot' }, bot)));
      for (const a of answers) {
        if (a.status === 429) limited++;
        else if (a.status === 404) checked++;
        else throw new Error(`unexpected ${a.status}`);
      }
    }
    // The budgets held: far fewer guesses were checked than sent, and the last round was refused outright.
    expect(checked).toBeLessThanOrEqual(50);
    expect(limited).toBe(bots.length * 8 - checked);
    const last = await Promise.all(bots.map((bot) => post(t, '/api/games/join', { passcode: wrong, name: 'bot' }, bot)));
    expect(last.every((a) => a.status === 429)).toBe(true);
    // Spent: a bot's address cannot join even with the right passcode (no oracle while limited).
    expectError(await post(t, '/api/games/join', { passcode: host.passcode, name: 'bot' }, bots[0]), 429, 'rate_limited');

    // The friend with the link, at once: from an address of its own, and from inside the botnet's address (a shared NAT).
    const friend = await byInvite(t, key, 'Friend', '203.0.113.9');
    expect(friend.status).toBe(200);
    expect(friend.body).toMatchObject({ gameId: host.gameId, name: 'Friend', role: 'player' });
    const neighbour = await byInvite(t, key, 'Neighbour', bots[3]);
    expect(neighbour.status).toBe(200);
    expect(neighbour.body.gameId).toBe(host.gameId);
    // And a rejoin of their seats still works too (keys are not held back either).
    expect((await post(t, '/api/games/rejoin', { rejoinKey: String(friend.body.rejoinKey) }, bots[5])).status).toBe(200);
  });

  test('unknown invites spend no budget: 200 of them from one address, then its right passcode and a real invite still join', async () => {
    const t = testApp();
    const host = await create(t, 'Ada');
    const address = '198.51.100.4';
    for (let i = 0; i < 200; i++) {
      const key = Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64url');
      const answer = await byInvite(t, key, 'guess', address);
      expectError(answer, 404, 'unknown_invite');
    }
    expect((await post(t, '/api/games/join', { passcode: host.passcode, name: 'Bob' }, address)).status).toBe(200);
    expect((await byInvite(t, inviteKey(host.inviteUrl), 'Cy', address)).status).toBe(200);
    const metrics = (await call(t.app, new Request('http://localhost/metrics'))).text;
    expect(metrics).toContain('huddle_seat_requests_total{route="invite",outcome="unknown_key"} 200\n');
    expect(metrics).toContain('huddle_seat_requests_total{route="invite",outcome="ok"} 1\n');
    // Nothing was counted as a passcode guess.
    expect(metrics).toContain('huddle_join_attempts_total{outcome="wrong_passcode"} 0\n');
  });
});

describe('invite links: the lobby rules', () => {
  test('started → 409 game_started; full → 409 game_full; ended → 409 game_over', async () => {
    const t = testApp({ settings: { maxPlayers: 2 } });
    const host = await create(t, 'Ada');
    const key = inviteKey(host.inviteUrl);
    expect((await byInvite(t, key, 'Bob')).status).toBe(200);
    expectError(await byInvite(t, key, 'Cy'), 409, 'game_full');

    const other = await create(t, 'Eve');
    const otherKey = inviteKey(other.inviteUrl);
    expect((await report(t, other.gameId, { status: 'in_progress', difficulty: 'normal' })).status).toBe(200);
    expectError(await byInvite(t, otherKey, 'Cy'), 409, 'game_started');
    expect((await report(t, other.gameId, { status: 'finished', results: [{ name: 'Eve', score: 1 }] })).status).toBe(200);
    expectError(await byInvite(t, otherKey, 'Cy'), 409, 'game_over');
    t.launcher.byId(other.gameId).exit('exiting', 'round_over');
    expectError(await byInvite(t, otherKey, 'Cy'), 409, 'game_over');
  });

  test('play again: the group\'s invite links lead to the newest game of the chain', async () => {
    const t = testApp();
    const host = await create(t, 'Ada');
    const key = inviteKey(host.inviteUrl);
    expect((await report(t, host.gameId, { status: 'in_progress', difficulty: 'normal' })).status).toBe(200);
    expect((await report(t, host.gameId, { status: 'finished', results: [{ name: 'Ada', score: 3 }] })).status).toBe(200);
    const again = await post(t, '/api/games/again', { rejoinKey: host.rejoinKey });
    expect(again.status).toBe(201);
    expect(again.body.inviteUrl).toBe(host.inviteUrl);
    const late = await byInvite(t, key, 'Late');
    expect(late.status).toBe(200);
    expect(late.body.gameId).toBe(String(again.body.gameId));
    expect(late.body.passcode).toBe(String(again.body.passcode));
  });

  test('an invite key never reaches a log line, a status answer or /metrics', async () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'json', write: (line) => lines.push(line) });
    const t = testApp({ log });
    const host = await create(t, 'Ada');
    const key = inviteKey(host.inviteUrl);
    const bob = await byInvite(t, key, 'Bob');
    const bobKey = inviteKey(String(bob.body.inviteUrl));
    await byInvite(t, Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64url'), 'x');
    const status = (await call(t.app, new Request(`http://localhost/api/games/${host.gameId}`))).text;
    const metrics = (await call(t.app, new Request('http://localhost/metrics'))).text;
    expect(lines.some((l) => l.includes('"invite.ok"'))).toBe(true);
    for (const text of [...lines, status, metrics]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(bobKey);
    }
  });
});
