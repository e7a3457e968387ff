/**
 * The page: four screens (home, lobby, game, results) and the tab's seat in one game. The current connection's
 * view decides the screen. A connection that drops while we hold a seat is restored by itself (rejoin with the
 * seat's key, bounded retries within the game's grace) while the lobby or the round stays on screen; whatever
 * ends the game for good comes back to home as one clear message. On the results screen everyone follows the
 * host into the next game ("Play again") without typing anything.
 */
import type { GameView } from '../src/game/game-client.ts';
import { ApiError, createGame, gameResults, gameStatus, joinByInvite, joinGame, playAgain, rejoinGame, type Ticket, watchGame } from './api.ts';
import { byId } from './dom.ts';
import { ADMIN_ENDED_MESSAGE, describeEnd, type EndReason, mayRejoin, seatExpiredMessage } from './endings.ts';
import { GameScreen } from './screens/game.ts';
import { HomeScreen } from './screens/home.ts';
import { LobbyScreen } from './screens/lobby.ts';
import { ResultsScreen } from './screens/results.ts';
import { clearSeat, dropShareParameters, readSeat, type StoredSeat, saveSeat, seatFromTicket } from './seat-store.ts';
import { GameSession, type SessionEnd, SessionOpenError } from './session.ts';

type ScreenName = 'home' | 'lobby' | 'game' | 'results';

/** Delays between rejoin attempts: quick at first (a blip), then every few seconds until the grace is over. */
const BACKOFF_MS = [0, 300, 700, 1500, 2500, 4000];
/** Without a welcome yet (a reload), assume the default grace. */
const DEFAULT_GRACE_SECONDS = 60;
/** A rejoin into a running round may see the lobby message first: keep the field up this long. */
const HOLD_GAME_MS = 3000;
const POLL_MS = 1000;
const REJOIN_TIMEOUT_MS = 5000;

let seat: StoredSeat | undefined;
let session: GameSession | undefined;
/** Bumped by every new flow and by leaving, so an answer that arrives after the player moved on is dropped. */
let attempt = 0;
let current: ScreenName = 'home';
let lobbyTicker = 0;
/** The connection the game screen shows (a rejoin brings a new one into the same round). */
let gameShown: GameSession | undefined;
let holdGameUntil = 0;
let reconnecting: { deadline: number; tries: number; timer: ReturnType<typeof setTimeout> | undefined } | undefined;
let poll: ReturnType<typeof setInterval> | undefined;
let movingOn = false;
let lastAgainStatus = '';
const status = byId('status');
const banner = byId('reconnecting');

const home = new HomeScreen({
  create: (name) => void begin('create', () => createGame(name), { name, role: 'player' }),
  join: (passcode, name) => void begin('join', () => joinGame(passcode, name), { name, role: 'player', passcode }),
  joinInvite: (name) => {
    const key = pendingInvite;
    if (key) void begin('invite', () => joinByInvite(key, name), { name, role: 'player' });
  },
  watch: (name) => {
    const key = pendingWatch;
    if (key) void begin('watch', () => watchGame(key, name), { name, role: 'spectator', watchKey: key });
  },
});
const lobby = new LobbyScreen({
  chat: (text) => session?.chat(text),
  start: (difficulty) => session?.start(difficulty),
  pickDifficulty: (difficulty) => session?.setDifficulty(difficulty),
  leave: () => leave(),
});
const game = new GameScreen(() => leave());
const results = new ResultsScreen({ home: () => leave(), again: () => void again() });
let pendingWatch: string | undefined;
/** The key of the invite link this page was opened with, until it took a seat. */
let pendingInvite: string | undefined;

function show(screen: ScreenName): void {
  if (screen === current) return;
  current = screen;
  for (const name of ['home', 'lobby', 'game', 'results'] as const) byId(`screen-${name}`).hidden = name !== screen;
  document.body.dataset.screen = screen;
  if (screen !== 'game') {
    game.exit();
    gameShown = undefined;
  }
  if (screen !== 'results') stopPolling();
  cancelAnimationFrame(lobbyTicker);
  if (screen === 'lobby') {
    const tick = () => {
      lobby.tick();
      lobbyTicker = requestAnimationFrame(tick);
    };
    tick();
  }
  if (seat && screen !== 'home' && seat.screen !== screen) {
    seat.screen = screen;
    saveSeat(seat);
  }
  // Move focus to the new screen's heading so keyboard and screen-reader users land where the content changed.
  if (screen === 'home') home.focus();
  else byId(`${screen}-title`).focus({ preventScroll: false });
}

