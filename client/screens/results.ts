/** Results: the leaderboard of the round just played, best first, equal scores sharing a rank. */
import type { GameView } from '../../src/game/game-client.ts';
import { byId, el } from '../dom.ts';
import { playerColor } from '../render.ts';

export class ResultsScreen {
  private readonly body = byId('results-body');
  private readonly summary = byId('results-summary');

  constructor(onHome: () => void) {
    byId('home-button').addEventListener('click', onHome);
  }

  render(view: GameView): void {
    const lines = [...(view.results ?? view.scores)].sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
    let rank = 0;
    this.body.replaceChildren(
      ...lines.map((line, i) => {
        if (i === 0 || lines[i - 1]!.score !== line.score) rank = i + 1;
        return el(
          'tr',
          { 'data-testid': 'result-row', class: line.index === view.you ? 'you' : undefined },
          el('td', {}, String(rank)),
          el('th', { scope: 'row' }, el('span', { class: 'swatch', style: `background:${playerColor(line.index)}`, 'aria-hidden': 'true' }), line.name, line.index === view.you ? el('span', { class: 'tag' }, 'you') : ''),
          el('td', { 'data-testid': 'result-score' }, String(line.score)),
        );
      }),
    );
    const winner = lines[0];
    const difficulty = view.difficulty ? ` on ${view.difficulty}` : '';
    const tied = lines.filter((l) => l.score === winner?.score);
    this.summary.textContent = !winner
      ? `Round over${difficulty}.`
      : tied.length > 1
        ? `${tied.map((l) => l.name).join(' and ')} tie${difficulty} with ${winner.score} points.`
        : `${winner.name} wins${difficulty} with ${winner.score} points.`;
  }
}
