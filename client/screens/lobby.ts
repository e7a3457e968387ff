/**
 * Lobby: the passcode big with copy buttons and a share link, the players (host marked, ping each), chat, the
 * lobby's idle timer, and for the host only the difficulty and Start. Rebuilt from the GameView on each change;
 * the lists are short, and rebuilding keeps the DOM and the view from drifting apart.
 */
import type { GameView } from '../../src/game/game-client.ts';
import { DIFFICULTIES, type Difficulty } from '../../src/game/lobby.ts';
import { byId, clock, copyText, el, LocalTimer } from '../dom.ts';
import { playerColor } from '../render.ts';

export interface LobbyActions {
  chat(text: string): void;
  start(difficulty: Difficulty): void;
  leave(): void;
}

export class LobbyScreen {
  private readonly passcode = byId('lobby-passcode');
  private readonly shareLink = byId<HTMLInputElement>('share-link');
  private readonly copyStatus = byId('copy-status');
  private readonly players = byId('player-list');
  private readonly playerCount = byId('player-count');
  private readonly hostControls = byId('host-controls');
  private readonly startButton = byId<HTMLButtonElement>('start-button');
  private readonly waitingHost = byId('waiting-host');
  private readonly notice = byId('lobby-notice');
  private readonly chatLog = byId('chat-log');
  private readonly chatInput = byId<HTMLInputElement>('chat-input');
  private readonly timerText = byId('lobby-timer');
  private readonly timer = new LocalTimer();
  private chatShown = 0;
  private starting = false;

  constructor(private readonly actions: LobbyActions) {
    byId('copy-button').addEventListener('click', () => void this.copy(this.passcode.textContent ?? '', 'Passcode copied.'));
    byId('copy-link-button').addEventListener('click', () => void this.copy(this.shareLink.value, 'Link copied.'));
    this.shareLink.addEventListener('focus', () => this.shareLink.select());
    byId('chat-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const text = this.chatInput.value.trim();
      if (!text) return;
      this.actions.chat(text);
      this.chatInput.value = '';
    });
    this.startButton.addEventListener('click', () => {
      this.starting = true;
      this.startButton.disabled = true;
      this.startButton.textContent = 'Starting…';
      this.actions.start(this.difficulty());
    });
    byId('leave-lobby').addEventListener('click', () => this.actions.leave());
  }

  /** A fresh lobby for this passcode (a new game, or a rejoin). */
  enter(passcode: string): void {
    this.passcode.textContent = passcode;
    const link = new URL('/', location.href);
    link.searchParams.set('code', passcode);
    this.shareLink.value = link.href;
    this.copyStatus.textContent = '';
    this.chatLog.replaceChildren();
    this.chatShown = 0;
    this.starting = false;
    this.notice.hidden = true;
    this.render(undefined);
  }

  /** Runs every frame while the lobby shows, so the timer ticks between the server's updates. */
  tick(): void {
    const left = this.timer.left();
    this.timerText.textContent = left > 0 ? `The lobby closes in ${clock(left)} unless the host starts.` : '';
  }

  render(view: GameView | undefined, isHost = false): void {
    const connected = view !== undefined && view.phase !== 'connecting';
    if (view) this.timer.update(view.lobbySecondsLeft);
    this.players.replaceChildren(
      ...(view?.players ?? []).map((p) =>
        el(
          'li',
          { 'data-testid': 'player', 'data-host': p.host, class: p.index === view?.you ? 'you' : undefined },
          el('span', { class: 'swatch', style: `background:${playerColor(p.index)}`, 'aria-hidden': 'true' }),
          el('span', { class: 'name' }, p.name),
          p.index === view?.you ? el('span', { class: 'tag' }, 'you') : '',
          p.host ? el('span', { class: 'tag host', title: 'Host' }, '★ host') : '',
          el('span', { class: 'ping', 'aria-label': `ping ${p.pingMs} milliseconds` }, `${p.pingMs} ms`),
        ),
      ),
    );
    this.playerCount.textContent = view && view.maxPlayers ? `(${view.players.length}/${view.maxPlayers})` : '';
    this.hostControls.hidden = !isHost;
    const host = view?.players.find((p) => p.host);
    this.waitingHost.textContent = !connected ? 'Connecting to the game…' : isHost ? '' : `Waiting for ${host?.name ?? 'the host'} to start the game.`;
    if (!this.starting) {
      this.startButton.disabled = !connected;
      this.startButton.textContent = 'Start game';
    }
    if (view?.notice) {
      this.notice.textContent = view.notice.message;
      this.notice.hidden = false;
      // A refused start gives the button back.
      if (view.notice.code === 'start-refused' && this.starting) {
        this.starting = false;
        this.startButton.disabled = false;
        this.startButton.textContent = 'Start game';
      }
    }
    for (; view && this.chatShown < view.chat.length; this.chatShown++) {
      const line = view.chat[this.chatShown]!;
      this.chatLog.append(
        el('li', { 'data-testid': 'chat-line' }, el('strong', { style: `color:${playerColor(line.from)}` }, line.name), ': ', line.text),
      );
      this.chatLog.scrollTop = this.chatLog.scrollHeight;
    }
  }

  private difficulty(): Difficulty {
    const checked = document.querySelector<HTMLInputElement>('input[name="difficulty"]:checked');
    return (DIFFICULTIES as readonly string[]).includes(checked?.value ?? '') ? (checked!.value as Difficulty) : 'normal';
  }

  private async copy(text: string, done: string): Promise<void> {
    this.copyStatus.textContent = (await copyText(text)) ? done : 'Copy failed: select the text and copy it by hand.';
  }
}
