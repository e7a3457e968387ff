/**
 * The minimal round: a timer and a score per player, one point per `tap` command, rate limited so a script
 * gains nothing by flooding. It exercises the whole hosting flow before the arena game exists, and stays
 * as the light round for load tests.
 */
import { CHANNEL_RELIABLE, encodeMessage } from './messages.ts';
import { rankScores, type Round, type RoundSend, type RoundSetup, type ScoreLine } from './round.ts';

const TAPS_PER_SECOND = 10;
const STATE_EVERY_SECONDS = 1;

export class TapRound implements Round {
  private readonly lines = new Map<number, ScoreLine & { allowance: number; lastTap: number }>();
  private endsAt = Infinity;
  private lastState = -Infinity;

  constructor(private readonly setup: RoundSetup) {
    for (const p of setup.players) this.lines.set(p.index, { index: p.index, name: p.name, score: 0, allowance: TAPS_PER_SECOND, lastTap: 0 });
  }

  channels(): readonly number[] {
    return [];
  }

  begin(now: number): void {
    this.endsAt = now + this.setup.roundSeconds;
  }

  onCommand(clientIndex: number, command: { type: string }, now: number): boolean {
    const line = this.lines.get(clientIndex);
    if (!line || command.type !== 'tap') return false;
    // Token bucket: refills at TAPS_PER_SECOND, holds one second's worth.
    line.allowance = Math.min(TAPS_PER_SECOND, line.allowance + (now - line.lastTap) * TAPS_PER_SECOND);
    line.lastTap = now;
    if (line.allowance >= 1 && now < this.endsAt) {
      line.allowance -= 1;
      line.score++;
    }
    return true;
  }

  onMessage(): boolean {
    return false;
  }

  update(now: number, send: RoundSend): void {
    if (now - this.lastState < STATE_EVERY_SECONDS) return;
    this.lastState = now;
    const message = encodeMessage({ type: 'round', secondsLeft: Math.max(0, Math.ceil(this.endsAt - now)), scores: this.scores() });
    for (const index of this.lines.keys()) send(index, CHANNEL_RELIABLE, message);
  }

  removePlayer(clientIndex: number): void {
    // A player who leaves keeps the points earned: the results list everyone who played.
    void clientIndex;
  }

  isOver(now: number): boolean {
    return now >= this.endsAt;
  }

  scores(): ScoreLine[] {
    return rankScores([...this.lines.values()].map(({ index, name, score }) => ({ index, name, score })));
  }
}
