/**
 * The supervisor's deadlines on an overloaded machine (src/workers/deadline.ts): when the matchmaker's own thread
 * was not running as a deadline passed, what the game posted may still sit queued behind the timer. The
 * supervisor then looks again once the queue had its turn, instead of failing a game that was beating (or had
 * said ready) all along.
 */
import { describe, expect, test } from 'bun:test';
import type { LauncherEvent } from '../../src/workers/launcher.ts';
import { MAX_STALL_DEFERRALS, STALL_MS as SUPERVISOR_STALL_MS } from '../../src/workers/deadline.ts';
import { Supervisor } from '../../src/workers/supervisor.ts';
import { waitFor } from './support/env.ts';

const HEARTBEAT_TIMEOUT_MS = 200;
const HEARTBEAT = { type: 'heartbeat', players: 1, phase: 'lobby' } as const;

function startingGame(startTimeoutMs = 1000): { supervisor: Supervisor; events: LauncherEvent[]; exit: () => LauncherEvent | undefined } {
  const events: LauncherEvent[] = [];
  const supervisor = new Supervisor(
    { port: 1, startTimeoutMs, heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS, stopGraceMs: 100, closeBackstopMs: 1000, noun: 'worker' },
    (e) => events.push(e),
    { deliver: () => true, terminate: () => queueMicrotask(() => supervisor.gone()) },
  );
  return { supervisor, events, exit: () => events.find((e) => e.type === 'exit') };
}

function readyGame(): ReturnType<typeof startingGame> {
  const game = startingGame();
  game.supervisor.message({ type: 'ready', port: 1 });
  return game;
}

/** This thread does nothing else for `ms`: the matchmaker's thread starved of CPU. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: no timer, no message can run
  }
}

describe('the heartbeat deadline when the matchmaker itself stalled', () => {
  test('heartbeats handled after the late deadline keep the game: it is not failed for the watcher’s stall', async () => {
    const game = readyGame();
    stall(HEARTBEAT_TIMEOUT_MS + SUPERVISOR_STALL_MS + 300);
    // What the game posted during the stall reaches the supervisor just after the overdue timer has run.
    setTimeout(() => game.supervisor.message(HEARTBEAT), 20);
    const beating = setInterval(() => game.supervisor.message(HEARTBEAT), HEARTBEAT_TIMEOUT_MS / 4);
    try {
      await Bun.sleep(SUPERVISOR_STALL_MS + 2 * HEARTBEAT_TIMEOUT_MS);
      expect(game.exit()).toBeUndefined();
    } finally {
      clearInterval(beating);
    }
    // Silent from now on, with the watcher on time: failed one timeout later, not deferred.
    const silentFrom = performance.now();
    await waitFor(() => game.exit() !== undefined, 2000, 'heartbeat timeout');
    expect(game.exit()).toEqual({ type: 'exit', cause: 'heartbeat_timeout', detail: `no heartbeat for ${HEARTBEAT_TIMEOUT_MS} ms` });
    expect(performance.now() - silentFrom).toBeLessThan(HEARTBEAT_TIMEOUT_MS + SUPERVISOR_STALL_MS);
  });

  test('a game that really went silent is still failed after a stall, one look later', async () => {
    const game = readyGame();
    stall(HEARTBEAT_TIMEOUT_MS + SUPERVISOR_STALL_MS + 300);
    const resumed = performance.now();
    await Bun.sleep(50);
    expect(game.exit()).toBeUndefined();
    await waitFor(() => game.exit() !== undefined, 3000, 'heartbeat timeout');
    expect(game.exit()).toMatchObject({ cause: 'heartbeat_timeout' });
    const waited = performance.now() - resumed;
    expect(waited).toBeGreaterThanOrEqual(SUPERVISOR_STALL_MS - 50);
    expect(waited).toBeLessThan(4 * SUPERVISOR_STALL_MS);
  });

  test('a watcher that keeps stalling still gives its verdict after a few looks', async () => {
    const game = readyGame();
    // Each look finds the deadline overdue by more than the stall threshold again: the first look and the
    // deferred ones, then the verdict stands however late it is.
    let stalls = 0;
    while (game.exit() === undefined && stalls < 10) {
      // Longer than a deferred look's wait plus the threshold, so every look is late.
      stall(2 * SUPERVISOR_STALL_MS + 100);
      stalls++;
      await Bun.sleep(1);
    }
    expect(game.exit()).toMatchObject({ cause: 'heartbeat_timeout' });
    expect(stalls).toBe(MAX_STALL_DEFERRALS + 1);
  });
});

describe('the start deadline when the matchmaker itself stalled', () => {
  test('a ready handled after the late deadline counts: no start timeout', async () => {
    const game = startingGame(HEARTBEAT_TIMEOUT_MS);
    stall(HEARTBEAT_TIMEOUT_MS + SUPERVISOR_STALL_MS + 300);
    setTimeout(() => game.supervisor.message({ type: 'ready', port: 1 }), 20);
    await Bun.sleep(100);
    expect(game.events).toEqual([{ type: 'ready', port: 1 }]);
    game.supervisor.stop('test over', 0);
    await waitFor(() => game.exit() !== undefined, 2000, 'exit');
  });

  test('on time, a game that never says ready is failed at its start timeout', async () => {
    const game = startingGame(HEARTBEAT_TIMEOUT_MS);
    const started = performance.now();
    await waitFor(() => game.exit() !== undefined, 2000, 'start timeout');
    expect(game.exit()).toEqual({ type: 'exit', cause: 'start_timeout', detail: `not ready within ${HEARTBEAT_TIMEOUT_MS} ms` });
    expect(performance.now() - started).toBeLessThan(HEARTBEAT_TIMEOUT_MS + SUPERVISOR_STALL_MS);
  });
});
