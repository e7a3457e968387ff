import { describe, expect, test } from 'bun:test';
import { ArenaClient } from '../../src/game/arena-client.ts';
import { ArenaRound } from '../../src/game/arena-round.ts';
import { botControls } from '../../src/game/bot-brain.ts';
import { TURN_LEFT, TURN_RIGHT } from '../../src/game/sim/controls.ts';
import { Phase } from '../../src/game/sim/view.ts';
import { Channel } from '../../src/game/peer-link.ts';
import { SNAPSHOT_MAX_BYTES } from '../../src/game/codec/snapshot.ts';
import { TickTimer } from '../../src/workers/tick-timer.ts';

const setup = (roundSeconds = 5) => ({
  difficulty: 'hard' as const,
  roundSeconds,
  players: [
    { index: 0, name: 'ann' },
    { index: 1, name: 'bob' },
    { index: 9, name: 'watcher' },
  ],
});

/** What game-main's Date.now() − performance.now() is like: an epoch in ms with a fraction. */
const EPOCH_MINUS_PERF = 1_764_599_000_000.4567;

describe('ArenaRound', () => {
  test('steps at 30 Hz, snapshots at 20 Hz that clients decode, bot inputs score, the round ends on time', () => {
    const round = new ArenaRound(setup(5), 1234);
    // Receivers by netcode client index: seat 0 on connection 3, seat 1 on connection 4, the watcher seat
    // (no ship beyond slot 7) on connection 5, and a spectator on connection 6.
    const seatOf = new Map([[3, 0], [4, 1]]);
    const clients = new Map([
      [3, new ArenaClient()],
      [4, new ArenaClient()],
      [5, new ArenaClient()],
      [6, new ArenaClient()],
    ]);
    round.connect(0, 3);
    round.connect(1, 4);
    round.connect(9, 5);
    round.addViewer(6);
    const sent = { snapshots: 0, other: 0, maxSnapshot: 0 };
    let now = 100;
    round.begin(now);
    const send = (index: number, channel: number, bytes: Uint8Array) => {
      if (channel === Channel.Snapshot) {
        sent.snapshots++;
        sent.maxSnapshot = Math.max(sent.maxSnapshot, bytes.length);
        clients.get(index)!.receive(bytes);
      } else sent.other++;
    };
    expect(round.secondsLeft()).toBe(5);
    while (!round.isOver()) {
      now += 1 / 60;
      for (const [index, seat] of seatOf) {
        const latest = clients.get(index)!.latest;
        if (latest) expect(round.onMessage(seat, Channel.Input, clients.get(index)!.input(botControls(latest, seat)))).toBe(true);
      }
      round.update(now, send);
      expect(now).toBeLessThan(100 + 6);
    }
    expect(round.secondsLeft()).toBe(0);
    expect(round.world.tick).toBeGreaterThanOrEqual(150);
    // Four receivers, 20 Hz for 5 s; the round itself sends nothing on the reliable channel.
    expect(sent.snapshots).toBeGreaterThan(4 * 20 * 5 * 0.9);
    expect(sent.other).toBe(0);
    expect(sent.maxSnapshot).toBeLessThanOrEqual(SNAPSHOT_MAX_BYTES);
    for (const client of clients.values()) {
      expect(client.rejectedSnapshots).toBe(0);
      expect(client.latest?.tick).toBeGreaterThan(140);
    }
    const scores = round.scores();
    expect(scores.map((s) => s.name).sort()).toEqual(['ann', 'bob']);
    expect(scores.some((s) => s.score > 0)).toBe(true);
  });

  // As game-main runs it: seconds since 1970 (doubles ~0.24 µs apart there), each due time through the loop's
  // millisecond clock and back, which can hand it back a few of those short of what the round asked for.
  test.each([
    ['a small clock', 10, 0, (due: number) => due],
    ['a small clock, phase 0.3', 10.01, 0.3, (due: number) => due],
    ['seconds since 1970 through a ms clock', 1_764_600_000.123, 0, (due: number) => (EPOCH_MINUS_PERF + (due * 1000 - EPOCH_MINUS_PERF)) / 1000],
    ['seconds since 1970 through a ms clock, phase 0.9', 1_764_600_000.123, 0.9, (due: number) => (EPOCH_MINUS_PERF + (due * 1000 - EPOCH_MINUS_PERF)) / 1000],
  ])('driven at its own due times (%s): a snapshot every 50 ms on its phase, the 30 Hz steps due run at each, 20 wakes a second', (_name, start, wakePhase, viaLoop) => {
    const round = new ArenaRound({ ...setup(5), wakePhase }, 42);
    const client = new ArenaClient();
    round.connect(0, 0);
    expect(round.nextDueAt()).toBe(Infinity); // not begun: nothing due
    round.begin(start);
    const snapshotTimes: number[] = [];
    const snapshotTicks: number[] = [];
    let wakes = 0;
    let now = start;
    while (now < start + 2) {
      const next = viaLoop(round.nextDueAt());
      // Every wake moves the game on: none is due again at the time it ran.
      expect(next).toBeGreaterThan(now);
      now = next;
      wakes++;
      round.update(now, (_index, channel, bytes) => {
        if (channel !== Channel.Snapshot) return;
        snapshotTimes.push(now);
        client.receive(bytes);
        snapshotTicks.push(client.latest!.tick);
      });
    }
    // Every step due has run, none ahead of its time (to within the clock's rounding: at seconds since 1970 its
    // doubles are ~0.24 µs apart, and the round adds a tick's length to its clock at every step).
    expect(round.world.tick).toBe(Math.floor((now - start) * 30 + 0.001));
    const gaps = snapshotTimes.slice(1).map((t, i) => t - snapshotTimes[i]!);
    for (const gap of gaps) expect(gap).toBeCloseTo(0.05, 5);
    // The first is the first on the round's phase from the first step on; each shows the newest tick, so
    // consecutive ones are 1 or 2 ticks apart.
    const first = snapshotTimes[0]!;
    expect(first).toBeGreaterThanOrEqual(start + 1 / 30 - 1e-6);
    expect(first).toBeLessThan(start + 1 / 30 + 0.05);
    for (const t of snapshotTimes) {
      const periods = (t - wakePhase * 0.05) / 0.05;
      expect(Math.abs(periods - Math.round(periods))).toBeLessThan(1e-4);
    }
    expect(snapshotTicks[0]).toBeGreaterThanOrEqual(1);
    const tickSteps = new Set(snapshotTicks.slice(1).map((t, i) => t - snapshotTicks[i]!));
    expect([...tickSteps].sort()).toEqual([1, 2]);
    expect(client.rejectedSnapshots).toBe(0);
    // One wake per snapshot: 20 a second, each running the 1 or 2 steps due.
    expect(wakes / 2).toBeGreaterThanOrEqual(19);
    expect(wakes / 2).toBeLessThanOrEqual(21);
    expect(snapshotTimes.length).toBe(wakes);
  });

  test('over ten minutes at seconds since 1970 the snapshots stay on their phase (found again each time, not added)', () => {
    const start = 1_764_600_000.123;
    const round = new ArenaRound({ ...setup(700), wakePhase: 0.4 }, 5);
    round.connect(0, 0);
    round.begin(start);
    let last = start;
    while (last < start + 600) {
      last = round.nextDueAt();
      round.update(last, () => {});
    }
    // Added 0.05 s at a time the schedule drifted ~0.6 ms in 600 s; on the phase it is off by the clock's rounding.
    const periods = (last - 0.4 * 0.05) / 0.05;
    expect(Math.abs(periods - Math.round(periods)) * 0.05).toBeLessThan(2e-6);
  });

  test('after a stall the snapshots restart from now instead of going out back to back', () => {
    const round = new ArenaRound(setup(60), 8);
    let snapshots = 0;
    const count = (_index: number, channel: number) => channel === Channel.Snapshot && snapshots++;
    round.connect(0, 0);
    round.begin(0);
    expect(round.nextDueAt()).toBeCloseTo(0.05, 9); // the first time on its phase (0) after the first step's
    round.update(round.nextDueAt(), count);
    expect(snapshots).toBe(1);
    round.update(2, count); // 2 s late: 5 catch-up steps, then the clock slips to now
    expect(snapshots).toBe(2);
    // Next: the snapshot 50 ms after now, with the step due a tick after now.
    const tick = round.world.tick;
    expect(round.nextDueAt()).toBeCloseTo(2.05, 9);
    round.update(2 + 1 / 30, count); // woken early (the loop wakes for the session too): a step, no snapshot
    expect(snapshots).toBe(2);
    expect(round.world.tick).toBe(tick + 1);
    round.update(2.05, count);
    expect(snapshots).toBe(3);
  });

  // As game-main.ts drives it: each wake run at the time its TickTimer hands back, one wake stalled by 120 ms.
  function snapshotGapsAfterStall(timer: TickTimer): number[] {
    const round = new ArenaRound(setup(60), 8);
    const sentAt: number[] = [];
    let realMs = 0;
    round.connect(0, 0);
    round.begin(0);
    timer.schedule(round.nextDueAt() * 1000);
    for (let wake = 0; wake < 40; wake++) {
      realMs = Math.max(realMs, timer.nextDueMs) + (wake === 10 ? 120 : 0);
      const t = timer.tickStarted(realMs) / 1000;
      round.update(t, (_index, channel) => channel === Channel.Snapshot && sentAt.push(realMs));
      timer.tickEnded(realMs);
      timer.schedule(Math.max(round.nextDueAt(), t + 0.001) * 1000);
    }
    return sentAt.slice(1).map((at, i) => at - sentAt[i]!);
  }

  test('a wake 120 ms late restarts the snapshots with the game loop’s stall threshold, not sends three at once', () => {
    const gaps = snapshotGapsAfterStall(new TickTimer(1000 / 30, 0, 50));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(25);
    // With the default threshold (5 periods of 30 Hz, 167 ms) that wake ran at its due time: a burst.
    expect(Math.min(...snapshotGapsAfterStall(new TickTimer(1000 / 30, 0)))).toBeLessThan(1);
  });

  test('after a stall the schedule keeps its phase; a phase outside [0, 1) is refused', () => {
    const round = new ArenaRound({ ...setup(60), wakePhase: 0.3 }, 8);
    round.connect(0, 0);
    round.begin(0);
    expect(round.nextDueAt()).toBeCloseTo(0.065, 9); // 15 ms into each 50 ms, the first after the first step
    round.update(2.013, () => {}); // late by seconds: the snapshot goes now, the next on the phase again, but
    expect(round.nextDueAt()).toBeCloseTo(2.065, 9); // not at 2.015, 2 ms after this one: half a period on at least
    round.update(2.065, () => {});
    expect(round.nextDueAt()).toBeCloseTo(2.115, 9);
    round.update(4.03, () => {}); // another stall, 35 ms before a phase point (4.015 + 0.05): that one is far enough
    expect(round.nextDueAt()).toBeCloseTo(4.065, 9);
    for (const wakePhase of [1, -0.1, Number.NaN]) expect(() => new ArenaRound({ ...setup(60), wakePhase }, 8)).toThrow(RangeError);
  });

  test('a player who leaves keeps the score earned; garbage inputs are refused', () => {
    const round = new ArenaRound(setup(3), 99);
    round.connect(0, 0);
    round.begin(0);
    expect(round.onMessage(0, Channel.Input, new Uint8Array([9, 9, 9]))).toBe(false);
    expect(round.onMessage(0, Channel.Snapshot, new Uint8Array(11))).toBe(false);
    expect(round.onCommand()).toBe(false);
    const client = new ArenaClient();
    let now = 0;
    for (let i = 0; i < 60; i++) {
      now += 1 / 30;
      if (client.latest) round.onMessage(0, Channel.Input, client.input(botControls(client.latest, 0)));
      round.update(now, (index, channel, bytes) => index === 0 && channel === Channel.Snapshot && client.receive(bytes));
    }
    const before = round.scores().find((s) => s.name === 'ann')!.score;
    round.removePlayer(0);
    expect(round.scores().find((s) => s.name === 'ann')).toEqual({ index: 0, name: 'ann', score: before, left: true });
    // bob never connected: his seat is held, his ship waits, he is shown as away.
    expect(round.scores().find((s) => s.name === 'bob')).toEqual({ index: 1, name: 'bob', score: 0, connected: false });
    expect(round.world.view().ships.map((s) => s.slot)).toEqual([1]);
  });

  test('a dropped seat waits with neutral controls; a rejoin gets a fresh input buffer and snapshot stream', () => {
    const round = new ArenaRound({ difficulty: 'easy', roundSeconds: 30, players: [{ index: 0, name: 'ann' }] }, 7);
    round.connect(0, 0);
    round.begin(0);
    let client = new ArenaClient();
    let now = 0;
    let to: number | undefined = 0;
    const tick = (controls: number) => {
      now += 1 / 30;
      if (client.latest && to !== undefined) round.onMessage(0, Channel.Input, client.input(controls));
      round.update(now, (index, channel, bytes) => index === to && channel === Channel.Snapshot && client.receive(bytes));
    };
    const ship = () => round.world.view().ships.find((s) => s.slot === 0)!;
    const angleAtStart = ship().angle;
    for (let i = 0; i < 30; i++) tick(TURN_LEFT);
    const angleWhileConnected = ship().angle;
    expect(angleWhileConnected).not.toBe(angleAtStart);
    round.disconnect(0);
    to = undefined;
    expect(round.scores()[0]).toMatchObject({ connected: false });
    // The last controls (turning) would be held for a player whose packets are late; a dropped one gets none.
    for (let i = 0; i < 30; i++) tick(0);
    const angleWhileDropped = ship().angle;
    expect(angleWhileDropped).toBe(angleWhileConnected);
    // The rejoining client counts its ticks from zero and holds no baseline: it must still be heard and decode.
    client = new ArenaClient();
    round.connect(0, 9);
    to = 9;
    for (let i = 0; i < 15; i++) tick(TURN_RIGHT);
    expect(client.rejectedSnapshots).toBe(0);
    expect(client.receivedSnapshots).toBeGreaterThan(5);
    expect(ship().angle).not.toBe(angleWhileDropped);
    expect(round.scores()[0]!.connected).toBeUndefined();
  });

  test('the world runs through the countdown: snapshots flow, nothing moves, the round clock is whole', () => {
    const round = new ArenaRound({ ...setup(5), countdownSeconds: 2 }, 3);
    const client = new ArenaClient();
    round.connect(0, 0);
    round.begin(0);
    let now = 0;
    for (let i = 0; i < 30; i++) {
      now += 1 / 30;
      round.update(now, (_index, _channel, bytes) => client.receive(bytes));
    }
    expect(client.latest?.phase).toBe(Phase.countdown);
    expect(client.latest?.ships.map((s) => s.slot)).toEqual([0, 1]);
    expect(round.secondsLeft()).toBe(5);
    for (let i = 0; i < 40; i++) {
      now += 1 / 30;
      round.update(now, (_index, _channel, bytes) => client.receive(bytes));
    }
    expect(client.latest?.phase).toBe(Phase.playing);
    expect(round.secondsLeft()).toBeLessThanOrEqual(5);
  });

  test('catches up after a stall without spiralling', () => {
    const round = new ArenaRound(setup(60), 5);
    round.begin(0);
    round.update(10, () => {});
    expect(round.world.tick).toBe(5);
    round.update(10 + 1 / 30, () => {});
    expect(round.world.tick).toBe(6);
  });
});
