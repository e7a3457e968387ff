/**
 * The arena as a round of the session: the deterministic world stepped at a fixed 30 Hz (the steps due run at
 * each snapshot's wake: nextDueAt), each connected
 * player's inputs (unreliable, repeated) fed through an input buffer, and snapshots at an even 20 Hz (every 50 ms
 * on the round's own clock, not on 2 ticks of 3, which would space them 33 and 67 ms apart) to every player and
 * spectator, each of the world as its newest tick left it, as deltas against the last snapshot that receiver acknowledged (spectators send nothing, so they
 * get full snapshots). The world runs from the first countdown frame (ships wait on their ring, nothing moves),
 * so clients draw the field as soon as the countdown shows.
 *
 * A ship's slot is the player's seat index; the world has 8 slots, so in a game configured for more players,
 * seats beyond slot 7 watch. A dropped player's ship stays with neutral controls; a rejoin gets a fresh input
 * buffer (the new client counts its ticks from zero) and a fresh snapshot stream (it holds no baseline).
 */
import { InputBuffer, decodeInput } from './codec/input.ts';
import { SnapshotHistory, SnapshotSender } from './codec/snapshot-stream.ts';
import { Channel } from './peer-link.ts';
import { rankScores, type Round, type RoundSend, type RoundSetup, type ScoreLine } from './round.ts';
import type { Controls } from './sim/controls.ts';
import { Phase } from './sim/view.ts';
import { MAX_SHIPS, TICKS_PER_SECOND, World } from './sim/world.ts';

const TICK_SECONDS = 1 / TICKS_PER_SECOND;
export const SNAPSHOTS_PER_SECOND = 20;
const SNAPSHOT_SECONDS = 1 / SNAPSHOTS_PER_SECOND;
/** After a stall (GC, a busy core) the world catches up at most this many ticks at once, then lets time slip. */
const MAX_CATCH_UP_TICKS = 5;
/**
 * How early a step or a snapshot may be taken as due. The session's clock is seconds since 1970, whose doubles
 * are only ~0.24 µs apart: a due time handed back by the loop through its millisecond clock can come out a few of
 * those short, and an exact comparison would then do nothing and be due again at once.
 */
const DUE_EPSILON_SECONDS = 1e-6;

/** A round's setup, and where in each 50 ms its snapshots fall. */
export interface ArenaSetup extends RoundSetup {
  /**
   * The snapshots' phase, as a fraction of their period: they fall at times t (on the session's clock, seconds
   * since 1970) with t mod 50 ms = wakePhase × 50 ms. The games of one machine each get their own
   * (game-main.ts: wakePhase of the game's port), so their wakes are spread over the period instead of meeting at
   * random: a wake that falls while another game's runs on the same core waits for it, and a wake now carries 1 or
   * 2 steps, a snapshot and 50 ms of datagrams. Default 0.
   */
  wakePhase?: number;
}

interface ArenaPlayer {
  readonly seat: number;
  readonly name: string;
  /** The connection carrying this seat now; undefined while dropped. */
  clientIndex: number | undefined;
  inputs: InputBuffer;
  snapshots: SnapshotSender;
}

export class ArenaRound implements Round {
  readonly world: World;
  private readonly players = new Map<number, ArenaPlayer>();
  /** Spectators, and seats without a ship (beyond slot 7), by client index. */
  private readonly viewers = new Map<number, SnapshotSender>();
  /** Seats without a ship, so their connection can be found again when it goes. */
  private readonly watchingSeats = new Map<number, number>();
  private readonly history = new SnapshotHistory();
  /** Scores of players who left during the round: the results list everyone who played. */
  private readonly departed = new Map<number, ScoreLine>();
  private readonly controls: (Controls | undefined)[] = new Array<Controls | undefined>(MAX_SHIPS).fill(undefined);
  private readonly encoded = new Map<number, Uint8Array>();
  private readonly roundTicks: number;
  /** The time of the newest world step (the next is due a tick later). */
  private clock = 0;
  /** The time the newest snapshot was due (the next is due 50 ms later), and the world tick it showed. */
  private snapshotClock = 0;
  private snapshotTick = -1;
  private begun = false;
  private readonly wakePhase: number;

