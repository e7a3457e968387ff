/**
 * Game: the arena canvas, the clock, scores and own ping. The field and the controls' help show from the first
 * countdown frame (an empty field until the first snapshot arrives, then the interpolated arena). Spectators see
 * the same field with a "Watching" label and no controls. Who left or dropped is said under the scores;
 * "Leave game" asks first, since leaving gives the seat up for good.
 */
import type { GameView } from '../../src/game/game-client.ts';
import { FIRE, THRUST, TURN_LEFT, TURN_RIGHT } from '../../src/game/sim/controls.ts';
import { Phase } from '../../src/game/sim/view.ts';
import { byId, clock, el, LocalTimer } from '../dom.ts';
import { listNames } from '../endings.ts';
import { ControlInput } from '../input.ts';
import { drawArena, drawEmptyField, playerColor } from '../render.ts';
import type { GameSession } from '../session.ts';

/** Phones and tablets: the help names the on-screen buttons instead of keys. */
const TOUCH_ONLY = matchMedia('(pointer: coarse)');
const TOUCH_BITS: Readonly<Record<string, number>> = { left: TURN_LEFT, right: TURN_RIGHT, thrust: THRUST, fire: FIRE };

interface ScoreRow {
  index: number;
  name: string;
  score: number;
  left?: boolean | undefined;
  away?: boolean | undefined;
}

export class GameScreen {
  private readonly section = byId('screen-game');
  private readonly canvas = byId<HTMLCanvasElement>('game-canvas');
  private readonly timerText = byId('game-timer');
  private readonly phaseText = byId('game-phase');
  private readonly pingText = byId('game-ping');
  private readonly watching = byId('game-watching');
  private readonly scoreList = byId('game-scores');
  private readonly notice = byId('game-notice');
  private readonly help = byId('controls-help');
  private readonly touch = byId('touch-controls');
  private readonly leaveButton = byId<HTMLButtonElement>('leave-game');
  private readonly confirm = byId('leave-confirm');
  private readonly timer = new LocalTimer();
  private session: GameSession | undefined;
  private input: ControlInput | undefined;
  private frameRequest = 0;
  private lastScores = '';
  /** Players seen in the round and how they were, so a departure is told once. */
  private known = new Map<number, { name: string; left: boolean; away: boolean }>();
  private waitingText = '';

  constructor(onLeave: () => void) {
    this.leaveButton.addEventListener('click', () => {
      // Spectators give up nothing by leaving: no question.
      if (this.session?.isSpectator) onLeave();
      else this.askLeave(true);
    });
    byId('leave-confirm-yes').addEventListener('click', () => {
      this.askLeave(false);
      onLeave();
    });
    byId('leave-confirm-no').addEventListener('click', () => this.askLeave(false));
  }

  /** Shows the field for a connection (a new round, or the same round after a rejoin). */
  enter(session: GameSession, sameRound = false): void {
    this.session = session;
    this.waitingText = '';
    this.lastScores = '';
    // Only what the server says from now on: a lobby notice ("Bob is back") is old news in the round.
    this.lastNotice = session.view.notice?.message ?? '';
    if (!sameRound) {
      this.known.clear();
      this.notice.hidden = true;
      this.askLeave(false);
    }
    this.input?.dispose();
    this.input = undefined;
    const spectator = session.isSpectator;
    this.watching.hidden = !spectator;
    this.section.dataset.role = spectator ? 'spectator' : 'player';
    this.section.dataset.mode = 'arena';
    this.help.textContent = spectator
      ? 'You are watching: the players fly with the arrows or WASD and fire with space.'
      : TOUCH_ONLY.matches
        ? 'Hold the buttons under the field to turn, thrust and fire.'
        : 'Arrows or WASD: turn and thrust. Space: fire.';
    if (!spectator) {
      this.input = new ControlInput((controls) => this.session?.setControls(controls));
      for (const button of this.touch.querySelectorAll<HTMLElement>('[data-control]')) {
        const bit = TOUCH_BITS[button.dataset.control ?? ''];
        if (bit !== undefined) this.input.bindButton(button, bit);
      }
    }
    this.render(session.view);
    // Draw at once: the first countdown frame already shows the field, the phase and the help.
    this.draw();
    this.startLoop();
  }

  /** The field while there is no connection yet (a reload reconnecting into a round). */
  waiting(text: string): void {
    this.waitingText = text;
    this.section.dataset.mode = 'arena';
    this.phaseText.textContent = text;
    this.draw();
    this.startLoop();
  }

  exit(): void {
    cancelAnimationFrame(this.frameRequest);
    this.input?.dispose();
    this.input = undefined;
    this.session?.setControls(0);
    this.session = undefined;
    this.askLeave(false);
  }

  /** On each change of the view (round messages, pings). */
  render(view: GameView): void {
    this.timer.update(view.secondsLeft);
    this.pingText.textContent = `${view.pingMs} ms`;
    this.noteDepartures(view);
  }

