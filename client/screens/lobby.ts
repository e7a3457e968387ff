/**
 * Lobby: the passcode big (for reading aloud) with copy buttons, the share link (the invite link the server made,
 * with a warning for the host when it points at this computer only) and the watch link; the players (host marked, away
 * marked, ping each); who is watching; the difficulty everyone will play (the host picks it); chat; the lobby's
 * idle timer; for the host only Start. Rebuilt from the GameView on each change: the lists are short, and
 * rebuilding keeps the DOM and the view from drifting apart.
 */
import type { GameView } from '../../src/game/game-client.ts';
import { DIFFICULTIES, type Difficulty } from '../../src/game/lobby.ts';
import { byId, clock, copyText, el, LocalTimer } from '../dom.ts';
import { playerColor } from '../render.ts';

export interface LobbyActions {
  chat(text: string): void;
  start(difficulty: Difficulty): void;
  pickDifficulty(difficulty: Difficulty): void;
  leave(): void;
}

export interface LobbyRole {
  isHost: boolean;
  isSpectator: boolean;
}

/** Whether a link's host is this computer only (127.0.0.0/8, ::1, localhost): useless to friends elsewhere. */
export function isLoopbackUrl(href: string): boolean {
  let host: string;
  try {
    host = new URL(href).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]' || host === '::1' || /^\[::ffff:7f/.test(host);
}

export function difficultyLabel(difficulty: Difficulty | undefined): string {
  const d = difficulty ?? 'normal';
  return d.charAt(0).toUpperCase() + d.slice(1);
}

export class LobbyScreen {
  private readonly passcode = byId('lobby-passcode');
  private readonly shareLink = byId<HTMLInputElement>('share-link');
  private readonly shareWarning = byId('share-warning');
  private readonly watchLink = byId<HTMLInputElement>('watch-link');
  private readonly watchShare = byId('watch-share');
  private readonly copyStatus = byId('copy-status');
  private readonly players = byId('player-list');
  private readonly playerCount = byId('player-count');
  private readonly spectatorBox = byId('spectators');
  private readonly spectatorList = byId('spectator-list');
  private readonly difficultyText = byId('lobby-difficulty');
  private readonly watchingLabel = byId('lobby-watching');
  private readonly hostControls = byId('host-controls');
  private readonly startButton = byId<HTMLButtonElement>('start-button');
  private readonly waitingHost = byId('waiting-host');
  private readonly notice = byId('lobby-notice');
  private readonly chatLog = byId('chat-log');
  private readonly chatForm = byId('chat-form');
  private readonly chatReadonly = byId('chat-readonly');
  private readonly chatInput = byId<HTMLInputElement>('chat-input');
  private readonly timerText = byId('lobby-timer');
  private readonly timer = new LocalTimer();
  private chatShown = 0;
  /** The share link names a loopback host: friends on other machines cannot open it. */
  private loopbackShare = false;
  private starting = false;
  /** The server's difficulty last applied to the host's radios (so a click is not undone by a late update). */
  private shownDifficulty: Difficulty | undefined;