  constructor(setup: ArenaSetup, seed: number = crypto.getRandomValues(new Uint32Array(1))[0] as number) {
    this.roundTicks = Math.round(setup.roundSeconds * TICKS_PER_SECOND);
    const phase = setup.wakePhase ?? 0;
    if (!(phase >= 0 && phase < 1)) throw new RangeError(`wakePhase must be in [0, 1), got ${phase}`);
    this.wakePhase = phase;
    const countdownTicks = Math.round((setup.countdownSeconds ?? 0) * TICKS_PER_SECOND);
    this.world = new World({ seed, difficulty: setup.difficulty, countdownTicks, roundTicks: this.roundTicks });
    for (const p of setup.players) {
      if (p.index >= MAX_SHIPS) continue;
      this.world.join(p.index, p.name);
      this.players.set(p.index, { seat: p.index, name: p.name, clientIndex: undefined, inputs: new InputBuffer(), snapshots: new SnapshotSender(this.history) });
    }
  }

  channels(): readonly number[] {
    return [Channel.Input];
  }

  begin(now: number): void {
    this.clock = now;
    // The first snapshot is due at the first time on the round's phase from the first step on (so it shows a step).
    const first = now + TICK_SECONDS;
    const due = this.onPhaseAtOrBefore(first);
    this.snapshotClock = (due < first - DUE_EPSILON_SECONDS ? due + SNAPSHOT_SECONDS : due) - SNAPSHOT_SECONDS;
    this.begun = true;
  }

  /**
   * The next snapshot's time: the loop wakes 20 times a second, and each wake first runs the world's steps due by
   * then (1 or 2 of its 30 Hz ticks), then sends the snapshot of the newest one. Waking for the steps between
   * snapshots too (40 wakes a second) would show players nothing sooner: what they see of a step is the snapshot
   * that carries it, and that leaves at the same time either way. An input reaches the same step too, or an
   * earlier one: a step run late has read everything that arrived before it ran (inputs are consumed in their own
   * tick order, input.ts). A wake costs an idle Bun loop 0.16–0.22 ms here (BENCHMARKS.md, "Load", lever 2).
   */
  nextDueAt(): number {
    if (!this.begun || this.world.isOver) return Infinity;
    return this.snapshotClock + SNAPSHOT_SECONDS;
  }

  onCommand(): boolean {
    // The arena takes no reliable game commands; anything here is a client out of step with the round.
    return false;
  }

  onMessage(seat: number, channel: number, bytes: Uint8Array): boolean {
    if (channel !== Channel.Input) return false;
    const packet = decodeInput(bytes);
    if (typeof packet === 'string') return false;
    const player = this.players.get(seat);
    if (!player || player.clientIndex === undefined) return true; // a seat without a ship: valid, just unused
    player.inputs.receive(packet);
    if (packet.ackSnapshotTick !== undefined) player.snapshots.acknowledge(packet.ackSnapshotTick);
    return true;
  }

  connect(seat: number, clientIndex: number): void {
    const player = this.players.get(seat);
    if (!player) {
      if (this.departed.has(seat)) return;
      this.watchingSeats.set(seat, clientIndex);
      this.addViewer(clientIndex);
      return;
    }
    player.clientIndex = clientIndex;
    player.inputs = new InputBuffer();
    player.snapshots = new SnapshotSender(this.history);
  }

  disconnect(seat: number): void {
    const player = this.players.get(seat);
    if (player) {
      player.clientIndex = undefined;
      return;
    }
    const watcher = this.watchingSeats.get(seat);
    if (watcher !== undefined) {
      this.watchingSeats.delete(seat);
      this.removeViewer(watcher);
    }
  }

  addViewer(clientIndex: number): void {
    this.viewers.set(clientIndex, new SnapshotSender(this.history));
  }

  removeViewer(clientIndex: number): void {
    this.viewers.delete(clientIndex);
  }