type SeatFallback = Parameters<typeof seatFromTicket>[1];

/** From home: asks the matchmaker for a ticket, then connects; any failure lands on home as a message. */
async function begin(kind: 'create' | 'join' | 'invite' | 'watch', ask: () => Promise<Ticket>, fallback: SeatFallback): Promise<void> {
  if (session || reconnecting) return;
  const mine = ++attempt;
  home.clearError();
  home.setBusy(true, kind);
  let ticket: Ticket;
  try {
    ticket = await ask();
  } catch (error) {
    home.setBusy(false);
    if (mine !== attempt) return;
    showApiError(error);
    return;
  }
  home.setBusy(false);
  if (mine !== attempt) return;
  if (kind === 'watch') {
    pendingWatch = undefined;
    home.offerWatch(false);
  }
  if (kind === 'invite') {
    pendingInvite = undefined;
    home.offerInvite(false);
  }
  enterGame(ticket, fallback, mine);
}

/** A ticket for a game we are not in yet (from home, or the next game after "Play again"). */
function enterGame(ticket: Ticket, fallback: SeatFallback, mine: number): void {
  seat = seatFromTicket(ticket, fallback);
  saveSeat(seat);
  lobby.enter(seat.passcode, seat.watchKey, seat.inviteUrl);
  show('lobby');
  status.textContent = 'Connecting…';
  void connect(ticket, mine, 'fresh');
}

/** Opens a connection with a ticket. `rejoin`: part of restoring a dropped one (its failures retry). */
async function connect(ticket: Ticket, mine: number, mode: 'fresh' | 'rejoin'): Promise<void> {
  let opened: GameSession;
  try {
    opened = await GameSession.open(ticket, {
      onView: (view) => {
        if (session === opened) onView(view);
      },
      onEnd: (end) => {
        if (session === opened) {
          session = undefined;
          ended(end, mode);
        }
      },
    });
  } catch (error) {
    if (mine !== attempt) return;
    ended(error instanceof SessionOpenError ? error.end : { reason: 'relay-unreachable', welcomed: false, phase: 'connecting' }, mode);
    return;
  }
  if (mine !== attempt) {
    opened.drop();
    return;
  }
  session = opened;
}

function role(): { isHost: boolean; isSpectator: boolean } {
  const isSpectator = session?.isSpectator ?? seat?.role === 'spectator';
  const view = session?.view;
  const host = view?.hostIndex;
  return { isHost: !isSpectator && view?.you !== undefined && view.you === host, isSpectator };
}

function onView(view: GameView): void {
  const current_ = session;
  if (!current_) return;
  if (seat && view.rejoinGraceSeconds && seat.graceSeconds !== view.rejoinGraceSeconds) {
    seat.graceSeconds = view.rejoinGraceSeconds;
    saveSeat(seat);
  }
  switch (view.phase) {
    case 'connecting':
      if (!reconnecting && current === 'lobby') lobby.render(view, role());
      break;
    case 'lobby':
      // A rejoin into a running round can see the lobby message before the round's: keep the field up a moment.
      if (current === 'game' && performance.now() < holdGameUntil) break;
      reconnected();
      lobby.render(view, role());
      show('lobby');
      break;
    case 'countdown':
    case 'playing':
      reconnected();
      if (current !== 'game' || gameShown !== current_) {
        const sameRound = current === 'game';
        show('game');
        game.enter(current_, sameRound);
        gameShown = current_;
      }
      game.render(view);
      break;
    case 'results':
      reconnected();
      if (current !== 'results') {
        results.reset();
        lastAgainStatus = '';
        show('results');
        startPolling();
      }
      results.render(view, role().isHost);
      if (seat && seat.host !== role().isHost) {
        seat.host = role().isHost;
        saveSeat(seat);
      }
      break;
    case 'closed':
      // The session reports it through onEnd with the reason.
      break;
  }
  updateStatus(view);
}