  constructor(private readonly actions: LobbyActions) {
    byId('copy-button').addEventListener('click', () => void this.copy(this.passcode.textContent ?? '', 'Passcode copied.'));
    byId('copy-link-button').addEventListener('click', () => void this.copy(this.shareLink.value, 'Link copied.'));
    byId('copy-watch-button').addEventListener('click', () => void this.copy(this.watchLink.value, 'Watch link copied.'));
    for (const input of [this.shareLink, this.watchLink]) input.addEventListener('focus', () => input.select());
    byId('chat-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const text = this.chatInput.value.trim();
      if (!text) return;
      this.actions.chat(text);
      this.chatInput.value = '';
    });
    for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="difficulty"]')) {
      radio.addEventListener('change', () => {
        if (radio.checked) this.actions.pickDifficulty(this.difficulty());
      });
    }
    this.startButton.addEventListener('click', () => {
      this.starting = true;
      this.startButton.disabled = true;
      this.startButton.textContent = 'Starting…';
      this.actions.start(this.difficulty());
    });
    byId('leave-lobby').addEventListener('click', () => this.actions.leave());
  }

  /**
   * A fresh lobby for this game (a new game, or the next one after "Play again"). The share link is the invite
   * link from the server (built on its public base); a seat from before invites (none in the answer) falls back to
   * `?code=`. The watch link uses the same base, so --public-url applies to it too.
   */
  enter(passcode: string | undefined, watchKey: string | undefined, inviteUrl?: string): void {
    this.passcode.textContent = passcode ?? '';
    const base = inviteUrl ?? location.href;
    const link = new URL('/', base);
    if (passcode) link.searchParams.set('code', passcode);
    this.shareLink.value = inviteUrl ?? (passcode ? link.href : '');
    this.loopbackShare = this.shareLink.value !== '' && isLoopbackUrl(this.shareLink.value);
    const watch = new URL('/', base);
    if (watchKey) watch.searchParams.set('watch', watchKey);
    this.watchLink.value = watchKey ? watch.href : '';
    this.watchShare.hidden = !watchKey;
    // A spectator has no passcode to share: only the watch link.
    byId('share-passcode').hidden = !passcode;
    byId('share-code').hidden = !passcode;
    byId('share-card').classList.toggle('watch-only', !passcode);
    this.copyStatus.textContent = '';
    this.chatLog.replaceChildren();
    this.shownDifficulty = undefined;
    this.resume();
    this.render(undefined, { isHost: false, isSpectator: false });
  }

  /** The same lobby on a new connection (a rejoin): the chat seen so far stays, the new connection's is added. */
  resume(): void {
    this.chatShown = 0;
    this.starting = false;
    this.notice.hidden = true;
  }

  /** Runs every frame while the lobby shows, so the timer ticks between the server's updates. */
  tick(): void {
    const left = this.timer.left();
    this.timerText.textContent = left > 0 ? `The lobby closes in ${clock(left)} unless the host starts.` : '';
  }

  render(view: GameView | undefined, role: LobbyRole): void {
    const connected = view !== undefined && view.phase !== 'connecting';
    const { isHost, isSpectator } = role;
    if (view) this.timer.update(view.lobbySecondsLeft);
    this.players.replaceChildren(
      ...(view?.players ?? []).map((p) => {
        const you = p.index === view?.you;
        // Your own ping is the number the header shows (measured here, fresher than the server's list).
        const ping = you ? view!.pingMs : p.pingMs;
        const away = p.connected === false;
        return el(
          'li',
          { 'data-testid': 'player', 'data-host': p.host, 'data-index': p.index, 'data-away': away, class: [you ? 'you' : '', away ? 'away' : ''].join(' ').trim() || undefined },
          el('span', { class: 'swatch', style: `background:${playerColor(p.index)}`, 'aria-hidden': 'true' }),
          el('span', { class: 'name' }, p.name),
          you ? el('span', { class: 'tag' }, 'you') : '',
          p.host ? el('span', { class: 'tag host', title: 'Host' }, '★ host') : '',
          away ? el('span', { class: 'tag away', 'data-testid': 'away-tag' }, 'reconnecting') : '',
          el('span', { class: 'ping', 'data-testid': 'player-ping', 'aria-label': `ping ${ping} milliseconds` }, away ? '–' : `${ping} ms`),
        );
      }),
    );
    const spectators = view?.spectators ?? [];
    this.spectatorBox.hidden = spectators.length === 0;
    this.spectatorList.replaceChildren(...spectators.map((name) => el('li', { 'data-testid': 'spectator' }, name)));
    this.playerCount.textContent = view && view.maxPlayers ? `(${view.players.length}/${view.maxPlayers})` : '';
    this.difficultyText.textContent = difficultyLabel(view?.difficulty);
    this.watchingLabel.hidden = !isSpectator;
    this.shareWarning.hidden = !(this.loopbackShare && isHost);
    this.hostControls.hidden = !isHost;
    if (isHost && view?.difficulty && view.difficulty !== this.shownDifficulty) {
      // The server's pick (after a rejoin, or the first lobby message) is what the radios show.
      this.shownDifficulty = view.difficulty;
      const radio = document.querySelector<HTMLInputElement>(`input[name="difficulty"][value="${view.difficulty}"]`);
      if (radio) radio.checked = true;
    }
    this.chatForm.hidden = isSpectator;
    this.chatReadonly.hidden = !isSpectator;
    const host = view?.players.find((p) => p.host);
    this.waitingHost.textContent = !connected
      ? 'Connecting to the game…'
      : isHost
        ? ''
        : isSpectator
          ? `You are watching. The round starts when ${host?.name ?? 'the host'} starts it.`
          : `Waiting for ${host?.name ?? 'the host'} to start the game.`;
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
