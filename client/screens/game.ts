/**
 * Game: the canvas, the clock, scores and own ping. Two kinds of round share the screen: the arena (drawn from
 * snapshots as soon as one arrives) and the tap round the server runs until the arena is wired (score bars on
 * the canvas and a big TAP button, or the space bar). `data-mode` on the section says which is showing.
 */
import type { GameView } from '../../src/game/game-client.ts';
import { FIRE, THRUST, TURN_LEFT, TURN_RIGHT } from '../../src/game/sim/controls.ts';
import { Phase } from '../../src/game/sim/view.ts';
import { byId, clock, el, LocalTimer } from '../dom.ts';
import { ControlInput } from '../input.ts';
import { drawArena, drawTapRound, playerColor, type TapLine } from '../render.ts';
import type { GameSession } from '../session.ts';

/** Phones and tablets: the help names the on-screen buttons instead of keys. */
const TOUCH_ONLY = matchMedia('(pointer: coarse)');
const TOUCH_BITS: Readonly<Record<string, number>> = { left: TURN_LEFT, right: TURN_RIGHT, thrust: THRUST, fire: FIRE };

export class GameScreen {
  private readonly section = byId('screen-game');
  private readonly canvas = byId<HTMLCanvasElement>('game-canvas');
  private readonly timerText = byId('game-timer');
  private readonly phaseText = byId('game-phase');
  private readonly pingText = byId('game-ping');
  private readonly scoreList = byId('game-scores');
  private readonly tapButton = byId<HTMLButtonElement>('tap-button');
  private readonly help = byId('controls-help');
  private readonly timer = new LocalTimer();
  private session: GameSession | undefined;
  private input: ControlInput | undefined;
  private frameRequest = 0;
  private lastScores = '';

  constructor(onLeave: () => void) {
    byId('leave-game').addEventListener('click', onLeave);
    this.tapButton.addEventListener('click', () => this.session?.tap());
  }

  enter(session: GameSession): void {
    this.session = session;
    this.lastScores = '';
    this.input?.dispose();
    this.input = new ControlInput(
      (controls) => this.session?.setControls(controls),
      () => this.session?.tap(),
      () => !this.arenaMode(),
    );
    for (const button of document.querySelectorAll<HTMLElement>('#touch-controls [data-control]')) {
      const bit = TOUCH_BITS[button.dataset.control ?? ''];
      if (bit !== undefined) this.input.bindButton(button, bit);
    }
    this.render(session.view);
    cancelAnimationFrame(this.frameRequest);
    const loop = () => {
      this.draw();
      this.frameRequest = requestAnimationFrame(loop);
    };
    this.frameRequest = requestAnimationFrame(loop);
  }

  exit(): void {
    cancelAnimationFrame(this.frameRequest);
    this.input?.dispose();
    this.input = undefined;
    this.session?.setControls(0);
    this.session = undefined;
  }

  /** On each change of the view (round messages, pings). */
  render(view: GameView): void {
    this.timer.update(view.secondsLeft);
    this.pingText.textContent = `${view.pingMs} ms`;
  }

  private arenaMode(): boolean {
    return this.session?.arena.active ?? false;
  }

  private draw(): void {
    const session = this.session;
    if (!session) return;
    const view = session.view;
    const now = performance.now() / 1000;
    const arena = this.arenaMode();
    this.section.dataset.mode = arena ? 'arena' : 'tap';
    this.tapButton.hidden = arena || view.phase !== 'playing';
    const names = new Map(view.players.map((p) => [p.index, p.name]));
    for (const line of view.scores) names.set(line.index, line.name);

    let secondsLeft = this.timer.left(now);
    let lines: TapLine[];
    let counting = view.phase === 'countdown';
    const frame = arena ? session.arena.frame(now) : undefined;
    if (frame) {
      drawArena(this.canvas, frame, view.you, names);
      if (view.phase === 'playing' || frame.phase !== Phase.countdown) secondsLeft = frame.secondsLeft;
      counting = frame.phase === Phase.countdown;
      lines = frame.ships.map((s) => ({ index: s.slot, name: names.get(s.slot) ?? `P${s.slot + 1}`, score: s.score }));
      this.help.textContent = TOUCH_ONLY.matches ? 'Hold the buttons under the field to turn, thrust and fire.' : 'Arrows or WASD: turn and thrust. Space: fire.';
    } else {
      lines = view.scores.length ? view.scores : view.players.map((p) => ({ index: p.index, name: p.name, score: 0 }));
      drawTapRound(this.canvas, lines, view.you, now);
      this.help.textContent = 'Tap the button (or press space) as fast as you can.';
    }
    this.timerText.textContent = clock(secondsLeft);
    this.phaseText.textContent = counting ? `Get ready: ${Math.ceil(secondsLeft)}` : view.phase === 'playing' ? 'Go!' : '';
    this.renderScores(lines, view.you);
  }

  private renderScores(lines: readonly TapLine[], you: number | undefined): void {
    const sorted = [...lines].sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
    const key = sorted.map((l) => `${l.index}:${l.score}`).join(',');
    if (key === this.lastScores) return;
    this.lastScores = key;
    this.scoreList.replaceChildren(
      ...sorted.map((l) =>
        el(
          'li',
          { 'data-testid': 'score', class: l.index === you ? 'you' : undefined },
          el('span', { class: 'swatch', style: `background:${playerColor(l.index)}`, 'aria-hidden': 'true' }),
          el('span', { class: 'name' }, l.name),
          el('span', { class: 'score' }, String(l.score)),
        ),
      ),
    );
  }
}