  update(now: number, send: RoundSend): void {
    if (!this.begun) return;
    let steps = 0;
    while (now - this.clock >= TICK_SECONDS - DUE_EPSILON_SECONDS && !this.world.isOver) {
      if (steps === MAX_CATCH_UP_TICKS) {
        this.clock = now;
        break;
      }
      this.step();
      this.clock += TICK_SECONDS;
      steps++;
    }
    if (now - this.snapshotClock >= SNAPSHOT_SECONDS - DUE_EPSILON_SECONDS) {
      // Late by more than a snapshot interval (a stall): the schedule restarts from now instead of sending the
      // missed ones back to back, which would show nothing newer.
      // The next one is found on the phase again, not added: at seconds since 1970 every added 0.05 s comes out
      // short by the same rounding, ~0.6 ms over ten minutes, which would wear the games' phases into each other.
      this.snapshotClock = now - this.snapshotClock >= 2 * SNAPSHOT_SECONDS ? this.restartedClock(now) : this.onPhaseAtOrBefore(this.snapshotClock + SNAPSHOT_SECONDS);
      // Nothing new since the last one (the world is over): nothing to send.
      if (this.world.tick !== this.snapshotTick) this.sendSnapshots(send);
    }
  }

  removePlayer(seat: number): void {
    this.disconnect(seat);
    const player = this.players.get(seat);
    if (!player) return;
    const entry = this.world.scores().find((s) => s.slot === seat);
    this.departed.set(seat, { index: seat, name: player.name, score: entry?.score ?? 0, left: true });
    this.world.leave(seat);
    this.players.delete(seat);
  }

  isOver(): boolean {
    return this.world.isOver;
  }

  secondsLeft(): number {
    const ticks = this.world.phase === Phase.countdown ? this.roundTicks : this.world.ticksLeft;
    return Math.ceil(ticks / TICKS_PER_SECOND);
  }

  scores(): ScoreLine[] {
    const present = this.world.scores().map(({ slot, name, score }): ScoreLine => {
      const line: ScoreLine = { index: slot, name, score };
      if (this.players.get(slot)?.clientIndex === undefined) line.connected = false;
      return line;
    });
    return rankScores([...present, ...[...this.departed.values()].map((line) => ({ ...line }))]);
  }

  /** The latest time at or before `now` on the round's snapshot phase. */
  private onPhaseAtOrBefore(now: number): number {
    // By whole periods from the phase's offset, not `now % period` (0.05 has no exact double, and a remainder that
    // comes out a hair under a period would put the time a whole period early). The epsilon is added in seconds:
    // at seconds since 1970 the quotient's doubles are ~8e-6 periods apart, so one added to it would vanish.
    const offset = this.wakePhase * SNAPSHOT_SECONDS;
    const periods = Math.floor((now + DUE_EPSILON_SECONDS - offset) / SNAPSHOT_SECONDS);
    return periods * SNAPSHOT_SECONDS + offset;
  }

  /**
   * The snapshot clock after a stall, the snapshot of `now` just sent off its phase: the next one goes at the first
   * phase point at least half a period on, not one a few ms away.
   */
  private restartedClock(now: number): number {
    const at = this.onPhaseAtOrBefore(now);
    return at + SNAPSHOT_SECONDS - now < SNAPSHOT_SECONDS / 2 ? at + SNAPSHOT_SECONDS : at;
  }

  private step(): void {
    this.controls.fill(undefined);
    // A dropped player's buffer is not read: its ship gets neutral controls instead of its last held ones.
    for (const player of this.players.values()) if (player.clientIndex !== undefined) this.controls[player.seat] = player.inputs.next();
    this.world.step(this.controls);
  }

  private sendSnapshots(send: RoundSend): void {
    this.snapshotTick = this.world.tick;
    const view = this.world.view();
    this.history.record(view);
    // Receivers who acknowledged the same snapshot get the same bytes: encode each baseline once per tick (most
    // players on a healthy link share one or two, every spectator shares the full one), not once per receiver.
    const byBaseline = this.encoded;
    byBaseline.clear();
    const sendTo = (clientIndex: number, sender: SnapshotSender): void => {
      const baseline = sender.ackedTick ?? -1;
      let bytes = byBaseline.get(baseline);
      if (!bytes) byBaseline.set(baseline, (bytes = sender.encode(view)));
      send(clientIndex, Channel.Snapshot, bytes);
    };
    for (const player of this.players.values()) if (player.clientIndex !== undefined) sendTo(player.clientIndex, player.snapshots);
    for (const [clientIndex, sender] of this.viewers) sendTo(clientIndex, sender);
  }
}
