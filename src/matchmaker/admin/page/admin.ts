/**
 * The admin page: sign in with the admin token (kept in this tab's sessionStorage and sent as
 * `Authorization: Bearer`, never in a URL), then the live games every 2 s with their players, spectators, ping,
 * tick health and age, and "End game" (asked to confirm). Plain DOM like the web client; the JSON API
 * (`/api/admin/*`) does the work.
 */

interface AdminPlayer {
  name: string;
  connected: boolean | null;
  pingMs: number | null;
}

interface AdminGame {
  gameId: string;
  name: string;
  state: string;
  difficulty: string | null;
  ageSeconds: number;
  maxPlayers: number;
  seatsTaken: number;
  players: AdminPlayer[];
  spectators: number;
  tick: { ticks: number; lateness: TickDurations; work: TickDurations } | null;
  ending: boolean;
}

interface TickDurations {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const TOKEN_KEY = 'huddle.admin';
const POLL_MS = 2000;
/** The round steps at 30 Hz: a wake a whole 33 ms step late, or working longer than one, makes the game stutter. */
const TICK_SLOT_MS = 1000 / 30;

const STATE_LABELS: Record<string, string> = {
  starting: 'Starting',
  lobby: 'Lobby',
  in_progress: 'Playing',
  finished: 'Finished',
  failed: 'Failed',
};

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`admin.html has no #${id}`);
  return element as T;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string | undefined> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

const login = byId('login');
const loginForm = byId<HTMLFormElement>('login-form');
const tokenInput = byId<HTMLInputElement>('token-input');
const loginError = byId('login-error');
const gamesSection = byId('games');
const gamesError = byId('games-error');
const gameList = byId('game-list');
const noGames = byId('no-games');
const gameCount = byId('game-count');
const updated = byId('updated');
const signOutButton = byId<HTMLButtonElement>('sign-out');
const confirmBox = byId('confirm');
const confirmText = byId('confirm-text');
const confirmYes = byId<HTMLButtonElement>('confirm-yes');
const confirmNo = byId<HTMLButtonElement>('confirm-no');

let token: string | undefined = readToken();
let timer: ReturnType<typeof setTimeout> | undefined;
let pendingEnd: AdminGame | undefined;
/** Games asked to end from this page, until they are gone from the list. */
const ending = new Set<string>();

function readToken(): string | undefined {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

function storeToken(value: string | undefined): void {
  try {
    if (value === undefined) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, value);
  } catch {
    // Storage refused: the token lives in memory only (a reload asks again).
  }
}

class Unauthorized extends Error {}

