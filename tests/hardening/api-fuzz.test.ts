/**
 * API fuzz: every route and method of the OpenAPI document that a real server (real game workers) serves at
 * /swagger/json gets seeded, generated requests — valid bodies per schema and invalid ones (wrong types,
 * missing/extra fields, huge strings, deep nesting, unicode junk, invalid JSON, wrong content types, empty and
 * oversize bodies), Authorization variants, junk path parameters and query strings, plus hand-written HTTP for
 * lying Content-Length and broken framing. Asserts: no 5xx; every 4xx is `{error: {code, message}}` with the
 * code's documented status; no response body or header carries any game's private key or reporting token in
 * base64, base64url or hex.
 *
 * HUDDLE_FUZZ_SEED replays a run; HUDDLE_FUZZ_PER_OPERATION scales it (default 250 per operation).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ERROR_STATUS } from '../../src/matchmaker/errors.ts';
import { relayExtension } from '../../src/matchmaker/relay/extension.ts';
import { withWebClient } from '../../src/matchmaker/web/web-client.ts';
import { seededRandom } from '../support/prng.ts';
import { endGame, secretNeedles, serve, type Served, waitFor } from './support-api/harness.ts';
import { rawRequest } from './support-api/raw-http.ts';
import { CONTENT_TYPES, int, INVALID_JSON_TEXTS, invalidBody, JUNK_STRINGS, type JsonSchema, pick, type Random, validValue } from './support-api/schema-gen.ts';

const SEED = Number(process.env.HUDDLE_FUZZ_SEED ?? 0x5eed_a91);
const PER_OPERATION = Number(process.env.HUDDLE_FUZZ_PER_OPERATION ?? 250);
const MAX_BODY = 4096;
const LANES = 6;
const RESIDENTS = 3;

interface Operation {
  method: string;
  path: string;
  body: JsonSchema | undefined;
  query: { name: string; schema: JsonSchema }[];
}

interface FuzzRequest {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | ReadableStream<Uint8Array>;
}

let served: Served;
let doc: { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema: JsonSchema }> }; parameters?: { in: string; name: string; schema: JsonSchema }[] }>> };
const residents: { gameId: string; passcode: string; token: string }[] = [];
const failures: string[] = [];
let checked = 0;
const statuses = new Map<number, number>();
let created = 0;

const base = () => served.server.localUrl;

beforeAll(async () => {
  served = await serve(
    // Join limits out of the way so wrong passcodes keep reaching the registry (429s are fuzzed by the guessing suite).
    { maxBodyBytes: MAX_BODY, joinFailuresPerAddress: 100_000, joinFailuresGlobal: 10_000_000, maxPlayers: 8 },
    { ports: RESIDENTS + LANES + 1, extend: withWebClient(relayExtension()) },
  );
  // Games in every state the routes distinguish: lobby, in_progress, finished (with stored results).
  for (let i = 0; i < RESIDENTS; i++) {
    const response = await fetch(`${base()}/api/games`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `resident${i}` }) });
    expect(response.status).toBe(201);
    const game = (await response.json()) as { gameId: string; passcode: string };
    residents.push({ ...game, token: served.launcher.secrets.get(game.gameId)!.reportToken });
  }
  const report = (i: number, body: unknown) =>
    fetch(`${base()}/internal/games/${residents[i]!.gameId}/report`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${residents[i]!.token}` },
      body: JSON.stringify(body),
    });
  expect((await report(1, { status: 'in_progress', difficulty: 'hard' })).status).toBe(200);
  expect((await report(2, { status: 'in_progress', difficulty: 'easy' })).status).toBe(200);
  expect((await report(2, { status: 'finished', results: [{ name: 'resident2', score: 3 }] })).status).toBe(200);
  doc = (await (await fetch(`${base()}/swagger/json`)).json()) as typeof doc;
});

afterAll(async () => {
  await served?.close();
});

function operations(): Operation[] {
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      out.push({
        method: method.toUpperCase(),
        path,
        body: op.requestBody?.content?.['application/json']?.schema,
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema })),
      });
    }
  }
  return out;
}

function pathParam(random: Random): string {
  const known = residents.map((r) => r.gameId);
  return pick(random, [
    ...known,
    ...known,
    'AAAAAAAAAAAAAAAAAAAAAA',
    Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url'),
    '..',
    '.',
    '..%2F..%2Finternal',
    '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '..%5c..%5cwindows',
    'a'.repeat(65),
    'a'.repeat(5000),
    '%00',
    '%ff%fe%fd',
    '%E2%80%AE',
    encodeURIComponent('😀\u0000\u202e'),
    '%ED%A0%80',
    '%',
    '%zz',
    '%25',
    'a%2Fb',
    ' ',
    '%20',
    'null',
    'undefined',
    '__proto__',
    'constructor',
    Buffer.from(pick(random, JUNK_STRINGS)).toString('latin1').replace(/[^A-Za-z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`),
  ]);
}

function fillPath(path: string, random: Random): string {
  let filled = path.replace(/\{[^}]+\}/g, () => pathParam(random));
  const shape = int(random, 0, 9);
  if (shape === 0) filled += '/';
  if (shape === 1) filled = filled.replace(/\//g, '//');
  if (shape === 2) filled += `?${pick(random, ['x=1', 'limit=5', 'a'.repeat(3000), '%%%', 'x[]=1&x[]=2', '__proto__[a]=1'])}`;
  if (shape === 3) filled += '/../../internal/games/x/report';
  return filled;
}

function authorization(random: Random): Record<string, string> {
  const token = pick(random, residents).token;
  const value = pick(random, [
    undefined,
    `Bearer ${token}`,
    `Bearer ${token}`,
    `bearer ${token}`,
    `Bearer ${token}=`,
    `Bearer ${token}x`,
    `Bearer ${token} ${token}`,
    `Bearer ${Buffer.from(token, 'base64url').toString('base64')}`,
    `Bearer ${Buffer.from(token, 'base64url').toString('hex')}`,
    `Bearer ${Buffer.alloc(32).toString('base64url')}`,
    'Bearer',
    'Bearer ',
    'Bearer \t',
    `Basic ${Buffer.from('admin:admin').toString('base64')}`,
    `Bearer ${'A'.repeat(6000)}`,
    'Bearer \u00ff\u00fe\u00e9',
    'Token abc',
    '',
  ]);
  return value === undefined ? {} : { authorization: value };
}

function oversizeStream(bytes: number): ReadableStream<Uint8Array> {
  // No Content-Length: the server must cap the body while reading it.
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      const chunk = new TextEncoder().encode(`{"name":"${'x'.repeat(1000)}`.slice(0, Math.min(1024, bytes - sent)));
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

function generate(op: Operation, random: Random, n: number): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  for (let i = 0; i < n; i++) {
    const headers: Record<string, string> = { ...authorization(random) };
    if (random() < 0.1) headers['x-forwarded-for'] = pick(random, ['1.2.3.4', '::1', 'garbage', '10.0.0.1, 127.0.0.1']);
    if (random() < 0.05) headers.accept = pick(random, ['text/html', '*/*', 'application/xml', '\u00e9']);
    let path = fillPath(op.path, random);
    if (op.query.length && random() < 0.7) {
      const q = pick(random, op.query);
      const value = random() < 0.4 ? String(validValue(q.schema, random)) : pick(random, ['-1', '0', '101', '1e3', '1.5', '', 'abc', 'NaN', '9'.repeat(400), '%00', '1&limit=2']);
      path += `${path.includes('?') ? '&' : '?'}${q.name}=${value}`;
    }
    const req: FuzzRequest = { label: '', method: op.method, path, headers };
    if (op.body) {
      const kind = int(random, 0, 9);
      let what: string;
      if (kind <= 2) {
        what = 'valid';
        req.body = JSON.stringify(validValue(op.body, random));
      } else if (kind <= 5) {
        what = 'invalid';
        req.body = JSON.stringify(invalidBody(op.body, random)) ?? 'null';
      } else if (kind === 6) {
        what = 'bad-json';
        req.body = pick(random, [...INVALID_JSON_TEXTS, `${'['.repeat(2000)}${']'.repeat(2000)}`]);
      } else if (kind === 7) {
        what = 'empty';
        req.body = '';
      } else if (kind === 8) {
        what = 'oversize';
        const size = int(random, MAX_BODY + 1, MAX_BODY * 8);
        req.body = random() < 0.5 ? JSON.stringify({ name: 'x'.repeat(size) }) : oversizeStream(size);
      } else {
        what = 'no-body';
      }
      const contentType = kind <= 8 && random() < 0.8 ? 'application/json' : pick(random, CONTENT_TYPES);
      if (contentType !== undefined) headers['content-type'] = contentType;
      req.label = `${op.method} ${op.path} ${what} ct=${contentType}`;
    } else {
      req.label = `${op.method} ${op.path}`;
    }
    out.push(req);
  }
  return out;
}