/** The header: your name and ping (the same number as your row in the lobby), or what is going on. */
function updateStatus(view: GameView): void {
  // While reconnecting the banner is the one status (the header would say it a second time).
  if (reconnecting) status.textContent = '';
  else if (view.phase === 'connecting') status.textContent = 'Connecting…';
  else if (view.phase === 'results' || view.phase === 'closed') status.textContent = '';
  else {
    const me = view.players.find((p) => p.index === view.you)?.name ?? seat?.name ?? '';
    status.textContent = `${role().isSpectator ? `Watching as ${seat?.name ?? me}` : me} · ${view.pingMs} ms`;
  }
}

/**
 * Endings after which the game itself may be gone: the server said it is stopping (`shutdown`), the relay said the
 * game ended, or the game closed the connection without a word (its `closing` message lost, as a UDP datagram may
 * be, while one of its repeated disconnect packets arrived). For these the game's status says whether the
 * operator ended it, so the player reads that instead of "the server was restarted".
 */
const MAYBE_GONE: ReadonlySet<EndReason> = new Set(['shutdown', 'relay-game-ended', 'closed']);

function ended(end: SessionEnd, mode: 'fresh' | 'rejoin'): void {
  const held = seat;
  if (!held || !MAYBE_GONE.has(end.reason)) return endedFor(end, mode);
  explainGone(held.gameId, () => endedFor(end, mode));
}

/**
 * The game is over or going: asks its status why, and shows the operator's message if they ended it; otherwise
 * (or when the status cannot be read in time) `otherwise` decides. Nothing happens if the page moved on meanwhile.
 */
function explainGone(gameId: string, otherwise: () => void): void {
  const mine = attempt;
  void gameStatus(gameId, 2000)
    .then((s) => s.endReason, () => null)
    .then((why) => {
      if (mine !== attempt) return;
      if (why === 'admin_ended') final(ADMIN_ENDED_MESSAGE);
      else otherwise();
    });
}

function endedFor(end: SessionEnd, mode: 'fresh' | 'rejoin'): void {
  const reason = end.reason;
  if (reason === 'seat-taken') return final(describeEnd(reason));
  const key = seat?.role === 'player' ? seat.rejoinKey : seat?.watchKey;
  if (key && mayRejoin(reason) && (end.welcomed || reconnecting)) {
    startReconnect(end.phase);
    return;
  }
  if (reconnecting) {
    // The game answered, but would not take the seat back (released, or the game is over).
    const gone: EndReason[] = ['denied', 'relay-game-ended', 'game-over', 'invalid-token', 'closed'];
    return final(gone.includes(reason) ? seatExpiredMessage(seat?.graceSeconds) : describeEnd(reason));
  }
  if (!end.welcomed && mode === 'fresh' && mayRejoin(reason) && seat) {
    const again = seat;
    final(describeEnd(reason), () => retryFresh(again));
    return;
  }
  final(describeEnd(reason));
}

/** "Join again" after a first connection failed: a fresh ticket for the same seat (or the same game to watch). */
function retryFresh(previous: StoredSeat): void {
  const fallback: SeatFallback = {
    name: previous.name,
    role: previous.role,
    ...(previous.passcode ? { passcode: previous.passcode } : {}),
    ...(previous.watchKey ? { watchKey: previous.watchKey } : {}),
    ...(previous.rejoinKey ? { rejoinKey: previous.rejoinKey } : {}),
    ...(previous.inviteUrl ? { inviteUrl: previous.inviteUrl } : {}),
  };
  if (previous.role === 'spectator' && previous.watchKey) {
    const key = previous.watchKey;
    void begin('watch', () => watchGame(key, previous.name), fallback);
  } else if (previous.rejoinKey) {
    const key = previous.rejoinKey;
    void begin('join', () => rejoinGame(key), fallback);
  } else if (previous.passcode) {
    const code = previous.passcode;
    void begin('join', () => joinGame(code, previous.name), fallback);
  }
}

