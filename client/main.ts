/**
 * The page: four screens (home, lobby, game, results) and the one game session that moves between them. The
 * session's view decides the screen; whatever ends a session badly comes back to home as one clear message.
 */
import type { GameView } from '../src/game/game-client.ts';
import { ApiError, createGame, joinGame, type Ticket } from './api.ts';
import { byId } from './dom.ts';
import { GameScreen } from './screens/game.ts';
import { HomeScreen, normalizePasscode } from './screens/home.ts';
import { LobbyScreen } from './screens/lobby.ts';
import { ResultsScreen } from './screens/results.ts';
import { GameSession, type SessionEnd, SessionOpenError } from './session.ts';

type ScreenName = 'home' | 'lobby' | 'game' | 'results';

let session: GameSession | undefined;
/** Bumped by every start and leave, so a connection that finishes opening after the player left is dropped. */
let attempt = 0;
let current: ScreenName = 'home';
let lobbyTicker = 0;
const status = byId('status');

const home = new HomeScreen({
  create: (name) => void start('create', () => createGame(name), name),
  join: (passcode, name) => void start('join', () => joinGame(passcode, name), name, passcode),
});
const lobby = new LobbyScreen({
  chat: (text) => session?.chat(text),
  start: (difficulty) => session?.start(difficulty),
  leave: () => leave(),
});
const game = new GameScreen(() => leave());
const results = new ResultsScreen(() => leave());

function show(screen: ScreenName): void {
  if (screen === current) return;
  current = screen;
  for (const name of ['home', 'lobby', 'game', 'results'] as const) byId(`screen-${name}`).hidden = name !== screen;
  document.body.dataset.screen = screen;
  if (screen !== 'game') game.exit();
  cancelAnimationFrame(lobbyTicker);
  if (screen === 'lobby') {
    const tick = () => {
      lobby.tick();
      lobbyTicker = requestAnimationFrame(tick);
    };
    tick();
  }
  // Move focus to the new screen's heading so keyboard and screen-reader users land where the content changed.
  if (screen === 'home') home.focus();
  else byId(`${screen}-title`).focus({ preventScroll: false });
}

/** Asks the matchmaker for a ticket, then connects through the relay; any failure lands on home as a message. */
async function start(kind: 'create' | 'join', ask: () => Promise<Ticket>, name: string, typedPasscode?: string): Promise<void> {
  if (session) return;
  const mine = ++attempt;
  home.clearError();
  home.setBusy(true, kind);
  let ticket: Ticket;
  try {
    ticket = await ask();
  } catch (error) {
    home.setBusy(false);
    if (mine !== attempt) return;
    if (error instanceof ApiError) home.showError({ message: error.message, ...(error.retryAfterSeconds ? { waitSeconds: error.retryAfterSeconds } : {}) });
    else home.showError({ message: `Something went wrong: ${String(error)}` });
    return;
  }
  if (mine !== attempt) return;
  const passcode = ticket.passcode ?? normalizePasscode(typedPasscode ?? '');
  const rejoin = () => void start('join', () => joinGame(passcode, name), name, passcode);
  lobby.enter(passcode);
  show('lobby');
  status.textContent = 'Connecting…';
  let opened: GameSession;
  try {
    opened = await GameSession.open(ticket, {
      onView: (view) => {
        if (session === opened) onView(view);
      },
      onEnd: (end) => {
        if (session === opened) ended(end, rejoin);
      },
    });
  } catch (error) {
    home.setBusy(false);
    if (mine !== attempt) return;
    const end: SessionEnd = error instanceof SessionOpenError ? error.end : { message: String(error), canRejoin: true };
    ended(end, rejoin);
    return;
  }
  home.setBusy(false);
  if (mine !== attempt) opened.leave();
  else session = opened;
}

function onView(view: GameView): void {
  if (!session) return;
  status.textContent = view.phase === 'connecting' ? 'Connecting…' : `${view.players.find((p) => p.index === view.you)?.name ?? ''} · ${view.pingMs} ms`;
  switch (view.phase) {
    case 'connecting':
    case 'lobby':
      lobby.render(view, session.isHost);
      show('lobby');
      break;
    case 'countdown':
    case 'playing':
      if (current !== 'game') {
        show('game');
        game.enter(session);
      }
      game.render(view);
      break;
    case 'results':
      results.render(view);
      show('results');
      status.textContent = '';
      break;
    case 'closed':
      // The session reports it through onEnd with the reason.
      break;
  }
}

function ended(end: SessionEnd, rejoin: () => void): void {
  session = undefined;
  status.textContent = '';
  show('home');
  home.showError({ message: end.message, ...(end.canRejoin ? { rejoin } : {}) });
}

function leave(): void {
  attempt++;
  session?.leave();
  session = undefined;
  status.textContent = '';
  home.clearError();
  show('home');
}

// Closing the tab tells the game at once instead of leaving a ghost until the connection times out.
window.addEventListener('pagehide', () => session?.leave());
home.focus();