  private startLoop(): void {
    cancelAnimationFrame(this.frameRequest);
    const loop = () => {
      this.draw();
      this.frameRequest = requestAnimationFrame(loop);
    };
    this.frameRequest = requestAnimationFrame(loop);
  }

  private askLeave(open: boolean): void {
    this.confirm.hidden = !open;
    this.leaveButton.hidden = open;
    if (open) byId('leave-confirm-no').focus();
  }

  /** "Ada left the game" once per departure; "Ada lost the connection" while their seat is held. */
  private noteDepartures(view: GameView): void {
    const lines: ScoreRow[] = view.scores.length ? view.scores.map((s) => ({ ...s, away: s.connected === false })) : [];
    const said: string[] = [];
    const gone: string[] = [];
    for (const line of lines) {
      if (line.index === view.you) continue;
      const before = this.known.get(line.index);
      const left = line.left === true;
      const away = !left && line.away === true;
      if (before && left && !before.left) gone.push(line.name);
      else if (before && away && !before.away) said.push(`${line.name} lost the connection; their ship waits for them.`);
      this.known.set(line.index, { name: line.name, left, away });
    }
    // Players who vanished from the score lines altogether left too.
    const present = new Set(lines.map((l) => l.index));
    for (const [index, before] of this.known) {
      if (lines.length && !present.has(index) && !before.left) {
        gone.push(before.name);
        this.known.set(index, { ...before, left: true });
      }
    }
    if (gone.length) said.unshift(`${listNames(gone)} left the game.`);
    const notice = view.notice;
    if (!said.length && notice && notice.code !== 'start-refused' && notice.message !== this.lastNotice) said.push(notice.message);
    if (notice) this.lastNotice = notice.message;
    if (said.length) {
      this.notice.textContent = said.join(' ');
      this.notice.hidden = false;
    }
  }

  private lastNotice = '';

  private draw(): void {
    const session = this.session;
    const now = performance.now() / 1000;
    if (!session) {
      drawEmptyField(this.canvas);
      return;
    }
    const view = session.view;
    const names = new Map(view.players.map((p) => [p.index, p.name]));
    for (const line of view.scores) names.set(line.index, line.name);

    let secondsLeft = this.timer.left(now);
    let counting = view.phase === 'countdown';
    const frame = session.arena.active ? session.arena.frame(now) : undefined;
    let rows: ScoreRow[];
    const byIndex = new Map(view.scores.map((s) => [s.index, s]));
    if (frame) {
      drawArena(this.canvas, frame, view.you, names);
      this.section.dataset.drawn = 'true';
      if (view.phase === 'playing' || frame.phase !== Phase.countdown) secondsLeft = frame.secondsLeft;
      counting = frame.phase === Phase.countdown;
      rows = frame.ships.map((s) => ({ index: s.slot, name: names.get(s.slot) ?? `P${s.slot + 1}`, score: s.score, away: byIndex.get(s.slot)?.connected === false }));
      // Departed players stay on the board, marked.
      for (const line of view.scores) if (line.left && !rows.some((r) => r.index === line.index)) rows.push({ ...line });
    } else {
      // Before the first snapshot (the countdown's first frames, a rejoin): the empty field, the lineup.
      drawEmptyField(this.canvas);
      rows = view.scores.length
        ? view.scores.map((s) => ({ ...s, away: s.connected === false }))
        : view.players.map((p) => ({ index: p.index, name: p.name, score: 0, away: p.connected === false }));
    }
    this.timerText.textContent = clock(secondsLeft);
    this.phaseText.textContent = this.waitingText || (counting ? `Get ready: ${Math.max(1, Math.ceil(secondsLeft))}` : view.phase === 'playing' ? 'Go!' : '');
    this.renderScores(rows, view.you);
  }

  private renderScores(lines: readonly ScoreRow[], you: number | undefined): void {
    const sorted = [...lines].sort((a, b) => Number(a.left ?? false) - Number(b.left ?? false) || b.score - a.score || a.name.localeCompare(b.name));
    const key = sorted.map((l) => `${l.index}:${l.score}:${l.left ? 1 : 0}:${l.away ? 1 : 0}`).join(',');
    if (key === this.lastScores) return;
    this.lastScores = key;
    this.scoreList.replaceChildren(
      ...sorted.map((l) =>
        el(
          'li',
          { 'data-testid': 'score', 'data-index': l.index, 'data-left': l.left === true, class: [l.index === you ? 'you' : '', l.left ? 'left' : ''].join(' ').trim() || undefined },
          el('span', { class: 'swatch', style: `background:${playerColor(l.index)}`, 'aria-hidden': 'true' }),
          el('span', { class: 'name' }, l.name),
          l.left ? el('span', { class: 'tag', 'data-testid': 'left-tag' }, 'left') : l.away ? el('span', { class: 'tag away' }, 'away') : '',
          el('span', { class: 'score', 'data-testid': 'score-value' }, String(l.score)),
        ),
      ),
    );
  }
}
