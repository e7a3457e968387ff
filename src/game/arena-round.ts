/**
 * The arena as a round of the session: the deterministic world stepped at a fixed 30 Hz, each player's inputs
 * (unreliable, repeated) fed through an input buffer, and snapshots at 20 Hz to every player as deltas against
 * the last snapshot that player acknowledged. Scores and the clock also go out once a second on the reliable
 * channel, so the lobby-level view (scoreboard, timer, results) needs no snapshot decoding.
 *
 * A ship's slot is the player's netcode client index; the world has 8 slots, so in a game configured for more
 * players, those beyond slot 7 watch.
 */
import { InputBuffer, decodeInput } from './codec/input.ts';
import { SnapshotHistory, SnapshotSender } from './codec/snapshot-stream.ts';
import { CHANNEL_RELIABLE, encodeMessage } from './messages.ts';
import { Channel } from './peer-link.ts';
import { rankScores, type Round, type RoundSend, type RoundSetup, type ScoreLine } from './round.ts';
import type { Controls } from './sim/controls.ts';
import { MAX_SHIPS, TICKS_PER_SECOND, World } from './sim/world.ts';

const TICK_SECONDS = 1 / TICKS_PER_SECOND;
/** After a stall (GC, a busy core) the world catches up at most this many ticks at once, then lets time slip. */
const MAX_CATCH_UP_TICKS = 5;
const STATE_EVERY_SECONDS = 1;

interface ArenaPlayer {
  readonly index: number;
  readonly name: string;
  readonly inputs: InputBuffer;
  readonly snapshots: SnapshotSender;
}

export class ArenaRound implements Round {
  readonly world: World;
  private readonly players = new Map<number, ArenaPlayer>();
  private readonly history = new SnapshotHistory();
  /** Scores of players who left during the round: the results list everyone who played. */
  private readonly departed = new Map<number, ScoreLine>();
  private readonly controls: (Controls | undefined)[] = new Array<Controls | undefined>(MAX_SHIPS).fill(undefined);
  private readonly encoded = new Map<number, Uint8Array>();
  private clock = 0;
  private lastState = -Infinity;
  private begun = false;

  constructor(setup: RoundSetup, seed: number = crypto.getRandomValues(new Uint32Array(1))[0] as number) {
    this.world = new World({ seed, difficulty: setup.difficulty, countdownTicks: 0, roundTicks: Math.round(setup.roundSeconds * TICKS_PER_SECOND) });
    const history = this.history;
    for (const p of setup.players) {
      if (p.index >= MAX_SHIPS) continue;
      this.world.join(p.index, p.name);
      this.players.set(p.index, { index: p.index, name: p.name, inputs: new InputBuffer(), snapshots: new SnapshotSender(history) });
    }
  }

  channels(): readonly number[] {
    return [Channel.Input];
  }

  begin(now: number): void {
    this.clock = now;
    this.begun = true;
  }

  onCommand(): boolean {
    // The arena takes no reliable game commands; anything here is a client out of step with the round.
    return false;
  }

  onMessage(clientIndex: number, channel: number, bytes: Uint8Array): boolean {
    const player = this.players.get(clientIndex);
    if (channel !== Channel.Input) return false;
    const packet = decodeInput(bytes);
    if (typeof packet === 'string') return false;
    if (!player) return true; // a watcher's inputs are valid, just unused
    player.inputs.receive(packet);
    if (packet.ackSnapshotTick !== undefined) player.snapshots.acknowledge(packet.ackSnapshotTick);
    return true;
  }

  update(now: number, send: RoundSend): void {
    if (!this.begun) return;
    let steps = 0;
    // The epsilon keeps float error from postponing a tick that is due exactly now.
    while (now - this.clock >= TICK_SECONDS - 1e-9 && !this.world.isOver) {
      if (steps === MAX_CATCH_UP_TICKS) {
        this.clock = now;
        break;
      }
      this.step(send);
      this.clock += TICK_SECONDS;
      steps++;
    }
    if (now - this.lastState >= STATE_EVERY_SECONDS || this.world.isOver) {
      this.lastState = now;
      const message = encodeMessage({ type: 'round', secondsLeft: Math.ceil(this.world.ticksLeft / TICKS_PER_SECOND), scores: this.scores() });
      for (const index of this.players.keys()) send(index, CHANNEL_RELIABLE, message);
    }
  }

  removePlayer(clientIndex: number): void {
    const player = this.players.get(clientIndex);
    if (!player) return;
    const entry = this.world.scores().find((s) => s.slot === clientIndex);
    if (entry) this.departed.set(clientIndex, { index: clientIndex, name: entry.name, score: entry.score });
    this.world.leave(clientIndex);
    this.players.delete(clientIndex);
  }

  isOver(): boolean {
    return this.world.isOver;
  }

  scores(): ScoreLine[] {
    const present = this.world.scores().map(({ slot, name, score }) => ({ index: slot, name, score }));
    return rankScores([...present, ...this.departed.values()]);
  }

  private step(send: RoundSend): void {
    this.controls.fill(undefined);
    for (const player of this.players.values()) this.controls[player.index] = player.inputs.next();
    this.world.step(this.controls);
    // Snapshots on two ticks of every three: 20 Hz.
    if (this.world.tick % 3 === 0) return;
    const view = this.world.view();
    this.history.record(view);
    // Players who acknowledged the same snapshot get the same bytes: encode each baseline once per tick (most
    // players on a healthy link share one or two), not once per player.
    const byBaseline = this.encoded;
    byBaseline.clear();
    for (const player of this.players.values()) {
      const baseline = player.snapshots.ackedTick ?? -1;
      let bytes = byBaseline.get(baseline);
      if (!bytes) byBaseline.set(baseline, (bytes = player.snapshots.encode(view)));
      send(player.index, Channel.Snapshot, bytes);
    }
  }
}