/** Records a failure for anything a client must never see; true if the answer was well-formed. */
function check(label: string, status: number, headers: Iterable<[string, string]>, body: string): void {
  checked++;
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
  const where = `${label} → ${status}`;
  if (status >= 500) failures.push(`${where}: 5xx ${body.slice(0, 200)}`);
  if (status >= 400 && status < 500) {
    const contentType = [...headers].find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
    if (!contentType.includes('application/json')) failures.push(`${where}: 4xx content-type ${contentType}`);
    try {
      const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
      const code = parsed.error?.code;
      const shapeOk =
        Object.keys(parsed).join() === 'error' &&
        typeof code === 'string' &&
        typeof parsed.error?.message === 'string' &&
        ERROR_STATUS[code as keyof typeof ERROR_STATUS] === status;
      if (!shapeOk) failures.push(`${where}: bad error shape ${body.slice(0, 200)}`);
    } catch {
      if (!label.startsWith('HEAD')) failures.push(`${where}: 4xx body is not JSON: ${body.slice(0, 120)}`);
    }
  }
  const needles = secretNeedles(served.launcher);
  const haystack = `${[...headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${body}`;
  for (const needle of needles) if (haystack.includes(needle)) failures.push(`${where}: leaked a secret`);
}

async function send(req: FuzzRequest): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${base()}${req.path}`, {
      method: req.method,
      headers: req.headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    // Refusing an oversize streamed body mid-upload may reset the connection; anything else is a finding.
    if (!(req.body instanceof ReadableStream)) failures.push(`${req.label} ${req.path.slice(0, 80)}: no answer (${String(error)})`);
    return;
  }
  const text = await response.text();
  check(`${req.label} ${req.path.slice(0, 80)}`, response.status, response.headers.entries(), text);
  if (response.status === 201 && req.method === 'POST' && req.path.startsWith('/api/games')) {
    created++;
    // Free the slot at once so later valid creates are not refused for capacity (a 503 by design, not a bug).
    const { gameId } = JSON.parse(text) as { gameId: string };
    await endGame(served, gameId);
  }
}

async function runLanes(requests: FuzzRequest[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      while (next < requests.length) await send(requests[next++]!);
    }),
  );
}

describe('API fuzz against a real server with real game workers', () => {
  test('every route and method of /swagger/json: no 5xx, JSON error shape, no secret', async () => {
    const random = seededRandom(SEED);
    const ops = operations();
    // Every documented route is fuzzed; the list is the document, so a new route is covered without editing here.
    expect(ops.map((o) => `${o.method} ${o.path}`)).toEqual(
      expect.arrayContaining(['POST /api/games', 'POST /api/games/join', 'GET /api/games/{id}', 'GET /api/games/{id}/results', 'GET /api/leaderboard', 'POST /internal/games/{id}/report', 'GET /healthz', 'GET /metrics']),
    );
    const requests = ops.flatMap((op) => generate(op, random, PER_OPERATION));
    // Methods the document does not list for a path, and bodies on GET.
    for (const op of ops) {
      for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', op.method === 'GET' ? 'POST' : 'GET']) {
        requests.push({ label: `${method} ${op.path}`, method, path: fillPath(op.path, random), headers: {} });
      }
    }
    // Routes outside the document that the binary also serves: the docs themselves and the relay without an upgrade.
    for (const path of ['/swagger', '/swagger/json', '/swagger/assets/api-reference.js', '/', `/relay?game=${residents[0]!.gameId}`, '/relay', '/relay?game=%00']) {
      requests.push({ label: `GET ${path}`, method: 'GET', path, headers: authorization(random) });
    }
    // Shuffle so lanes interleave routes (state changes from reports meet joins and status reads).
    for (let i = requests.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [requests[i], requests[j]] = [requests[j]!, requests[i]!];
    }
    const started = performance.now();
    await runLanes(requests);
    const ms = performance.now() - started;
    const histogram = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`).join(' ');
    console.log(`api-fuzz: seed ${SEED}, ${checked} answers checked (${histogram}), ${created} games created and ended, ${Math.round(ms)} ms`);
    expect(failures.slice(0, 25)).toEqual([]);
    expect(checked).toBeGreaterThan(ops.length * PER_OPERATION * 0.95);
    // Valid creates did reach real workers (the fuzz is not only bouncing off validation).
    expect(created).toBeGreaterThan(5);
    await waitFor(() => served.server.registry.live === RESIDENTS, 5000, 'fuzz-created games to end');
  }, 60_000);

  test('hand-written HTTP: lying Content-Length, bodies on GET, broken framing', async () => {
    const port = served.server.port;
    const { gameId, token } = residents[0]!;
    const json = '{"passcode":"ZZZZZZ","name":"x"}';
    // app: answered by our code (JSON shape); parser: refused by Bun's HTTP parser before any app code runs, with a
    // bare status and no body (see docs/HARDENING.md); silent: the server waits for bytes that never come, or drops
    // the connection, which is fine as long as it never answers 5xx.
    const cases: { kind: 'app' | 'parser' | 'silent'; text: string }[] = [
      // Content-Length larger than the body: the server waits for the rest; we give up (no answer is fine, 5xx is not).
      { kind: 'silent', text: `POST /api/games/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${json.length + 50}\r\n\r\n${json}` },
      // Shorter than the body: the rest is read as the next request.
      { kind: 'app', text: `POST /api/games/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n${json}` },
      { kind: 'parser', text: `POST /api/games/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n${json}` },
      { kind: 'parser', text: `POST /api/games/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n${json}` },
      { kind: 'parser', text: `POST /api/games/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n${json}` },
      { kind: 'parser', text: `POST /api/games/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\nContent-Length: 3\r\n\r\n${json}` },
      { kind: 'parser', text: `POST /api/games/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n${json.length.toString(16)}\r\n${json}\r\n0\r\n\r\n` },
      { kind: 'parser', text: `POST /api/games/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${json}\r\n0\r\n\r\n` },
      { kind: 'app', text: `POST /api/games HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${(MAX_BODY * 2).toString(16)}\r\n${'{'.repeat(MAX_BODY * 2)}\r\n0\r\n\r\n` },
      { kind: 'app', text: `GET /api/games/${gameId} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json}` },
      { kind: 'app', text: `GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789` },
      { kind: 'app', text: `POST /internal/games/${gameId}/report HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n` },
      { kind: 'app', text: `POST /internal/games/${gameId}/report HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}` },
      { kind: 'app', text: `GET /api/games/${'%'.repeat(20)} HTTP/1.1\r\nHost: x\r\n\r\n` },
      { kind: 'app', text: `GET /api/games/../../internal HTTP/1.1\r\nHost: x\r\n\r\n` },
      { kind: 'app', text: `GET /api/games/\u00ff\u00fe HTTP/1.1\r\nHost: x\r\n\r\n` },
      { kind: 'app', text: `GET http://evil.example/api/leaderboard HTTP/1.1\r\nHost: x\r\n\r\n` },
      { kind: 'app', text: `GET /api/leaderboard HTTP/1.0\r\n\r\n` },
      { kind: 'parser', text: `GET /api/leaderboard HTTP/1.1\r\nHost: x\r\nX-Junk: ${'a'.repeat(20_000)}\r\n\r\n` },
      { kind: 'silent', text: `BREW /api/leaderboard HTTP/1.1\r\nHost: x\r\n\r\n` },
      { kind: 'parser', text: `GET /api/leaderboard\r\n\r\n` },
      { kind: 'parser', text: `\r\n\r\n` },
      { kind: 'app', text: `POST /api/games/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 4\r\n\r\n\u00ff\u00fe\u0000{` },
    ];
    const answers = await Promise.all(cases.map((c) => rawRequest(port, c.text, 1500)));
    const kinds: string[] = [];
    for (const [i, answer] of answers.entries()) {
      const { kind, text } = cases[i]!;
      const label = `raw#${i} ${text.split('\r\n')[0]!.slice(0, 60)}`;
      kinds.push(answer === undefined ? 'silent' : kind);
      if (!answer) continue;
      if (kind === 'parser') {
        // 505 is HTTP/1.1's answer to a request line without a version; Bun sends it, nothing of ours runs.
        if (![400, 413, 431, 505].includes(answer.status) || answer.body !== '') failures.push(`${label}: unexpected parser answer ${answer.status}`);
        for (const needle of secretNeedles(served.launcher)) if (answer.raw.includes(needle)) failures.push(`${label}: leaked a secret`);
        continue;
      }
      check(label, answer.status, answer.headers.entries(), answer.body);
    }
    expect(failures.slice(0, 25)).toEqual([]);
    // Each case still lands where it is expected to: a change in the parser or the app shows up here.
    expect(kinds).toEqual(cases.map((c) => c.kind));
    const answered = answers.filter((a) => a !== undefined).length;
    expect(answered).toBeGreaterThan(cases.length / 2);
    // Still serving, and the resident lobby is still what it was unless a valid report moved it on.
    expect((await fetch(`${base()}/healthz`)).status).toBe(200);
  }, 30_000);
});
