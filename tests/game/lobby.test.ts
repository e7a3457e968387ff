import { describe, expect, test } from 'bun:test';
import { Lobby } from '../../src/game/lobby.ts';

describe('Lobby', () => {
  test('the door is open only before the start and while seats are free', () => {
    const lobby = new Lobby(2, 300, 0);
    expect(lobby.canSeat(0)).toBe(true);
    expect(lobby.canSeat(1)).toBe(true);
    expect(lobby.canSeat(2)).toBe(false);
    lobby.requestStart(true, 'easy', 1);
    expect(lobby.canSeat(0)).toBe(false);
  });

  test('only the host starts, with a known difficulty, and a refused start reopens the lobby', () => {
    const lobby = new Lobby(8, 300, 0);
    expect(lobby.requestStart(false, 'hard', 1)).toBe('not-host');
    expect(lobby.requestStart(true, 'insane', 1)).toBe('bad-difficulty');
    expect(lobby.requestStart(true, 'hard', 1)).toBeUndefined();
    expect(lobby.phase).toBe('starting');
    expect(lobby.requestStart(true, 'hard', 1)).toBe('not-open');
    lobby.startFailed(2);
    expect(lobby.phase).toBe('open');
    expect(lobby.requestStart(true, 'easy', 3)).toBeUndefined();
    lobby.begin();
    expect(lobby.phase).toBe('begun');
    expect(lobby.canSeat(0)).toBe(false);
  });

  test('an idle lobby expires; activity postpones it; a begun game never idles out', () => {
    const lobby = new Lobby(8, 10, 0);
    expect(lobby.idleExpired(9.9)).toBe(false);
    lobby.touch(9);
    expect(lobby.idleExpired(18)).toBe(false);
    expect(lobby.secondsUntilIdleClose(18)).toBeCloseTo(1);
    expect(lobby.idleExpired(19)).toBe(true);
    lobby.requestStart(true, 'easy', 19);
    lobby.begin();
    expect(lobby.idleExpired(100)).toBe(false);
  });
});
