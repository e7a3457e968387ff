import { describe, expect, test } from 'bun:test';
import { ArenaClient } from '../../src/game/arena-client.ts';
import { ArenaRound } from '../../src/game/arena-round.ts';
import { botControls } from '../../src/game/bot-brain.ts';
import { decodeServerMessage } from '../../src/game/messages.ts';
import { Channel } from '../../src/game/peer-link.ts';
import { SNAPSHOT_MAX_BYTES } from '../../src/game/codec/snapshot.ts';

const setup = (roundSeconds = 5) => ({
  difficulty: 'hard' as const,
  roundSeconds,
  players: [
    { index: 0, name: 'ann' },
    { index: 1, name: 'bob' },
    { index: 9, name: 'watcher' },
  ],
});

describe('ArenaRound', () => {
  test('steps at 30 Hz, snapshots at 20 Hz that clients decode, bot inputs score, the round ends on time', () => {
    const round = new ArenaRound(setup(5), 1234);
    const clients = new Map([
      [0, new ArenaClient()],
      [1, new ArenaClient()],
    ]);
    const sent = { snapshots: 0, reliable: 0, maxSnapshot: 0 };
    let now = 100;
    round.begin(now);
    const send = (index: number, channel: number, bytes: Uint8Array) => {
      if (channel === Channel.Snapshot) {
        sent.snapshots++;
        sent.maxSnapshot = Math.max(sent.maxSnapshot, bytes.length);
        clients.get(index)?.receive(bytes);
      } else {
        sent.reliable++;
        expect(decodeServerMessage(bytes)?.type).toBe('round');
      }
    };
    while (!round.isOver()) {
      now += 1 / 60;
      for (const [index, client] of clients) {
        const latest = client.latest;
        if (latest) expect(round.onMessage(index, Channel.Input, client.input(botControls(latest, index)))).toBe(true);
      }
      round.update(now, send);
      expect(now).toBeLessThan(100 + 6);
    }
    expect(round.world.tick).toBeGreaterThanOrEqual(150);
    // Two players, 20 Hz for 5 s.
    expect(sent.snapshots).toBeGreaterThan(2 * 20 * 5 * 0.9);
    expect(sent.maxSnapshot).toBeLessThanOrEqual(SNAPSHOT_MAX_BYTES);
    for (const client of clients.values()) {
      expect(client.rejectedSnapshots).toBe(0);
      expect(client.latest?.tick).toBeGreaterThan(140);
    }
    const scores = round.scores();
    expect(scores.map((s) => s.name).sort()).toEqual(['ann', 'bob']);
    expect(scores.some((s) => s.score > 0)).toBe(true);
  });

  test('a player who leaves keeps the score earned; garbage inputs are refused', () => {
    const round = new ArenaRound(setup(3), 99);
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
    expect(round.scores().find((s) => s.name === 'ann')?.score).toBe(before);
    expect(round.world.view().ships.map((s) => s.slot)).toEqual([1]);
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
