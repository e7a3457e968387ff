/**
 * Results: the leaderboard of the round just played, best first, equal scores sharing a rank, departed players
 * marked "left"; for the host a "Play again" button; for everyone the follow-up game's progress ("starting",
 * or why it failed) while main.ts polls for it.
 */
import type { GameView } from '../../src/game/game-client.ts';
import { byId, el } from '../dom.ts';
import { listNames } from '../endings.ts';
import { playerColor } from '../render.ts';

/** What the screen shows: a live game's view, or the stored results after a reload. */
export type ResultsView = Pick<GameView, 'results' | 'scores' | 'you' | 'difficulty' | 'abandoned'>;

export interface ResultsActions {
  home(): void;
  again(): void;
}

export class ResultsScreen {
  private readonly body = byId('results-body');
  private readonly summary = byId('results-summary');
  private readonly againButton = byId<HTMLButtonElement>('again-button');
  private readonly againStatus = byId('again-status');

  constructor(actions: ResultsActions) {
    byId('home-button').addEventListener('click', () => actions.home());
    this.againButton.addEventListener('click', () => {
      this.againButton.disabled = true;
      this.againButton.textContent = 'Starting…';
      this.setAgainStatus('Starting another game for everyone…');
      actions.again();
    });
  }

  /** A new results screen: the button and the status start fresh. */
  reset(): void {
    this.againButton.disabled = false;
    this.againButton.textContent = 'Play again';
    this.againStatus.hidden = true;
  }

  render(view: ResultsView, canPlayAgain: boolean): void {
    this.againButton.hidden = !canPlayAgain;
    const lines = [...(view.results ?? view.scores)].sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
    let rank = 0;
    this.body.replaceChildren(
      ...lines.map((line, i) => {
        if (i === 0 || lines[i - 1]!.score !== line.score) rank = i + 1;
        return el(
          'tr',
          { 'data-testid': 'result-row', 'data-left': line.left === true, class: line.index === view.you ? 'you' : undefined },
          el('td', {}, String(rank)),
          el(
            'th',
            { scope: 'row' },
            el('span', { class: 'swatch', style: `background:${playerColor(line.index)}`, 'aria-hidden': 'true' }),
            line.name,
            line.index === view.you ? el('span', { class: 'tag' }, 'you') : '',
            line.left ? el('span', { class: 'tag', 'data-testid': 'left-tag', title: 'Left before the end' }, 'left') : '',
          ),
          el('td', { 'data-testid': 'result-score' }, String(line.score)),
        );
      }),
    );
    const winner = lines[0];
    const difficulty = view.difficulty ? ` on ${view.difficulty}` : '';
    const tied = lines.filter((l) => l.score === winner?.score);
    const points = (n: number) => `${n} ${n === 1 ? 'point' : 'points'}`;
    this.summary.textContent = view.abandoned
      ? 'Everyone left before the end: this round is not ranked.'
      : !winner
        ? `Round over${difficulty}.`
        : tied.length > 1
          ? `${listNames(tied.map((l) => l.name))} tie${difficulty} with ${points(winner.score)}.`
          : `${winner.name} wins${difficulty} with ${points(winner.score)}.`;
  }

  setAgainStatus(message: string | undefined, failed = false): void {
    this.againStatus.hidden = !message;
    this.againStatus.textContent = message ?? '';
    this.againStatus.dataset.failed = String(failed);
    if (failed) {
      // The host may try again (another free slot may appear).
      this.againButton.disabled = false;
      this.againButton.textContent = 'Play again';
    }
  }
}