function startReconnect(phase: GameView['phase']): void {
  if (!reconnecting) {
    const grace = seat?.graceSeconds ?? DEFAULT_GRACE_SECONDS;
    // The server notices a silent drop only after its own timeout, then holds the seat for the grace.
    reconnecting = { deadline: Date.now() + (grace + 5) * 1000, tries: 0, timer: undefined };
    banner.hidden = false;
    status.textContent = '';
    document.body.dataset.reconnecting = 'true';
  }
  if (phase === 'countdown' || phase === 'playing') holdGameUntil = performance.now() + HOLD_GAME_MS;
  if (current === 'game') game.waiting('Reconnecting…');
  const delay = BACKOFF_MS[Math.min(reconnecting.tries, BACKOFF_MS.length - 1)]!;
  clearTimeout(reconnecting.timer);
  reconnecting.timer = setTimeout(() => void tryRejoin(), delay);
}

async function tryRejoin(): Promise<void> {
  const state = reconnecting;
  const held = seat;
  if (!state || !held) return;
  if (Date.now() > state.deadline) return final(seatExpiredMessage(held.graceSeconds));
  state.tries++;
  const mine = attempt;
  let ticket: Ticket;
  try {
    ticket =
      held.role === 'player' && held.rejoinKey
        ? await rejoinGame(held.rejoinKey, REJOIN_TIMEOUT_MS)
        : await watchGame(held.watchKey ?? '', held.name, REJOIN_TIMEOUT_MS);
  } catch (error) {
    if (mine !== attempt || reconnecting !== state) return;
    if (error instanceof ApiError && ['game_over', 'unknown_seat', 'unknown_game'].includes(error.kind)) {
      // The seat is gone with its game, perhaps ended by the operator while we were away.
      return explainGone(held.gameId, () => final(seatExpiredMessage(held.graceSeconds)));
    }
    if (error instanceof ApiError && error.kind !== 'unreachable' && error.kind !== 'rate_limited' && error.kind !== 'other') return final(error.message);
    startReconnect('connecting');
    return;
  }
  if (mine !== attempt || reconnecting !== state) return;
  const next = seatFromTicket(ticket, held);
  next.graceSeconds = held.graceSeconds;
  if (next.gameId !== held.gameId) {
    // The key resolved to a newer game of the chain (the host played again while we were away).
    next.screen = 'lobby';
    lobby.enter(next.passcode, next.watchKey, next.inviteUrl);
  } else {
    next.screen = held.screen;
    if (current === 'lobby') lobby.resume();
  }
  seat = next;
  saveSeat(next);
  void connect(ticket, mine, 'rejoin');
}

function reconnected(): void {
  if (!reconnecting) return;
  clearTimeout(reconnecting.timer);
  reconnecting = undefined;
  banner.hidden = true;
  delete document.body.dataset.reconnecting;
}

function stopReconnect(): void {
  if (reconnecting) clearTimeout(reconnecting.timer);
  reconnecting = undefined;
  banner.hidden = true;
  delete document.body.dataset.reconnecting;
}

/** On the results screen: watch for the follow-up game the host may start. */
function startPolling(): void {
  stopPolling();
  movingOn = false;
  if (!seat) return;
  poll = setInterval(() => void pollNext(), POLL_MS);
}

function stopPolling(): void {
  clearInterval(poll);
  poll = undefined;
}

async function pollNext(): Promise<void> {
  const held = seat;
  if (!held || movingOn) return;
  const mine = attempt;
  let next;
  try {
    next = (await gameStatus(held.gameId)).next;
  } catch {
    return; // The next poll tries again.
  }
  if (mine !== attempt || current !== 'results' || movingOn || !next) return;
  if (next.state === 'starting') setAgainStatus('The host is starting another game…');
  else if (next.state === 'failed') setAgainStatus(next.message || 'The next game could not start.', true);
  else if (next.state === 'ready') void follow(held);
}

function setAgainStatus(message: string, failed = false): void {
  if (message === lastAgainStatus) return;
  lastAgainStatus = message;
  results.setAgainStatus(message, failed);
}

/** The next game is ready: players take their seat in it, spectators watch it, with the keys they hold. */
function follow(held: StoredSeat): Promise<void> {
  setAgainStatus('Joining the next game…');
  return moveOn(held, () => (held.role === 'player' && held.rejoinKey ? rejoinGame(held.rejoinKey) : watchGame(held.watchKey ?? '', held.name)));
}