async function api<T>(method: 'GET' | 'POST', path: string): Promise<T> {
  let response: Response;
  try {
    const headers: Record<string, string> = { authorization: `Bearer ${token ?? ''}` };
    // Every body the API takes is JSON; ending a game sends an empty one.
    if (method === 'POST') headers['content-type'] = 'application/json';
    response = await fetch(path, {
      method,
      headers,
      ...(method === 'POST' ? { body: '{}' } : {}),
      signal: AbortSignal.timeout(5000),
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new Error('Cannot reach the huddle server. Check that it is running.');
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (response.status === 401) throw new Unauthorized();
  if (!response.ok) {
    const message = (body as { error?: { message?: string } } | undefined)?.error?.message;
    throw new Error(message ? `The server refused: ${message}.` : `The server answered HTTP ${response.status}.`);
  }
  return body as T;
}

function showLogin(message?: string): void {
  clearTimeout(timer);
  token = undefined;
  storeToken(undefined);
  login.hidden = false;
  gamesSection.hidden = true;
  signOutButton.hidden = true;
  updated.textContent = '';
  loginError.textContent = message ?? '';
  loginError.hidden = !message;
  tokenInput.value = '';
  tokenInput.focus();
}

function showGames(): void {
  login.hidden = true;
  gamesSection.hidden = false;
  signOutButton.hidden = false;
}

async function refresh(): Promise<void> {
  clearTimeout(timer);
  if (!token) return;
  try {
    const { games } = await api<{ games: AdminGame[] }>('GET', '/api/admin/games');
    if (!token) return;
    showGames();
    gamesError.hidden = true;
    render(games);
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    if (error instanceof Unauthorized) return showLogin('That is not this server’s admin token.');
    gamesError.textContent = error instanceof Error ? error.message : String(error);
    gamesError.hidden = false;
  }
  timer = setTimeout(() => void refresh(), POLL_MS);
}

function age(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(0);
}

function render(games: AdminGame[]): void {
  for (const id of [...ending]) if (!games.some((g) => g.gameId === id)) ending.delete(id);
  gameCount.textContent = `(${games.length})`;
  noGames.hidden = games.length > 0;
  gameList.replaceChildren(...games.map(card));
}

function card(game: AdminGame): HTMLElement {
  const players = game.players.map((p) => {
    const status = p.connected === null ? 'unknown' : p.connected ? 'connected' : 'away';
    return el(
      'li',
      { 'data-testid': 'admin-player', 'data-connected': String(p.connected) },
      el('span', { class: `dot ${status === 'connected' ? '' : status}`.trim(), 'aria-hidden': 'true' }),
      el('span', { class: 'name' }, p.name),
      el('span', { class: 'hint' }, status === 'away' ? 'reconnecting' : status === 'unknown' ? '–' : `${p.pingMs ?? 0} ms`),
    );
  });
  const tick = game.tick;
  const slow = tick !== null && (tick.lateness.maxMs > TICK_SLOT_MS || tick.work.maxMs > TICK_SLOT_MS);
  const endButton = el('button', { type: 'button', class: 'danger', 'data-testid': 'end-game' }, 'End game');
  const isEnding = game.ending || ending.has(game.gameId);
  if (isEnding) {
    endButton.textContent = 'Ending…';
    endButton.disabled = true;
  }
  endButton.addEventListener('click', () => askEnd(game));
  return el(
    'li',
    { class: 'card game', 'data-testid': 'admin-game', 'data-game-id': game.gameId, 'data-state': game.state },
    el(
      'div',
      { class: 'head' },
      el('h2', {}, `${game.name}’s game`),
      el('span', { class: 'state', 'data-state': game.state, 'data-testid': 'admin-state' }, STATE_LABELS[game.state] ?? game.state),
    ),
    el('p', { class: 'id' }, game.gameId),
    el(
      'dl',
      { class: 'facts' },
      el('dt', {}, 'Age'),
      el('dd', { 'data-testid': 'admin-age' }, age(game.ageSeconds)),
      el('dt', {}, 'Players'),
      el('dd', {}, `${game.seatsTaken} of ${game.maxPlayers}`),
      el('dt', {}, 'Spectators'),
      el('dd', { 'data-testid': 'admin-spectators' }, String(game.spectators)),
      el('dt', {}, 'Difficulty'),
      el('dd', {}, game.difficulty ?? '–'),
      el('dt', {}, 'Tick'),
      el(
        'dd',
        { 'data-testid': 'admin-tick', class: slow ? 'tick-bad' : undefined },
        tick
          ? `late p99 ${ms(tick.lateness.p99Ms)} ms · max ${ms(tick.lateness.maxMs)} ms; work p99 ${ms(tick.work.p99Ms)} ms (${tick.ticks} ticks)`
          : 'no heartbeat yet',
      ),
    ),
    players.length ? el('ul', { class: 'players', 'data-testid': 'admin-players' }, ...players) : el('p', { class: 'hint' }, 'No players yet.'),
    endButton,
  );
}

function askEnd(game: AdminGame): void {
  pendingEnd = game;
  const who = game.seatsTaken === 1 ? 'its player is' : `its ${game.seatsTaken} players are`;
  confirmText.textContent = `End ${game.name}’s game now? ${game.seatsTaken ? `${who[0]!.toUpperCase()}${who.slice(1)} told that the operator ended it.` : 'Nobody is playing in it yet.'}`;
  confirmBox.hidden = false;
  confirmNo.focus();
}

function closeConfirm(): void {
  confirmBox.hidden = true;
  pendingEnd = undefined;
}

async function endPending(): Promise<void> {
  const game = pendingEnd;
  closeConfirm();
  if (!game) return;
  ending.add(game.gameId);
  try {
    await api('POST', `/api/admin/games/${encodeURIComponent(game.gameId)}/end`);
  } catch (error) {
    ending.delete(game.gameId);
    if (error instanceof Unauthorized) return showLogin('That is not this server’s admin token.');
    gamesError.textContent = error instanceof Error ? error.message : String(error);
    gamesError.hidden = false;
  }
  await refresh();
}

loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const value = tokenInput.value.trim();
  if (!value) {
    loginError.textContent = 'Type the admin token first.';
    loginError.hidden = false;
    return;
  }
  token = value;
  storeToken(value);
  tokenInput.value = '';
  void refresh();
});
signOutButton.addEventListener('click', () => showLogin());
confirmYes.addEventListener('click', () => void endPending());
confirmNo.addEventListener('click', closeConfirm);
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && !confirmBox.hidden) closeConfirm();
});

if (token) void refresh();
else tokenInput.focus();