/** The host's "Play again". */
async function again(): Promise<void> {
  const held = seat;
  const key = held?.rejoinKey;
  if (held && key) await moveOn(held, () => playAgain(key));
}

/** From the results screen into the next game; a refusal is said there, and the polling goes on. */
async function moveOn(held: StoredSeat, ask: () => Promise<Ticket>): Promise<void> {
  movingOn = true;
  stopPolling();
  const mine = attempt;
  let ticket: Ticket;
  try {
    ticket = await ask();
  } catch (error) {
    if (mine !== attempt) return;
    setAgainStatus(error instanceof ApiError ? error.message : String(error), true);
    startPolling();
    return;
  }
  if (mine !== attempt) return;
  enterGame(ticket, held, ++attempt);
}

function showApiError(error: unknown): void {
  if (error instanceof ApiError) home.showError({ message: error.message, ...(error.retryAfterSeconds ? { waitSeconds: error.retryAfterSeconds } : {}) });
  else home.showError({ message: `Something went wrong: ${String(error)}` });
}

/** The game is over for this tab: home, with the message (and "Join again" when a fresh ticket may help). */
function final(message: string, rejoin?: () => void): void {
  attempt++;
  stopReconnect();
  stopPolling();
  session?.drop();
  session = undefined;
  seat = undefined;
  clearSeat();
  status.textContent = '';
  show('home');
  home.showError({ message, ...(rejoin ? { rejoin } : {}) });
}

function leave(): void {
  attempt++;
  stopReconnect();
  stopPolling();
  session?.leave();
  session = undefined;
  seat = undefined;
  clearSeat();
  status.textContent = '';
  home.clearError();
  show('home');
}

// Closing or reloading the tab tells the game at once (the seat is held for a rejoin, not given up).
window.addEventListener('pagehide', () => session?.drop());

/** Where the page starts: a watch link, the seat this tab held before a reload, or plain home. */
function boot(): void {
  const params = new URLSearchParams(location.search);
  const watchKey = params.get('watch');
  const inviteKey = params.get('invite');
  const stored = readSeat();
  if (watchKey) {
    pendingWatch = watchKey;
    dropShareParameters();
    home.offerWatch(true);
    const name = home.savedName;
    home.focus();
    if (name) void begin('watch', () => watchGame(watchKey, name), { name, role: 'spectator', watchKey });
    return;
  }
  if (inviteKey && !(stored && params.get('game') === stored.gameId)) {
    // The key stays in the address bar until it took a seat (a reload before that still works, as with ?code=).
    pendingInvite = inviteKey;
    home.offerInvite(true);
    home.focus();
    return;
  }
  if (stored && params.get('game') === stored.gameId && stored.screen === 'results') {
    void resumeResults(stored);
    return;
  }
  if (stored && params.get('game') === stored.gameId) {
    seat = stored;
    lobby.enter(stored.passcode, stored.watchKey, stored.inviteUrl);
    if (stored.screen === 'game') {
      show('game');
      game.waiting('Reconnecting…');
    } else show('lobby');
    startReconnect(stored.screen === 'game' ? 'playing' : 'lobby');
    return;
  }
  if (stored || params.has('game')) clearSeat();
  home.focus();
}

/**
 * A reload on the results screen: the game is over (its server is gone), but the stored leaderboard is there and
 * the host may still start the next game, so show it and keep following the group.
 */
async function resumeResults(stored: StoredSeat): Promise<void> {
  seat = stored;
  const mine = ++attempt;
  let stored_;
  try {
    stored_ = await gameResults(stored.gameId);
  } catch {
    if (mine === attempt) final('That game is over. Start a new one or join with a passcode.');
    return;
  }
  if (mine !== attempt) return;
  const lines = stored_.players.map((p, index) => ({ index, name: p.name, score: p.score, ...(p.left ? { left: true } : {}) }));
  const you = stored.role === 'player' ? lines.find((line) => line.name === stored.name)?.index : undefined;
  results.reset();
  lastAgainStatus = '';
  results.render({ results: lines, scores: lines, you, difficulty: stored_.difficulty, abandoned: stored_.outcome === 'abandoned' }, stored.host === true && stored.role === 'player');
  show('results');
  startPolling();
}

boot();
